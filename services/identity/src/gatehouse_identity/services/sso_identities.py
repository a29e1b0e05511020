"""Enterprise SSO identities in the Experience API's sign-in and registration (`user_sso_identities`): the IdP round
trip is experience's (or identity's assertion consumer service, for SAML); identity finds the user of a verified
identity, links it at submit and keeps it for a user a registration creates.

RPC (Structs in `gatehouse_schema.rpc.identity`): `user.identify_sso` finds the user of the identity (issuer,
identity id), else the user of the IdP's email (Logto's automatic link by email), with Logto's 404
`user.identity_not_exist` and 401 `user.suspended`; `user.sso_sign_in` applies a sign-in at submit (the identity
linked, or its stored detail replaced by the IdP's latest user info; the synced name and avatar); `user.create`
keeps a new user's identity with `keep_new_identity`. A sign-in that links the identity to an existing user appends
`User.SsoIdentity.Linked` (a registration's `User.Registered` names its connector): organizations provisions the user
just in time by the connector's rules.

The secret vault keeps the IdP's token set of an OIDC SSO sign-in when the connector has `enableTokenStorage`
(Logto's `secret_enterprise_sso_connector_relations`): experience has it sealed right after the IdP's round trip
(`secret.seal_token_set`) and it comes with the identity; the sign-in and the registration keep it in the
transaction that keeps the identity, replacing the user's token set of the same IdP. A token set goes with its
identity row (a trigger), so with the connector's deletion too; a connector whose token storage is turned off loses
its token sets (`SsoConnector.Updated`). `user.sso_access_token` reads the kept access token for the Account API,
refreshed through the connector once expired when a refresh token is kept."""

from typing import Any

import aiohttp
from gatehouse_connectors import TokenSet
from gatehouse_connectors.oidc_sso import discover, parse_sso_config, sso_refresh
from gatehouse_platform.errors import NotFound, Unauthorized, Unprocessable
from gatehouse_platform.service import ServiceContext
from gatehouse_schema.events import Actor, UserSsoIdentityLinked
from gatehouse_schema.ids import generate_id
from gatehouse_schema.queries.management import sso_connector
from gatehouse_schema.rpc.identity import (
    USER_IDENTIFY_SSO,
    USER_SSO_ACCESS_TOKEN,
    USER_SSO_SIGN_IN,
    AccountDocument,
    AccountDone,
    IdentifySso,
    SsoAccessToken,
    SsoIdentity,
    SsoSignIn,
    SsoUser,
)
from gatehouse_schema.sso import FIXED_ISSUERS
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_identity.domain.secret_vault import SecretVault
from gatehouse_identity.persistence.secrets import SSO, SecretStore, SsoTokenSetSecret
from gatehouse_identity.services.token_sets import KeptTokenSets
from gatehouse_identity.services.user_identities import UserIdentityService
from gatehouse_identity.services.user_records import mfa_factor_types, update_user_data, user_record


async def _stores_tokens(conn: AsyncConnection, tenant_id: str, sso_connector_id: str) -> bool:
    """Only an OIDC SSO connector stores tokens."""
    record = await sso_connector(conn, tenant_id, sso_connector_id)
    return record is not None and record.enable_token_storage and record.provider_type == "oidc"


