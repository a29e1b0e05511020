"""The user commands experience calls: `<prefix>.rpc.identity.user.verify_password`, `user.verify_totp`,
`user.consume_backup_code` and `user.create` (Structs in `gatehouse_schema.rpc.identity`). Identity owns
users, their password digests and MFA secrets, so a sign-in's checks run here: digests and secrets never
leave the service."""

import msgspec
from gatehouse_platform.errors import BadRequest, Unauthorized, Unprocessable
from gatehouse_platform.service import ServiceContext
from gatehouse_schema.rpc.identity import (
    USER_CONSUME_BACKUP_CODE,
    USER_CREATE,
    USER_VERIFY_PASSWORD,
    USER_VERIFY_TOTP,
    ConsumeBackupCode,
    CreatedUser,
    CreateUser,
    TotpVerified,
    VerifiedUser,
    VerifyPassword,
    VerifyTotp,
)

from gatehouse_identity.api.user_bodies import CreateUser as CreateUserBody
from gatehouse_identity.domain import mfa
from gatehouse_identity.persistence.users import UserStore
from gatehouse_identity.services.user_mfa import UserMfaService
from gatehouse_identity.services.users import UserService

IDENTIFIER_TYPES = frozenset({"username", "email", "phone"})


def register_user_rpc(ctx: ServiceContext, users: UserService, store: UserStore, factors: UserMfaService) -> None:
    tenant_id = ctx.settings.default_tenant_id

    async def verify_password(request: VerifyPassword) -> VerifiedUser:
        identifier = request.identifier
        if identifier.type not in IDENTIFIER_TYPES or not identifier.value:
            raise Unprocessable("session.invalid_credentials")
        async with ctx.engine.connect() as conn:
            record = await store.find_by_identifier(conn, tenant_id, identifier.type, identifier.value)
        if record is None:
            raise Unprocessable("session.invalid_credentials")
        await users.verify_password(tenant_id, record.user.id, request.password)  # 422 session.invalid_credentials
        if record.user.is_suspended:
            raise Unauthorized("user.suspended")
        factors = [f.get("type", "") for f in record.mfa_verifications if isinstance(f, dict)]
        return VerifiedUser(user_id=record.user.id, mfa_factors=factors)

    async def verify_totp(request: VerifyTotp) -> TotpVerified:
        async with ctx.engine.connect() as conn:
            record = await store.record(conn, tenant_id, request.user_id)
        secrets = [
            str(f.get("key"))
            for f in (record.mfa_verifications if record is not None else [])
            if isinstance(f, dict) and f.get("type") == mfa.TOTP and f.get("key")
        ]
        if not any(mfa.totp_matches(secret, request.code.strip()) for secret in secrets):
            raise BadRequest("session.mfa.invalid_totp_code")
        return TotpVerified(user_id=request.user_id)

    async def create(request: CreateUser) -> CreatedUser:
        """A registration's new user, created as `POST /api/users` creates one (same checks, `User.Created`
        through the outbox); the event has no actor, as nobody is signed in yet."""
        fields = {k: v for k, v in msgspec.to_builtins(request).items() if v is not None}
        try:
            body = msgspec.convert(fields, CreateUserBody)
        except msgspec.ValidationError as error:
            raise BadRequest("guard.invalid_input", data={"message": str(error)}) from None
        user = await users.create(tenant_id, body, None)
        return CreatedUser(user_id=user.id)

    ctx.rpc_server.register(USER_VERIFY_PASSWORD, VerifyPassword, verify_password)
    ctx.rpc_server.register(USER_CREATE, CreateUser, create)

    async def consume_backup_code(request: ConsumeBackupCode) -> TotpVerified:
        await factors.consume_backup_code(tenant_id, request.user_id, request.code.strip())
        return TotpVerified(user_id=request.user_id)

    ctx.rpc_server.register(USER_CONSUME_BACKUP_CODE, ConsumeBackupCode, consume_backup_code)
    ctx.rpc_server.register(USER_VERIFY_TOTP, VerifyTotp, verify_totp)
