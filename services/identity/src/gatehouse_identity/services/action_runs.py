"""Where Logto's Actions run in a sign-in. Identity runs them, as it owns the users, their passwords and the
action configs; experience asks over RPC (`user.verify_password` with `interactionEvent: SignIn`,
`user.post_sign_in_action`).

- PostFirstFactorVerification (`action.postFirstFactorVerification`): a `SignIn` password that identity's own
  check refused (or an identifier no user has) goes to the script, which may verify it and have the user
  created or updated with the submitted password (a migration from another user store). Anything else than
  such a verification, a script failure under either error policy included, keeps the original refusal.
- PostSignIn (`action.postSignIn`): just before the sign-in is reported, the script sees the user and may
  patch them; a failing script blocks the sign-in (400 `session.verification_failed`) unless its config says
  `onExecutionError: 'allow'`.

Both changes go through the user use cases (`UserService.create` / `update`), so they publish `User.Created`
/ `User.Data.Updated` as any other user change does."""

from typing import Any

import msgspec
from gatehouse_platform.errors import BadRequest, GatehouseError, NotFound
from gatehouse_schema.queries.organizations import user_organizations
from gatehouse_schema.rpc.identity import PasswordIdentifier
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.api.user_bodies import CreateUser, UpdateUser
from gatehouse_identity.domain.action_results import (
    CREATE_USER,
    IDENTIFIER_KEYS,
    first_factor_provisioning,
    post_sign_in_patch,
    verification_failed,
)
from gatehouse_identity.persistence.action_configs import POST_FIRST_FACTOR_VERIFICATION, POST_SIGN_IN
from gatehouse_identity.persistence.user_identities import UserIdentityStore
from gatehouse_identity.persistence.users import UserRecord, UserStore
from gatehouse_identity.services.actions import ActionConfigService, ActionScriptFailed, execute
from gatehouse_identity.services.users import UserService

SIGN_IN = "SignIn"
PASSWORD = "Password"
INVALID_CREDENTIALS = "session.invalid_credentials"


def action_user(record: UserRecord) -> dict[str, Any]:
    """Logto's `ActionUser`: the user as PostFirstFactorVerification's script sees them."""
    user = record.user
    return {
        "id": user.id,
        "username": user.username,
        "primaryEmail": user.primary_email,
        "primaryPhone": user.primary_phone,
        "name": user.name,
        "avatar": user.avatar,
        "customData": user.custom_data,
        "profile": user.profile,
    }


def mfa_factors(record: UserRecord) -> list[str]:
    """The types of the user's MFA factors, each once."""
    types = (str(f.get("type", "")) for f in record.mfa_verifications if isinstance(f, dict))
    return list(dict.fromkeys(t for t in types if t))


class ActionRuns:
    def __init__(
        self,
        engine: AsyncEngine,
        configs: ActionConfigService,
        users: UserService,
        store: UserStore,
        identities: UserIdentityStore,
    ) -> None:
        self.engine = engine
        self.configs = configs
        self.users = users
        self.store = store
        self.identities = identities

    # PostSignIn

    async def user_context(self, tenant_id: str, user_id: str) -> dict[str, Any]:
        """Logto's JWT customizer user context, as far as identity holds it: the user's profile fields (Logto's
        `userInfo`), `hasPassword`, `ssoIdentities`, `mfaVerificationFactors` and `organizations`. `roles` and
        `organizationRoles` are left out: the reads other contexts offer give role names only."""
        async with self.engine.connect() as conn:
            record = await self.store.record(conn, tenant_id, user_id)
            if record is None:
                raise NotFound("entity.not_exists_with_id", name="user", id=user_id)
            sso = await self.identities.sso_identities(conn, tenant_id, user_id)
            memberships = await user_organizations(conn, tenant_id, user_id)
        context: dict[str, Any] = msgspec.to_builtins(record.user)
        context.pop("cimdClientId", None)  # not one of Logto's user context fields
        context["ssoIdentities"] = [{"issuer": s.issuer, "identityId": s.identity_id, "detail": s.detail} for s in sso]
        context["mfaVerificationFactors"] = mfa_factors(record)
        context["organizations"] = [{"id": m.id, "name": m.name, "description": m.description} for m in memberships]
        return context

    async def post_sign_in(self, tenant_id: str, user_id: str) -> None:
        """Runs the enabled PostSignIn action for the user and applies the patch it returns."""
        config = await self.configs.enabled(tenant_id, POST_SIGN_IN)
        if config is None:
            return
        event = {"key": POST_SIGN_IN, "interactionEvent": SIGN_IN, "user": await self.user_context(tenant_id, user_id)}
        try:
            result = await execute(config["script"], event, config.get("environmentVariables") or {})
        except ActionScriptFailed:
            if config.get("onExecutionError") == "allow":
                return
            raise verification_failed() from None
        patch = post_sign_in_patch(result)  # invalid results block whatever the error policy
        if patch is not None:
            await self.users.update(tenant_id, user_id, patch, None, merge=True)

    # PostFirstFactorVerification

    async def post_first_factor_verification(
        self,
        tenant_id: str,
        identifier: PasswordIdentifier,
        password: str,
        record: UserRecord | None,
        refused: GatehouseError,
    ) -> str:
        """The user whose password the enabled action verified, created or updated by its result; `refused`
        (identity's own answer) is raised again when the action is off, fails or does not verify it."""
        config = await self.configs.enabled(tenant_id, POST_FIRST_FACTOR_VERIFICATION)
        if config is None:
            raise refused
        event = {
            "key": POST_FIRST_FACTOR_VERIFICATION,
            "interactionEvent": SIGN_IN,
            "verificationType": PASSWORD,
            "identifier": {"type": identifier.type, "value": identifier.value},
            "user": None if record is None else action_user(record),
            "password": password,
        }
        environment = config.get("environmentVariables") or {}
        try:
            result = await execute(config["script"], event, environment, secrets=[password])
        except ActionScriptFailed:  # both error policies fall back to the refusal here
            raise refused from None
        provisioning = first_factor_provisioning(result, identifier.type, identifier.value, record is not None)
        if provisioning is None:
            raise refused
        if provisioning.action == CREATE_USER:
            return await self._create(tenant_id, identifier, provisioning.patch, password)
        assert record is not None  # `updateUser` of nobody is a conflict
        await self.users.update(tenant_id, record.user.id, provisioning.patch, None, merge=True, password=password)
        return record.user.id

    async def _create(self, tenant_id: str, identifier: PasswordIdentifier, patch: UpdateUser, password: str) -> str:
        """The user the identifier names, with the patch and the submitted password, created as `POST /api/users`
        creates one (`User.Created`); a null in the patch leaves the field empty."""
        profile = {k: v for k, v in msgspec.to_builtins(patch).items() if v is not None}
        fields = {IDENTIFIER_KEYS[identifier.type]: identifier.value, **profile, "password": password}
        try:
            body = msgspec.convert(fields, CreateUser)
        except msgspec.ValidationError as error:
            raise BadRequest("guard.invalid_input", data={"message": str(error)}) from None
        return (await self.users.create(tenant_id, body, None)).id
