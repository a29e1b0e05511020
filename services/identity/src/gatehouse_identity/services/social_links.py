"""Linking a social identity through its connector's round trip (`POST /api/users/{id}/identities`) and the
secret vault that keeps the provider's token sets (`tokenSecret`, `DELETE /api/secrets/{id}`).

The provider is called before the transaction opens (a slow provider holds no lock); the link and its token
set are then written in one transaction. Logto's Management API link stores no token set, and cannot link
through its OIDC or OAuth 2.0 connectors at all (their nonce lives in a sign-in session); Gatehouse's generic
connectors need no session, and a connector with token storage keeps the token set of a link made here too.

The Experience API's social sign-in and registration run the provider round trip in experience; identity serves
them over RPC: `secret.seal_token_set` seals the provider's tokens (experience keeps only the envelope),
`user.identify_social` finds the user of the identity (or the related user of its verified phone or email),
`user.social_sign_in` applies a sign-in at submit (linked identity, synced name and avatar, token set) and
`user.create` keeps a registration's identity and token set with `keep_new_identity`.

The Account API's social identities are served the same way: experience runs the round trip of a social
verification record, `user.link_social` links its identity to the signed-in user (or, with `replace`, puts it
in place of the user's identity at its target), `user.unlink_social` removes one, `user.keep_social_token_set`
keeps a record's token set for the user's identity and `user.social_access_token` reads the kept access token."""

from typing import Any

