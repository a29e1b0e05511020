"""The Account API's security commands (`user.logto_configs`, the MFA ones;
Structs in `gatehouse_schema.rpc.identity`): experience has checked the caller's token, account center and
verification record, identity applies Logto's rules with the services of the Users API, so TOTP secrets and
backup codes are judged here and replies are already in Logto's response shape."""

from typing import Any

import msgspec
from gatehouse_platform.errors import BadRequest, NotFound
from gatehouse_platform.service import ServiceContext
from gatehouse_schema.events import Actor
from gatehouse_schema.rpc.identity import (
    USER_BACKUP_CODES,
    USER_BIND_BACKUP_CODES,
    USER_BIND_TOTP,
    USER_DELETE_MFA,
    USER_LOGTO_CONFIGS,
    USER_MFA_VERIFICATIONS,
    USER_UPDATE_LOGTO_CONFIGS,
    AccountDocument,
    AccountDone,
    AccountUser,
    BindBackupCodes,
    BindTotp,
    DeleteMfa,
    UpdateLogtoConfigs,
)

from gatehouse_identity.api.user_bodies import LogtoConfigPatch, LogtoConfigs
from gatehouse_identity.domain import mfa
from gatehouse_identity.persistence.users import UserStore
from gatehouse_identity.services.user_mfa import UserMfaService
from gatehouse_identity.services.user_records import user_record
from gatehouse_identity.services.users import UserService


def _actor(user_id: str) -> Actor:
    return Actor(type="user", id=user_id)


def register_account_security_rpc(
    ctx: ServiceContext, users: UserService, factors: UserMfaService, store: UserStore
) -> None:
    tenant_id = ctx.settings.default_tenant_id

    def document(body: Any) -> AccountDocument:
        return AccountDocument(body=msgspec.to_builtins(body))

    async def logto_configs(request: AccountUser) -> AccountDocument:
        return document(msgspec.convert(await users.logto_configs(tenant_id, request.user_id), LogtoConfigs))

    async def update_logto_configs(request: UpdateLogtoConfigs) -> AccountDocument:
        fields = msgspec.to_builtins(request)
        fields.pop("userId")
        try:
            patch = msgspec.convert(fields, LogtoConfigPatch)
        except msgspec.ValidationError as error:
            raise BadRequest("guard.invalid_input", data={"message": str(error)}) from None
        config = await users.update_logto_configs(tenant_id, request.user_id, patch, _actor(request.user_id))
        return document(msgspec.convert(config, LogtoConfigs))

    ctx.rpc_server.register(USER_LOGTO_CONFIGS, AccountUser, logto_configs)
    ctx.rpc_server.register(USER_UPDATE_LOGTO_CONFIGS, UpdateLogtoConfigs, update_logto_configs)
    register_account_mfa_rpc(ctx, factors, store)


def register_account_mfa_rpc(ctx: ServiceContext, factors: UserMfaService, store: UserStore) -> None:
    tenant_id = ctx.settings.default_tenant_id

    async def stored_factors(user_id: str) -> list[dict[str, Any]]:
        async with ctx.engine.connect() as conn:
            record = await user_record(store, conn, tenant_id, user_id)
        return [dict(f) for f in record.mfa_verifications if isinstance(f, dict)]

    async def list_factors(request: AccountUser) -> AccountDocument:
        return AccountDocument(body=await factors.factors(tenant_id, request.user_id))

    async def backup_codes(request: AccountUser) -> AccountDocument:
        found = next((f for f in await stored_factors(request.user_id) if f.get("type") == mfa.BACKUP_CODE), None)
        if found is None:
            raise NotFound("verification_record.not_found")
        codes = [{k: c[k] for k in ("code", "usedAt") if c.get(k)} for c in found.get("codes") or []]
        return AccountDocument(body={"codes": codes})

    async def bind_totp(request: BindTotp) -> AccountDone:
        """Logto's order: one TOTP per user (422), a valid secret (400), then the code when one is given."""
        mfa.check_totp_can_bind(await stored_factors(request.user_id))
        if not mfa.valid_totp_secret(request.secret):
            raise BadRequest("user.totp_secret_invalid")
        if request.code and not mfa.totp_matches(request.secret, request.code):
            raise BadRequest("session.mfa.invalid_totp_code")
        await factors.bind_totp(tenant_id, request.user_id, request.secret, "", _actor(request.user_id))
        return AccountDone(user_id=request.user_id)

    async def bind_backup_codes(request: BindBackupCodes) -> AccountDone:
        await factors.bind_backup_codes(tenant_id, request.user_id, request.codes, _actor(request.user_id))
        return AccountDone(user_id=request.user_id)

    async def delete_factor(request: DeleteMfa) -> AccountDone:
        try:
            await factors.delete(tenant_id, request.user_id, request.verification_id, _actor(request.user_id))
        except NotFound:
            raise BadRequest("verification_record.not_found") from None
        return AccountDone(user_id=request.user_id)

    ctx.rpc_server.register(USER_MFA_VERIFICATIONS, AccountUser, list_factors)
    ctx.rpc_server.register(USER_BACKUP_CODES, AccountUser, backup_codes)
    ctx.rpc_server.register(USER_BIND_TOTP, BindTotp, bind_totp)
    ctx.rpc_server.register(USER_BIND_BACKUP_CODES, BindBackupCodes, bind_backup_codes)
    ctx.rpc_server.register(USER_DELETE_MFA, DeleteMfa, delete_factor)


__all__ = ["register_account_security_rpc"]
