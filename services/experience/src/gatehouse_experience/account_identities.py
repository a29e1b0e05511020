"""The social identities of Logto's Account API (`routes/account/identities.ts`, the `PUT` of
`third-party-tokens.ts`): the signed-in user links the social account a verified `Social` verification record
proves (`verifications.py`), or puts it in place of their identity at its target (`PUT`, which adds it when there
is none), unlinks one, or keeps a record's token set for one of their identities. Experience checks, in Logto's
order, the verification record in `logto-verification-id` (only when the user has a password, primary email or
phone to verify with), the account center's `social` field and the `identities` scope, then the `Social` record;
identity applies the change (`user.link_social`, with `replace` for the `PUT`; `user.unlink_social`,
`user.keep_social_token_set`), so the token sets stay sealed until they reach its vault.

Logto's codes: 401 `verification_record.permission_denied`, 400 `account_center.field_not_editable`, the scope
401 `auth.unauthorized` (400 for the unlink, whose assert has no status), 400 `verification_record.not_found` for
a record that is not a verified `Social` record of the user, then identity's. Keeping a token set answers 422
`verification_record.social_verification.invalid_target` when the record's connector is not of the target. It
needs the `identities` scope (Logto's PR #9116) and, as the token's `GET` here, a readable `social` field."""

from typing import Any

from gatehouse_platform.errors import BadRequest, Unprocessable
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.rpc.identity import (
    USER_KEEP_SOCIAL_TOKEN_SET,
    USER_LINK_SOCIAL,
    USER_UNLINK_SOCIAL,
    AccountDocument,
    AccountDone,
    KeepSocialTokenSet,
    LinkSocial,
    UnlinkSocial,
)

from gatehouse_experience.account import Caller, has_verification_method
from gatehouse_experience.account_security import IDENTITIES_SCOPE, require_field, require_scope
from gatehouse_experience.verifications import Verifications

SOCIAL_FIELD = "social"


class AccountIdentities:
    def __init__(self, rpc: RpcClient, verifications: Verifications) -> None:
        self.rpc = rpc
        self.verifications = verifications

    async def _verified_if_required(self, tenant_id: str, caller: Caller, verification_id: str | None) -> None:
        if has_verification_method(caller.user):
            await self.verifications.require_identity_verified(tenant_id, caller.user.id, verification_id)

    async def link(
        self, tenant_id: str, caller: Caller, verification_id: str | None, record_id: str, *, replace: bool = False
    ) -> None:
        """`POST /api/my-account/identities`; with `replace`, its `PUT` (the same checks; the identity replaces the
        user's one at its target, or is added)."""
        await self._verified_if_required(tenant_id, caller, verification_id)
        caller.editable(SOCIAL_FIELD)
        require_scope(caller, IDENTITIES_SCOPE)
        identity = await self.verifications.verified_social(tenant_id, caller.user.id, record_id)
        request = LinkSocial(user_id=caller.user.id, identity=identity, replace=replace)
        await self.rpc.call("identity", USER_LINK_SOCIAL, request, AccountDone)

    async def unlink(self, tenant_id: str, caller: Caller, verification_id: str | None, target: str) -> None:
        """`DELETE /api/my-account/identities/{target}`."""
        await self._verified_if_required(tenant_id, caller, verification_id)
        caller.editable(SOCIAL_FIELD)
        if IDENTITIES_SCOPE not in caller.scopes:
            raise BadRequest("auth.unauthorized")
        request = UnlinkSocial(user_id=caller.user.id, target=target)
        await self.rpc.call("identity", USER_UNLINK_SOCIAL, request, AccountDone)

    async def keep_token_set(self, tenant_id: str, caller: Caller, target: str, record_id: str) -> Any:
        """`PUT /api/my-account/identities/{target}/access-token`: the kept access token, as its `GET` answers."""
        require_field(caller.center.fields.get(SOCIAL_FIELD), edit=False)
        require_scope(caller, IDENTITIES_SCOPE)
        identity = await self.verifications.verified_social(tenant_id, caller.user.id, record_id)
        if identity.target != target:
            raise Unprocessable(
                "verification_record.social_verification.invalid_target", expected=target, actual=identity.target
            )
        request = KeepSocialTokenSet(user_id=caller.user.id, identity=identity)
        return (await self.rpc.call("identity", USER_KEEP_SOCIAL_TOKEN_SET, request, AccountDocument)).body
