"""Linking a social identity through its connector's round trip (`POST /api/users/{id}/identities`) and the
secret vault that keeps the provider's token sets (`tokenSecret`, `DELETE /api/secrets/{id}`).

The provider is called before the transaction opens (a slow provider holds no lock); the link and its token
set are then written in one transaction. Logto's Management API link stores no token set, and cannot link
through its OIDC or OAuth 2.0 connectors at all (their nonce lives in a sign-in session); Gatehouse's generic
connectors need no session, and a connector with token storage keeps the token set of a link made here too."""

import time
from typing import Any

import aiohttp
import msgspec
import structlog
from gatehouse_connectors import FACTORIES, TokenSet
from gatehouse_platform.errors import NotFound, Unauthorized, Unprocessable
from gatehouse_platform.service import ServiceContext
from gatehouse_schema.events import Actor
from gatehouse_schema.ids import generate_id
from gatehouse_schema.queries.management import ConnectorRecord, connector
from gatehouse_schema.rpc.identity import USER_SOCIAL_ACCESS_TOKEN, AccountDocument, SocialAccessToken
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.domain.secret_vault import SecretVault, VaultKeyError
from gatehouse_identity.persistence.secrets import SecretStore, TokenSetSecret
from gatehouse_identity.services.user_identities import UserIdentityService
from gatehouse_identity.services.user_records import user_record

log = structlog.get_logger(__name__)


def token_set_metadata(tokens: TokenSet) -> dict[str, Any]:
    """What may be shown of a token set (Logto's secret metadata): never the tokens."""
    metadata: dict[str, Any] = {"hasRefreshToken": isinstance(tokens.refresh_token, str)}
    if isinstance(tokens.scope, str):
        metadata["scope"] = tokens.scope
    if isinstance(tokens.token_type, str):
        metadata["tokenType"] = tokens.token_type
    if isinstance(tokens.expires_at, int):
        metadata["expiresAt"] = tokens.expires_at
    return metadata


def sealed_tokens(tokens: TokenSet) -> bytes:
    """The tokens themselves, as Logto encrypts them."""
    kept = {"access_token": tokens.access_token, "id_token": tokens.id_token, "refresh_token": tokens.refresh_token}
    return msgspec.json.encode({k: v for k, v in kept.items() if isinstance(v, str)})


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
                await self.secrets.put_token_set(
                    conn,
                    tenant_id,
                    generate_id(),
                    user_id=user_id,
                    connector_id=record.id,
                    target=target,
                    identity_id=info.id,
                    sealed=self.vault.seal(sealed_tokens(result.tokens)),
                    metadata=token_set_metadata(result.tokens),
                )
        return identities

    def register_rpc(self, ctx: ServiceContext) -> None:
        """`user.social_access_token`, for the Account API (experience)."""
        tenant_id = ctx.settings.default_tenant_id

        async def social_access_token(request: SocialAccessToken) -> AccountDocument:
            return AccountDocument(body=await self.access_token(tenant_id, request.user_id, request.target))

        ctx.rpc_server.register(USER_SOCIAL_ACCESS_TOKEN, SocialAccessToken, social_access_token)

    async def access_token(self, tenant_id: str, user_id: str, target: str) -> dict[str, Any]:
        """The kept access token (Logto's `GET /api/my-account/identities/{target}/access-token`), refreshed
        through the connector first when it has expired and a refresh token is kept."""
        async with self.engine.connect() as conn:
            found = await self.secrets.sealed_token_set(conn, tenant_id, user_id, target)
        if found is None or self.vault is None:
            raise NotFound("secrets.third_party_token_set.token_not_found")
        secret, sealed = found
        try:
            kept = msgspec.json.decode(self.vault.open(sealed))
        except VaultKeyError:
            log.warning("a token set does not open with SECRET_VAULT_KEK", secret=secret.id)
            raise NotFound("secrets.third_party_token_set.token_not_found") from None
        tokens = TokenSet(
            access_token=kept["access_token"],
            refresh_token=kept.get("refresh_token", msgspec.UNSET),
            id_token=kept.get("id_token", msgspec.UNSET),
            scope=secret.metadata.get("scope", msgspec.UNSET),
            token_type=secret.metadata.get("tokenType", msgspec.UNSET),
            expires_at=secret.metadata.get("expiresAt", msgspec.UNSET),
        )
        if isinstance(tokens.expires_at, int) and tokens.expires_at <= time.time():
            tokens = await self._refreshed(tenant_id, secret, tokens)
        body: dict[str, Any] = {"access_token": tokens.access_token}
        if isinstance(tokens.scope, str):
            body["scope"] = tokens.scope
        if isinstance(tokens.token_type, str):
            body["token_type"] = tokens.token_type
        if isinstance(tokens.expires_at, int):
            body["expires_in"] = max(0, tokens.expires_at - int(time.time()))
        return body

    async def _refreshed(self, tenant_id: str, secret: TokenSetSecret, tokens: TokenSet) -> TokenSet:
        assert self.vault is not None
        if not isinstance(tokens.refresh_token, str):
            async with self.engine.begin() as conn:
                await self.secrets.delete(conn, tenant_id, secret.id)
            raise Unauthorized("secrets.third_party_token_set.access_token_expired")
        async with self.engine.connect() as conn:
            record = await connector(conn, tenant_id, secret.connector_id)
        factory = FACTORIES.get(record.connector_id) if record is not None else None
        if record is None or factory is None or not record.enable_token_storage:
            raise Unprocessable("connector.token_storage_not_supported")
        async with aiohttp.ClientSession() as http:
            fresh = await factory.refresh(http, record.config, tokens.refresh_token)
        if not isinstance(fresh.refresh_token, str):  # the provider kept the refresh token as it was
            fresh = msgspec.structs.replace(fresh, refresh_token=tokens.refresh_token)
        if not isinstance(fresh.id_token, str):
            fresh = msgspec.structs.replace(fresh, id_token=tokens.id_token)
        async with self.engine.begin() as conn:
            await self.secrets.reseal(
                conn, tenant_id, secret.id, self.vault.seal(sealed_tokens(fresh)), token_set_metadata(fresh)
            )
        return fresh

    async def token_secrets(self, tenant_id: str, user_id: str, target: str | None = None) -> dict[str, TokenSetSecret]:
        async with self.engine.connect() as conn:
            return await self.secrets.token_sets(conn, tenant_id, user_id, target)

    async def delete_secret(self, tenant_id: str, secret_id: str) -> None:
        async with self.engine.begin() as conn:
            if not await self.secrets.delete(conn, tenant_id, secret_id):
                raise NotFound("entity.not_found")

    async def drop_connector_secrets(self, conn: AsyncConnection, tenant_id: str, connector_id: str) -> int:
        """A deleted connector's token sets, or those of one whose token storage was turned off."""
        return await self.secrets.delete_of_connector(conn, tenant_id, connector_id)