import aiohttp
import msgspec
import structlog
from gatehouse_connectors import FACTORIES, TokenSet
from gatehouse_platform.errors import BadRequest, NotFound, Unauthorized, Unprocessable
from gatehouse_platform.service import ServiceContext
from gatehouse_schema.api.users import User
from gatehouse_schema.events import Actor
from gatehouse_schema.queries.management import ConnectorRecord, connector
from gatehouse_schema.rpc.identity import (
    SECRET_SEAL_TOKEN_SET,
    USER_IDENTIFY_SOCIAL,
    USER_KEEP_SOCIAL_TOKEN_SET,
    USER_LINK_SOCIAL,
    USER_SOCIAL_ACCESS_TOKEN,
    USER_SOCIAL_SIGN_IN,
    USER_UNLINK_SOCIAL,
    AccountDocument,
    AccountDone,
    IdentifySocial,
    KeepSocialTokenSet,
    LinkSocial,
    ProviderTokens,
    SealedSecret,
    SealedTokenSet,
    SocialAccessToken,
    SocialIdentity,
    SocialSignIn,
    UnlinkSocial,
    VerifiedUser,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.domain.secret_vault import Sealed, SecretVault, VaultKeyError
from gatehouse_identity.persistence.secrets import SOCIAL, SecretStore, SocialTokenSetSecret
from gatehouse_identity.persistence.users import UserRecord
from gatehouse_identity.services.token_sets import KeptTokenSets, sealed_tokens, token_response, token_set_metadata
from gatehouse_identity.services.user_identities import UserIdentityService
from gatehouse_identity.services.user_records import mfa_factor_types, update_user_data, user_record

log = structlog.get_logger(__name__)


async def _stores_tokens(conn: AsyncConnection, tenant_id: str, connector_id: str) -> bool:
    record = await connector(conn, tenant_id, connector_id)
    return record is not None and record.enable_token_storage


class SocialLinkService:
    def __init__(
        self,
        engine: AsyncEngine,
        identities: UserIdentityService,
        secrets: SecretStore,
        vault: SecretVault | None,
    ) -> None:
        self.engine = engine
        self.identities = identities
        self.secrets = secrets
        self.vault = vault
        self.token_sets = KeptTokenSets(engine, secrets, vault, SOCIAL, self._refresh, _stores_tokens)

    async def _connector(self, conn: AsyncConnection, tenant_id: str, connector_id: str) -> ConnectorRecord:
        found = await connector(conn, tenant_id, connector_id)
        if found is None or found.connector_id not in FACTORIES:
            raise NotFound("entity.not_found")
        return found

    async def link(
        self, tenant_id: str, user_id: str, connector_id: str, connector_data: dict[str, Any], actor: Actor | None
    ) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            record = await self._connector(conn, tenant_id, connector_id)
            await user_record(self.identities.users, conn, tenant_id, user_id)
        factory = FACTORIES[record.connector_id]
        if factory.metadata.type != "Social":
            raise Unprocessable("session.invalid_connector_id", connectorId=connector_id)
        target = str(record.metadata.get("target") or factory.metadata.target)
        async with aiohttp.ClientSession() as http:
            result = await factory.user_info(http, record.config, connector_data)
        info = result.user_info
        identity = {"userId": info.id, "details": msgspec.to_builtins(info)}
        store_tokens = record.enable_token_storage and factory.metadata.is_token_storage_supported is True
        async with self.engine.begin() as conn:
            _, identities = await self.identities.link_in(conn, tenant_id, user_id, target, identity, actor)
            if store_tokens and self.vault is None:
                log.warning("token set not stored: SECRET_VAULT_KEK is not set", connector=connector_id)
            elif store_tokens and self.vault is not None:
                sealed = self.vault.seal(sealed_tokens(result.tokens))
                await self.token_sets.put(
                    conn,
                    tenant_id,
                    user_id,
                    sealed,
                    token_set_metadata(result.tokens),
                    connector_id=record.id,
                    target=target,
                    identity_id=info.id,
                )
        return identities

    def register_rpc(self, ctx: ServiceContext) -> None:
        """`user.social_access_token`, `user.link_social`, `user.unlink_social` and `user.keep_social_token_set`,
        for the Account API (experience); `secret.seal_token_set`, `user.identify_social` and
        `user.social_sign_in`, for the Experience API's social sign-in."""
        tenant_id = ctx.settings.default_tenant_id

        async def social_access_token(request: SocialAccessToken) -> AccountDocument:
            return AccountDocument(body=await self.access_token(tenant_id, request.user_id, request.target))

        async def seal_token_set(request: ProviderTokens) -> SealedTokenSet:
            return self.seal(request)

        async def identify_social(request: IdentifySocial) -> VerifiedUser:
            return await self.identify(tenant_id, request)

        async def social_sign_in(request: SocialSignIn) -> AccountDone:
            await self.sign_in(tenant_id, request)
            return AccountDone(user_id=request.user_id)

        async def link_social(request: LinkSocial) -> AccountDone:
            await self.link_own(tenant_id, request)
            return AccountDone(user_id=request.user_id)

        async def unlink_social(request: UnlinkSocial) -> AccountDone:
            actor = Actor(type="user", id=request.user_id)
            await self.identities.unlink(tenant_id, request.user_id, request.target, actor, keep_an_identifier=True)
            return AccountDone(user_id=request.user_id)

        async def keep_social_token_set(request: KeepSocialTokenSet) -> AccountDocument:
            return AccountDocument(body=await self.keep_own_token_set(tenant_id, request))

        ctx.rpc_server.register(USER_SOCIAL_ACCESS_TOKEN, SocialAccessToken, social_access_token)
        ctx.rpc_server.register(USER_LINK_SOCIAL, LinkSocial, link_social)
        ctx.rpc_server.register(USER_UNLINK_SOCIAL, UnlinkSocial, unlink_social)
        ctx.rpc_server.register(USER_KEEP_SOCIAL_TOKEN_SET, KeepSocialTokenSet, keep_social_token_set)
        ctx.rpc_server.register(SECRET_SEAL_TOKEN_SET, ProviderTokens, seal_token_set)
        ctx.rpc_server.register(USER_IDENTIFY_SOCIAL, IdentifySocial, identify_social)
        ctx.rpc_server.register(USER_SOCIAL_SIGN_IN, SocialSignIn, social_sign_in)

    # the Experience API's social sign-in and registration

    def seal(self, provided: ProviderTokens) -> SealedTokenSet:
        """The provider's tokens sealed for the vault, with the metadata kept beside them (nothing without a
        vault key)."""
        tokens = TokenSet(
            access_token=provided.access_token,
            token_type=provided.token_type or msgspec.UNSET,
            scope=provided.scope or msgspec.UNSET,
            refresh_token=provided.refresh_token or msgspec.UNSET,
            id_token=provided.id_token or msgspec.UNSET,
            expires_at=msgspec.UNSET if provided.expires_at is None else provided.expires_at,
        )
        if self.vault is None:
            log.warning("token set not sealed: SECRET_VAULT_KEK is not set")
            return SealedTokenSet(metadata=token_set_metadata(tokens))
        sealed = self.vault.seal(sealed_tokens(tokens))
        return SealedTokenSet(
            sealed=SealedSecret(**msgspec.structs.asdict(sealed)), metadata=token_set_metadata(tokens)
        )

    async def identify(self, tenant_id: str, request: IdentifySocial) -> VerifiedUser:
        """Logto's `SocialVerification.identifyUser` (or `identifyRelatedUser` when `related`), then its
        suspension check."""
        async with self.engine.connect() as conn:
            if request.related:
                related = await self._related_user(conn, tenant_id, request)
                if related is None:
                    raise NotFound("user.identity_not_exist")
                record = related[1]
            else:
                user_id = await self.identities.identities.social_identity_user(
                    conn, tenant_id, request.target, request.identity_id
                )
                found = None if user_id is None else await self.identities.users.record(conn, tenant_id, user_id)
                if found is None:
                    related = await self._related_user(conn, tenant_id, request)
                    raise NotFound("user.identity_not_exist", data={"relatedUser": related[0]} if related else {})
                record = found
        if record.user.is_suspended:
            raise Unauthorized("user.suspended")
        return VerifiedUser(user_id=record.user.id, mfa_factors=mfa_factor_types(record))

    async def _related_user(
        self, conn: AsyncConnection, tenant_id: str, request: IdentifySocial
    ) -> tuple[dict[str, str], UserRecord] | None:
        """Logto's `findSocialRelatedUser`: the user of the provider's verified phone, else of its email."""
        for kind, value in (("phone", request.phone), ("email", request.email)):
            if value:
                record = await self.identities.users.find_by_identifier(conn, tenant_id, kind, value)
                if record is not None:
                    return {"type": kind, "value": value}, record
        return None

    async def sign_in(self, tenant_id: str, request: SocialSignIn) -> None:
        """What a social sign-in brings, applied at submit in one transaction (Logto's `submit`): the identity
        linked when `link`, the synced name and avatar that differ, the token set kept."""
        social, user_id = request.identity, request.user_id
        actor = Actor(type="user", id=user_id)
        async with self.engine.begin() as conn:
            if request.link and social is not None:
                identity = {"userId": str(social.details["id"]), "details": social.details}
                await self.identities.link_in(conn, tenant_id, user_id, social.target, identity, actor)
            record = await user_record(self.identities.users, conn, tenant_id, user_id, lock=True)
            synced = {"name": request.name, "avatar": request.avatar}
            values = {k: v for k, v in synced.items() if v is not None and v != getattr(record.user, k)}
            if values:
                store, outbox = self.identities.users, self.identities.outbox
                await update_user_data(store, outbox, conn, tenant_id, user_id, values, sorted(values), actor)
            if social is not None:
                await self._keep_token_set(conn, tenant_id, user_id, social)

    async def keep_new_identity(
        self, conn: AsyncConnection, tenant_id: str, user: User, social: SocialIdentity
    ) -> None:
        """A registration's social identity, in the transaction creating `user` (who has it already): 422
        `user.identity_already_in_use` if another user has it too; its token set is kept."""
        identity_id = str(social.details["id"])
        await self.identities.identities.lock_social_identity(conn, tenant_id, social.target, identity_id)
        if await self.identities.identities.social_identity_owner(conn, tenant_id, social.target, identity_id, user.id):
            raise Unprocessable("user.identity_already_in_use")
        await self._keep_token_set(conn, tenant_id, user.id, social)

    async def _keep_token_set(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, social: SocialIdentity
    ) -> bool:
        """The identity's sealed token set replaces the user's one for its target, if its connector (still) stores
        tokens; whether it was kept."""
        relation = {"connector_id": social.connector_id, "target": social.target}
        return await self.token_sets.keep(
            conn, tenant_id, user_id, social.token_set, **relation, identity_id=str(social.details["id"])
        )

    # the Account API's social identities (experience has checked the caller, the account center and the record)

    async def link_own(self, tenant_id: str, request: LinkSocial) -> None:
        """Logto's `POST /api/my-account/identities`, in its order: another user's identity (422), an identity of
        the user at the target already (400; its `PUT`, `replace`, puts the new one in its place), then the link
        and its token set, in one transaction. A replaced identity of another provider account loses its token set
        (the `users.identities` trigger); the new one's is kept when its connector stores tokens."""
        social, user_id = request.identity, request.user_id
        identity_id = str(social.details["id"])
        store = self.identities.identities
        async with self.engine.begin() as conn:
            record = await user_record(self.identities.users, conn, tenant_id, user_id, lock=True)
            await store.lock_social_identity(conn, tenant_id, social.target, identity_id)
            if await store.social_identity_owner(conn, tenant_id, social.target, identity_id, user_id):
                raise Unprocessable("user.identity_already_in_use")
            if not request.replace and social.target in record.user.identities:
                raise BadRequest("user.identity_already_in_use")
            identity = {"userId": identity_id, "details": social.details}
            actor = Actor(type="user", id=user_id)
            await self.identities.link_in(conn, tenant_id, user_id, social.target, identity, actor)
            await self._keep_token_set(conn, tenant_id, user_id, social)

    async def keep_own_token_set(self, tenant_id: str, request: KeepSocialTokenSet) -> dict[str, Any]:
        """Logto's `PUT /api/my-account/identities/{target}/access-token`: the identity must be the user's (422),
        its token set is kept in place of the user's one for the target (422 without one); the reply is the kept
        access token."""
        social, user_id = request.identity, request.user_id
        async with self.engine.begin() as conn:
            owner = await self.identities.identities.social_identity_user(
                conn, tenant_id, social.target, str(social.details["id"])
            )
            if owner != user_id:
                raise Unprocessable("user.identity_not_exists_in_current_user")
            access = self._access_token_of(social)
            if access is None or not await self._keep_token_set(conn, tenant_id, user_id, social):
                raise Unprocessable("verification_record.social_verification.token_response_not_found")
        assert social.token_set is not None
        return token_response(access, social.token_set.metadata)

    def _access_token_of(self, social: SocialIdentity) -> str | None:
        """The access token in the identity's sealed token set, None when there is none this vault opens."""
        token_set = social.token_set
        if token_set is None or token_set.sealed is None or self.vault is None:
            return None
        try:
            kept = msgspec.json.decode(self.vault.open(Sealed(**msgspec.structs.asdict(token_set.sealed))))
        except VaultKeyError:
            log.warning("a sealed token set does not open with SECRET_VAULT_KEK")
            return None
        access = kept.get("access_token")
        return access if isinstance(access, str) else None

    async def access_token(self, tenant_id: str, user_id: str, target: str) -> dict[str, Any]:
        """The kept access token (Logto's `GET /api/my-account/identities/{target}/access-token`), refreshed
        through the connector first when it has expired and a refresh token is kept."""
        return await self.token_sets.access_token(tenant_id, user_id, target)

    async def _refresh(self, tenant_id: str, secret: SocialTokenSetSecret, refresh_token: str) -> TokenSet:
        """The refresh through the social connector, which must (still) store tokens (422
        `connector.token_storage_not_supported`)."""
        async with self.engine.connect() as conn:
            record = await connector(conn, tenant_id, secret.connector_id)
        factory = FACTORIES.get(record.connector_id) if record is not None else None
        if record is None or factory is None or not record.enable_token_storage:
            raise Unprocessable("connector.token_storage_not_supported")
        async with aiohttp.ClientSession() as http:
            return await factory.refresh(http, record.config, refresh_token)

    async def token_secrets(
        self, tenant_id: str, user_id: str, target: str | None = None
    ) -> dict[str, SocialTokenSetSecret]:
        return await self.token_sets.desensitized(tenant_id, user_id, target)

    async def delete_secret(self, tenant_id: str, secret_id: str) -> None:
        async with self.engine.begin() as conn:
            if not await self.secrets.delete(conn, tenant_id, secret_id):
                raise NotFound("entity.not_found")

    async def drop_connector_secrets(self, conn: AsyncConnection, tenant_id: str, connector_id: str) -> int:
        """A deleted connector's token sets, or those of one whose token storage was turned off."""
        return await self.secrets.delete_of_connector(conn, SOCIAL, tenant_id, connector_id)
