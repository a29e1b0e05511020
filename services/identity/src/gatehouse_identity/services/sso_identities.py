"""Enterprise SSO identities in the Experience API's sign-in and registration (`user_sso_identities`): the IdP round
trip is experience's (or identity's assertion consumer service, for SAML); identity finds the user of a verified
identity, links it at submit and keeps it for a user a registration creates.

RPC (Structs in `gatehouse_schema.rpc.identity`): `user.identify_sso` finds the user of the identity (issuer,
identity id), else the user of the IdP's email (Logto's automatic link by email), with Logto's 404
`user.identity_not_exist` and 401 `user.suspended`; `user.sso_sign_in` applies a sign-in at submit (the identity
linked, or its stored detail replaced by the IdP's latest user info; the synced name and avatar); `user.create`
keeps a new user's identity with `keep_new_identity`. A sign-in that links the identity to an existing user appends
`User.SsoIdentity.Linked` (a registration's `User.Registered` names its connector): organizations provisions the user
just in time by the connector's rules."""

from gatehouse_platform.errors import NotFound, Unauthorized, Unprocessable
from gatehouse_platform.service import ServiceContext
from gatehouse_schema.events import Actor, UserSsoIdentityLinked
from gatehouse_schema.ids import generate_id
from gatehouse_schema.rpc.identity import (
    USER_IDENTIFY_SSO,
    USER_SSO_SIGN_IN,
    AccountDone,
    IdentifySso,
    SsoIdentity,
    SsoSignIn,
    SsoUser,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_identity.services.user_identities import UserIdentityService
from gatehouse_identity.services.user_records import mfa_factor_types, update_user_data, user_record


class SsoIdentityService:
    def __init__(self, identities: UserIdentityService) -> None:
        self.identities = identities

    def register_rpc(self, ctx: ServiceContext) -> None:
        tenant_id = ctx.settings.default_tenant_id

        async def identify_sso(request: IdentifySso) -> SsoUser:
            return await self.identify(tenant_id, request)

        async def sso_sign_in(request: SsoSignIn) -> AccountDone:
            await self.sign_in(tenant_id, request)
            return AccountDone(user_id=request.user_id)

        ctx.rpc_server.register(USER_IDENTIFY_SSO, IdentifySso, identify_sso)
        ctx.rpc_server.register(USER_SSO_SIGN_IN, SsoSignIn, sso_sign_in)

    async def identify(self, tenant_id: str, request: IdentifySso) -> SsoUser:
        users, store = self.identities.users, self.identities.identities
        async with self.identities.engine.connect() as conn:
            user_id = await store.sso_identity_user(conn, tenant_id, request.issuer, request.identity_id)
            record = None if user_id is None else await users.record(conn, tenant_id, user_id)
            by_email = record is None and bool(request.email)
            if by_email and request.email:
                record = await users.find_by_identifier(conn, tenant_id, "email", request.email)
        if record is None:
            raise NotFound("user.identity_not_exist")
        if record.user.is_suspended:
            raise Unauthorized("user.suspended")
        return SsoUser(user_id=record.user.id, mfa_factors=mfa_factor_types(record), by_email=by_email)

    async def sign_in(self, tenant_id: str, request: SsoSignIn) -> None:
        """Logto's `submit` for an SSO sign-in, in one transaction: the identity linked (`link`, with
        `User.SsoIdentity.Linked`) or its detail updated, then the synced name and avatar that differ
        (`User.Data.Updated`)."""
        user_id, identity = request.user_id, request.identity
        actor = Actor(type="user", id=user_id)
        store = self.identities.identities
        async with self.identities.engine.begin() as conn:
            record = await user_record(self.identities.users, conn, tenant_id, user_id, lock=True)
            await store.lock_sso_identity(conn, tenant_id, identity.issuer, identity.identity_id)
            owner = await store.sso_identity_user(conn, tenant_id, identity.issuer, identity.identity_id)
            if owner is not None and owner != user_id:
                raise Unprocessable("user.identity_already_in_use")
            if owner is None and request.link:
                await self._insert(conn, tenant_id, user_id, identity)
                linked = UserSsoIdentityLinked(user_id=user_id, sso_connector_id=identity.sso_connector_id)
                await self.identities.outbox.append(conn, linked, tenant_id=tenant_id, actor=actor)
            elif owner is not None:
                await store.update_sso_identity_detail(
                    conn, tenant_id, identity.issuer, identity.identity_id, identity.detail
                )
            synced = {"name": request.name, "avatar": request.avatar}
            values = {k: v for k, v in synced.items() if v is not None and v != getattr(record.user, k)}
            if values:
                users, outbox = self.identities.users, self.identities.outbox
                await update_user_data(users, outbox, conn, tenant_id, user_id, values, sorted(values), actor)

    async def keep_new_identity(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, identity: SsoIdentity
    ) -> None:
        """A registration's SSO identity, in the transaction creating the user: 422 `user.identity_already_in_use`
        if a user has it."""
        store = self.identities.identities
        await store.lock_sso_identity(conn, tenant_id, identity.issuer, identity.identity_id)
        if await store.sso_identity_user(conn, tenant_id, identity.issuer, identity.identity_id) is not None:
            raise Unprocessable("user.identity_already_in_use")
        await self._insert(conn, tenant_id, user_id, identity)

    async def _insert(self, conn: AsyncConnection, tenant_id: str, user_id: str, identity: SsoIdentity) -> None:
        await self.identities.identities.insert_sso_identity(
            conn,
            tenant_id,
            generate_id(),
            user_id=user_id,
            sso_connector_id=identity.sso_connector_id,
            issuer=identity.issuer,
            identity_id=identity.identity_id,
            detail=identity.detail,
        )
