"""The user commands experience calls: `<prefix>.rpc.identity.user.verify_password` (Structs in
`gatehouse_schema.rpc.identity`). Identity owns users and their password digests, so a sign-in's password
check runs here: the digest never leaves the service."""

from gatehouse_platform.errors import Unauthorized, Unprocessable
from gatehouse_platform.service import ServiceContext
from gatehouse_schema.rpc.identity import USER_VERIFY_PASSWORD, VerifiedUser, VerifyPassword

from gatehouse_identity.persistence.users import UserStore
from gatehouse_identity.services.users import UserService

IDENTIFIER_TYPES = frozenset({"username", "email", "phone"})


def register_user_rpc(ctx: ServiceContext, users: UserService, store: UserStore) -> None:
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

    ctx.rpc_server.register(USER_VERIFY_PASSWORD, VerifyPassword, verify_password)
