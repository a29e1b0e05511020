"""The security part of Logto's Account API (`routes/account/logto-config.ts`, `mfa-verifications.ts`): the
caller's logto configs and MFA factors. Each use case checks, in Logto's order, the verification record named
by `logto-verification-id` (where Logto wants one), the account center field (`mfa`; `passkey`, else `mfa`,
for logto configs) and the token's `identities` scope; identity applies the change through its RPCs, so
secrets stay there. (Sessions and grants are not served yet: identity's OIDC does not grant Logto's sessions
scope.) A social identity's kept provider access token is read here too, behind the `social` field; so is an
enterprise SSO identity's kept IdP access token, with the same checks."""

from typing import Any

from gatehouse_platform.errors import BadRequest, Unauthorized
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.queries.management import sign_in_settings
from gatehouse_schema.rpc.identity import (
    USER_BACKUP_CODES,
    USER_BIND_BACKUP_CODES,
    USER_BIND_TOTP,
    USER_DELETE_MFA,
    USER_LOGTO_CONFIGS,
    USER_MFA_VERIFICATIONS,
    USER_SOCIAL_ACCESS_TOKEN,
    USER_SSO_ACCESS_TOKEN,
    USER_UPDATE_LOGTO_CONFIGS,
    AccountDocument,
    AccountDone,
    AccountUser,
    BindBackupCodes,
    BindTotp,
    DeleteMfa,
    SocialAccessToken,
    SsoAccessToken,
    UpdateLogtoConfigs,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_experience.account import EDIT, READ_ONLY, Caller
from gatehouse_experience.verifications import Verifications

IDENTITIES_SCOPE = "identities"  # Logto's `UserScope.Identities`
TOTP, BACKUP_CODE = "Totp", "BackupCode"


def require_scope(caller: Caller, scope: str) -> None:
    if scope not in caller.scopes:
        raise Unauthorized("auth.unauthorized")


def require_field(control: str | None, edit: bool) -> None:
    if edit and control != EDIT:
        raise BadRequest("account_center.field_not_editable")
    if not edit and control not in (EDIT, READ_ONLY):
        raise BadRequest("account_center.field_not_enabled")


class AccountSecurity:
    def __init__(self, engine: AsyncEngine, rpc: RpcClient, verifications: Verifications) -> None:
        self.engine = engine
        self.rpc = rpc
        self.verifications = verifications

    async def _verified(self, tenant_id: str, caller: Caller, verification_id: str | None) -> None:
        await self.verifications.require_identity_verified(tenant_id, caller.user.id, verification_id)

    async def _document(self, command: str, request: Any) -> Any:
        return (await self.rpc.call("identity", command, request, AccountDocument)).body

    # logto configs: `fields.passkey ?? fields.mfa`, the `identities` scope, no verification record

    async def logto_configs(self, caller: Caller) -> Any:
        require_scope(caller, IDENTITIES_SCOPE)
        require_field(self._passkey_control(caller), edit=False)
        return await self._document(USER_LOGTO_CONFIGS, AccountUser(user_id=caller.user.id))

    async def update_logto_configs(self, caller: Caller, changes: dict[str, Any]) -> Any:
        require_scope(caller, IDENTITIES_SCOPE)
        require_field(self._passkey_control(caller), edit=True)
        request = UpdateLogtoConfigs(user_id=caller.user.id, **changes)
        return await self._document(USER_UPDATE_LOGTO_CONFIGS, request)

    @staticmethod
    def _passkey_control(caller: Caller) -> str | None:
        fields = caller.center.fields
        return fields.get("passkey") or fields.get("mfa")

    # MFA factors: the `mfa` field, the `identities` scope; changes need a verification record

    async def mfa_verifications(self, caller: Caller) -> Any:
        require_field(caller.center.fields.get("mfa"), edit=False)
        require_scope(caller, IDENTITIES_SCOPE)
        return await self._document(USER_MFA_VERIFICATIONS, AccountUser(user_id=caller.user.id))

    async def _mfa_change(self, tenant_id: str, caller: Caller, verification_id: str | None) -> None:
        await self._verified(tenant_id, caller, verification_id)
        require_field(caller.center.fields.get("mfa"), edit=True)
        require_scope(caller, IDENTITIES_SCOPE)

    async def add_mfa(self, tenant_id: str, caller: Caller, verification_id: str | None, body: dict[str, Any]) -> None:
        """`body` is Logto's union by `type`: `Totp` with `secret` (and `code`), `BackupCode` with `codes`."""
        await self._mfa_change(tenant_id, caller, verification_id)
        async with self.engine.connect() as conn:
            settings = await sign_in_settings(conn, tenant_id) or {}
        if body["type"] not in ((settings.get("mfa") or {}).get("factors") or []):
            raise BadRequest("session.mfa.mfa_factor_not_enabled")
        user_id = caller.user.id
        if body["type"] == TOTP:
            request: BindTotp | BindBackupCodes = BindTotp(
                user_id=user_id, secret=body["secret"], code=body.get("code")
            )
            await self.rpc.call("identity", USER_BIND_TOTP, request, AccountDone)
        else:
            request = BindBackupCodes(user_id=user_id, codes=body["codes"])
            await self.rpc.call("identity", USER_BIND_BACKUP_CODES, request, AccountDone)

    async def delete_mfa(self, tenant_id: str, caller: Caller, verification_id: str | None, factor_id: str) -> None:
        await self._mfa_change(tenant_id, caller, verification_id)
        request = DeleteMfa(user_id=caller.user.id, verification_id=factor_id)
        await self.rpc.call("identity", USER_DELETE_MFA, request, AccountDone)

    async def backup_codes(self, tenant_id: str, caller: Caller, verification_id: str | None) -> Any:
        """Logto checks no account center field here, only the record and the `identities` scope."""
        await self._verified(tenant_id, caller, verification_id)
        require_scope(caller, IDENTITIES_SCOPE)
        return await self._document(USER_BACKUP_CODES, AccountUser(user_id=caller.user.id))

    # social identities' kept tokens: the `social` field, the `identities` scope

    async def social_access_token(self, caller: Caller, target: str) -> Any:
        """The provider access token kept for the caller's identity at `target` (identity opens the vault and
        refreshes an expired one)."""
        require_field(caller.center.fields.get("social"), edit=False)
        require_scope(caller, IDENTITIES_SCOPE)
        return await self._document(USER_SOCIAL_ACCESS_TOKEN, SocialAccessToken(user_id=caller.user.id, target=target))

    async def sso_access_token(self, caller: Caller, connector_id: str) -> Any:
        """The IdP access token kept for the caller's enterprise SSO identity through `connector_id` (Logto's
        `GET /api/my-account/sso-identities/{connectorId}/access-token`), checked as the social one."""
        require_field(caller.center.fields.get("social"), edit=False)
        require_scope(caller, IDENTITIES_SCOPE)
        request = SsoAccessToken(user_id=caller.user.id, connector_id=connector_id)
        return await self._document(USER_SSO_ACCESS_TOKEN, request)
