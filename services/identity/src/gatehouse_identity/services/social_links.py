"""Linking a social identity through its connector's round trip (`POST /api/users/{id}/identities`) and the
secret vault that keeps the provider's token sets (`tokenSecret`, `DELETE /api/secrets/{id}`).

The provider is called before the transaction opens (a slow provider holds no lock); the link and its token
set are then written in one transaction. Logto's Management API link stores no token set, and cannot link
through its OIDC or OAuth 2.0 connectors at all (their nonce lives in a sign-in session); Gatehouse's generic
connectors need no session, and a connector with token storage keeps the token set of a link made here too."""

from typing import Any

import aiohttp
import msgspec
import structlog
from gatehouse_connectors import FACTORIES, TokenSet
from gatehouse_platform.errors import NotFound, Unprocessable
from gatehouse_schema.events import Actor
from gatehouse_schema.ids import generate_id
from gatehouse_schema.queries.management import ConnectorRecord, connector
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.domain.secret_vault import SecretVault
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