class SsoIdentityService:
    def __init__(self, identities: UserIdentityService, secrets: SecretStore, vault: SecretVault | None) -> None:
        self.identities = identities
        self.token_sets = KeptTokenSets(identities.engine, secrets, vault, SSO, self._refresh, _stores_tokens)

    def register_rpc(self, ctx: ServiceContext) -> None:
        tenant_id = ctx.settings.default_tenant_id

        async def identify_sso(request: IdentifySso) -> SsoUser:
            return await self.identify(tenant_id, request)

        async def sso_sign_in(request: SsoSignIn) -> AccountDone:
            await self.sign_in(tenant_id, request)
            return AccountDone(user_id=request.user_id)

        async def sso_access_token(request: SsoAccessToken) -> AccountDocument:
            return AccountDocument(body=await self.access_token(tenant_id, request.user_id, request.connector_id))

        ctx.rpc_server.register(USER_IDENTIFY_SSO, IdentifySso, identify_sso)
        ctx.rpc_server.register(USER_SSO_SIGN_IN, SsoSignIn, sso_sign_in)
        ctx.rpc_server.register(USER_SSO_ACCESS_TOKEN, SsoAccessToken, sso_access_token)

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
        (`User.Data.Updated`), and the identity's token set kept."""
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
            if owner is not None or request.link:  # the identity is the user's: its token set may be kept
                await self._keep_token_set(conn, tenant_id, user_id, identity)
            synced = {"name": request.name, "avatar": request.avatar}
            values = {k: v for k, v in synced.items() if v is not None and v != getattr(record.user, k)}
            if values:
                users, outbox = self.identities.users, self.identities.outbox
                await update_user_data(users, outbox, conn, tenant_id, user_id, values, sorted(values), actor)

    async def keep_new_identity(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, identity: SsoIdentity
    ) -> None:
        """A registration's SSO identity, in the transaction creating the user: 422 `user.identity_already_in_use`
        if a user has it; its token set is kept."""
        store = self.identities.identities
        await store.lock_sso_identity(conn, tenant_id, identity.issuer, identity.identity_id)
        if await store.sso_identity_user(conn, tenant_id, identity.issuer, identity.identity_id) is not None:
            raise Unprocessable("user.identity_already_in_use")
        await self._insert(conn, tenant_id, user_id, identity)
        await self._keep_token_set(conn, tenant_id, user_id, identity)

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

    async def _keep_token_set(self, conn: AsyncConnection, tenant_id: str, user_id: str, identity: SsoIdentity) -> bool:
        """The identity's sealed token set replaces the user's one of its IdP (Logto's
        `upsertEnterpriseSsoTokenSetSecret`), if its connector (still) stores tokens; whether it was kept."""
        relation = {"sso_connector_id": identity.sso_connector_id, "issuer": identity.issuer}
        return await self.token_sets.keep(
            conn, tenant_id, user_id, identity.token_set, **relation, identity_id=identity.identity_id
        )

    # the token sets kept (the Users API shows them, the Account API reads the access token)

    async def token_secrets(
        self, tenant_id: str, user_id: str, sso_connector_id: str | None = None
    ) -> dict[str, SsoTokenSetSecret]:
        """The user's token sets by SSO connector id, never their tokens."""
        return await self.token_sets.desensitized(tenant_id, user_id, sso_connector_id)

    async def access_token(self, tenant_id: str, user_id: str, sso_connector_id: str) -> dict[str, Any]:
        """The kept access token (Logto's `GET /api/my-account/sso-identities/{connectorId}/access-token`),
        refreshed through the connector first when it has expired and a refresh token is kept; expired without one,
        the token set is deleted and the answer is 401 `secrets.third_party_token_set.access_token_expired`."""
        return await self.token_sets.access_token(tenant_id, user_id, sso_connector_id)

    async def _refresh(self, tenant_id: str, secret: SsoTokenSetSecret, refresh_token: str) -> TokenSet:
        """Logto's `ssoConnectors.refreshTokenSetSecret`: the connector must be an OIDC one that (still) stores
        tokens (422 `connector.token_storage_not_supported`); the refresh goes to its discovered token endpoint."""
        async with self.identities.engine.connect() as conn:
            record = await sso_connector(conn, tenant_id, secret.sso_connector_id)
        if record is None or record.provider_type != "oidc" or not record.enable_token_storage:
            raise Unprocessable("connector.token_storage_not_supported")
        config = parse_sso_config(record.config, fixed_issuer=FIXED_ISSUERS.get(record.provider_name))
        async with aiohttp.ClientSession() as http:
            discovery = await discover(http, config.issuer)
            return await sso_refresh(http, discovery, config, refresh_token)
