"""The secret vault's token sets, social or enterprise SSO alike: what is kept of a provider's token set (sealed
tokens, metadata), keeping one in place of the user's one in its identity's slot, showing them desensitized, and
reading the kept access token back (Logto's `GET .../access-token`): opened, refreshed through the connector once
expired when a refresh token is kept (and resealed in place), or, expired without one, deleted with a 401. Only the
refresh itself is the kind's own (its connector)."""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic

import msgspec
import structlog
from gatehouse_connectors import TokenSet
from gatehouse_platform.errors import NotFound, Unauthorized
from gatehouse_schema.ids import generate_id
from gatehouse_schema.rpc.identity import SealedSecret, SealedTokenSet
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.domain.secret_vault import Sealed, SecretVault, VaultKeyError
from gatehouse_identity.persistence.secrets import S, SecretStore, TokenSetKind

log = structlog.get_logger(__name__)

TOKEN_NOT_FOUND = "secrets.third_party_token_set.token_not_found"

Refresh = Callable[[str, S, str], Awaitable[TokenSet]]
"""The kind's refresh through its connector: (tenant id, the kept secret, its refresh token) to the provider's
fresh token set, or 422 `connector.token_storage_not_supported` when the connector cannot (or no longer does)."""
StoresTokens = Callable[[AsyncConnection, str, str], Awaitable[bool]]
"""Whether the kind's connector (tenant id, connector id) stores tokens, on the caller's connection."""


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


def token_response(access_token: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """Logto's `formatTokenResponse`: the access token with the kept set's scope, type and seconds left."""
    body: dict[str, Any] = {"access_token": access_token}
    if isinstance(metadata.get("scope"), str):
        body["scope"] = metadata["scope"]
    if isinstance(metadata.get("tokenType"), str):
        body["token_type"] = metadata["tokenType"]
    if isinstance(metadata.get("expiresAt"), int):
        body["expires_in"] = max(0, metadata["expiresAt"] - int(time.time()))
    return body


def opened_token_set(vault: SecretVault | None, sealed: Sealed, metadata: dict[str, Any], secret_id: str) -> TokenSet:
    """A kept token set, opened (its tokens) and with its metadata (scope, type, expiry): 404
    `secrets.third_party_token_set.token_not_found` without a vault key, or when this one does not open it."""
    if vault is None:
        raise NotFound(TOKEN_NOT_FOUND)
    try:
        kept = msgspec.json.decode(vault.open(sealed))
    except VaultKeyError:
        log.warning("a token set does not open with SECRET_VAULT_KEK", secret=secret_id)
        raise NotFound(TOKEN_NOT_FOUND) from None
    if not isinstance(kept.get("access_token"), str):
        raise NotFound(TOKEN_NOT_FOUND)
    return TokenSet(
        access_token=kept["access_token"],
        refresh_token=kept.get("refresh_token", msgspec.UNSET),
        id_token=kept.get("id_token", msgspec.UNSET),
        scope=metadata.get("scope", msgspec.UNSET),
        token_type=metadata.get("tokenType", msgspec.UNSET),
        expires_at=metadata.get("expiresAt", msgspec.UNSET),
    )


def expired(tokens: TokenSet) -> bool:
    return isinstance(tokens.expires_at, int) and tokens.expires_at <= time.time()


def refreshed_tokens(fresh: TokenSet, kept: TokenSet) -> TokenSet:
    """A refresh's token set with the kept refresh token and ID token where the provider sent none (some issue a
    refresh token once only, Logto keeps it too)."""
    if not isinstance(fresh.refresh_token, str):
        fresh = msgspec.structs.replace(fresh, refresh_token=kept.refresh_token)
    if not isinstance(fresh.id_token, str):
        fresh = msgspec.structs.replace(fresh, id_token=kept.id_token)
    return fresh


def sealed_tokens(tokens: TokenSet) -> bytes:
    """The tokens themselves, as Logto encrypts them."""
    kept = {"access_token": tokens.access_token, "id_token": tokens.id_token, "refresh_token": tokens.refresh_token}
    return msgspec.json.encode({k: v for k, v in kept.items() if isinstance(v, str)})


@dataclass(frozen=True)
class KeptTokenSets(Generic[S]):
    """One kind's token sets (`SOCIAL` or `SSO`), kept while the kind's connector `stores_tokens` and refreshed
    through its `refresh`."""

    engine: AsyncEngine
    secrets: SecretStore
    vault: SecretVault | None
    kind: TokenSetKind[S]
    refresh: Refresh[S]
    stores_tokens: StoresTokens

    async def put(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        user_id: str,
        sealed: Sealed | SealedSecret,
        metadata: dict[str, Any],
        **relation: str,
    ) -> None:
        """A sealed token set in place of the user's one in the identity's slot; `relation` names the identity
        (the kind's relation row)."""
        envelope = Sealed(**msgspec.structs.asdict(sealed))
        await self.secrets.put_token_set(
            conn, self.kind, tenant_id, generate_id(), user_id=user_id, sealed=envelope, metadata=metadata, **relation
        )

    async def keep(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, token_set: SealedTokenSet | None, **relation: str
    ) -> bool:
        """An identity's token set as experience has it sealed, put in place of the user's one if there is one and
        the identity's connector (still) stores tokens; whether it was kept."""
        if token_set is None or token_set.sealed is None:
            return False
        if not await self.stores_tokens(conn, tenant_id, relation[self.kind.connector]):
            return False
        await self.put(conn, tenant_id, user_id, token_set.sealed, token_set.metadata, **relation)
        return True

    async def desensitized(self, tenant_id: str, user_id: str, key: str | None = None) -> dict[str, S]:
        """The user's token sets by the kind's key (through `key` only, when given), never their tokens."""
        async with self.engine.connect() as conn:
            return await self.secrets.token_sets(conn, self.kind, tenant_id, user_id, key)

    async def access_token(self, tenant_id: str, user_id: str, key: str) -> dict[str, Any]:
        """The kept access token of the user's token set through `key`: 404 `token_not_found` without one (or
        without a vault key that opens it); once expired, refreshed and resealed in place when a refresh token is
        kept, else the token set is deleted and the answer is 401
        `secrets.third_party_token_set.access_token_expired`."""
        async with self.engine.connect() as conn:
            found = await self.secrets.sealed_token_set(conn, self.kind, tenant_id, user_id, key)
        if found is None:
            raise NotFound(TOKEN_NOT_FOUND)
        secret, sealed = found
        tokens = opened_token_set(self.vault, sealed, secret.metadata, secret.id)
        if expired(tokens):
            tokens = await self._refreshed(tenant_id, secret, tokens)
        return token_response(tokens.access_token, token_set_metadata(tokens))

    async def _refreshed(self, tenant_id: str, secret: S, tokens: TokenSet) -> TokenSet:
        assert self.vault is not None
        if not isinstance(tokens.refresh_token, str):
            async with self.engine.begin() as conn:
                await self.secrets.delete(conn, tenant_id, secret.id)
            raise Unauthorized("secrets.third_party_token_set.access_token_expired")
        fresh = refreshed_tokens(await self.refresh(tenant_id, secret, tokens.refresh_token), tokens)
        async with self.engine.begin() as conn:
            await self.secrets.reseal(
                conn, tenant_id, secret.id, self.vault.seal(sealed_tokens(fresh)), token_set_metadata(fresh)
            )
        return fresh
