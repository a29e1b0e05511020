"""The tenant's token claim configs (JWT customizers and the ID token's extended claims): stored in
`identity.token_configs` under Logto's config keys, cached per tenant for the token path.

Issuing a token reads the cache only (`for_user`, `for_client`, `id_token_claims`): a dict lookup
and, when a customizer exists, a few more. The cache entry of a tenant is dropped when this replica
writes a config and when any replica's `TokenConfig.Updated` event arrives; entries also expire after
`ttl` seconds and the cache empties when NATS reconnects, so a missed event cannot last.
"""

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from gatehouse_platform.errors import NotFound
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.events import Actor, TokenConfigUpdated
from gatehouse_schema.queries.management import ClientRecord
from gatehouse_schema.tables.identity import token_configs
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.domain.token_claims import (
    ACCESS_TOKEN,
    CLIENT_CREDENTIALS,
    CONFIG_KEYS,
    ID_TOKEN_KEY,
    Customizer,
    check_script,
    compile_customizer,
)
from gatehouse_identity.oidc.clients import SingleFlight
from gatehouse_identity.oidc.store import Account


@dataclass(frozen=True)
class TenantTokenConfig:
    access_token: Customizer | None
    client_credentials: Customizer | None
    id_token_claims: frozenset[str]


EMPTY = TenantTokenConfig(None, None, frozenset())


def _ms(value: Any) -> int:
    return int(value.timestamp() * 1000)


def user_context(account: Account) -> dict[str, Any]:
    """Logto's `context.user` fields a customizer may reference."""
    return {
        "id": account.id,
        "username": account.username,
        "primaryEmail": account.primary_email,
        "primaryPhone": account.primary_phone,
        "name": account.name,
        "avatar": account.avatar,
        "customData": account.custom_data,
        "identities": account.identities,
        "profile": account.profile,
        "isSuspended": account.is_suspended,
        "createdAt": _ms(account.created_at),
        "updatedAt": _ms(account.updated_at),
    }


def application_context(client: ClientRecord) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "type": client.type,
        "customData": client.custom_data,
        "isThirdParty": client.is_third_party,
    }


def _compile(rows: dict[str, dict[str, Any]]) -> TenantTokenConfig:
    def customizer(token_type: str) -> Customizer | None:
        value = rows.get(CONFIG_KEYS[token_type])
        return None if value is None else compile_customizer(token_type, value.get("environmentVariables") or {})

    claims = (rows.get(ID_TOKEN_KEY) or {}).get("enabledExtendedClaims") or []
    return TenantTokenConfig(customizer(ACCESS_TOKEN), customizer(CLIENT_CREDENTIALS), frozenset(claims))


class TokenConfigs:
    def __init__(self, engine: AsyncEngine, outbox: Outbox, ttl: float = 300.0) -> None:
        self.engine = engine
        self.outbox = outbox
        self.ttl = ttl
        self._entries: dict[str, tuple[float, TenantTokenConfig]] = {}
        self._generation = 0  # bumped by every invalidation, so a load that raced one is not kept
        self._loads: SingleFlight[str, TenantTokenConfig] = SingleFlight()

    # the token path

    async def current(self, tenant_id: str) -> TenantTokenConfig:
        hit = self._entries.get(tenant_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return await self._loads.run(tenant_id, lambda: self._load(tenant_id))

    async def _load(self, tenant_id: str) -> TenantTokenConfig:
        """One load per tenant at a time (`SingleFlight`): an expired entry is not queried by every request."""
        generation = self._generation
        async with self.engine.connect() as conn:
            rows = await self._rows(conn, tenant_id)
        config = _compile(rows) if rows else EMPTY
        if generation == self._generation:
            self._entries[tenant_id] = (time.monotonic() + self.ttl, config)
        return config

    async def for_user(self, tenant_id: str, account: Account, client: ClientRecord) -> dict[str, Any] | None:
        """Extra claims of a user's JWT access token, or None without an `access-token` customizer."""
        customizer = (await self.current(tenant_id)).access_token
        if customizer is None:
            return None
        roots = customizer.roots
        context = {
            "user": user_context(account) if "user" in roots else None,
            "application": application_context(client) if "application" in roots else None,
        }
        return customizer.claims(context)

    async def for_client(self, tenant_id: str, client: ClientRecord) -> dict[str, Any] | None:
        """Extra claims of a client-credentials token, or None without a `client-credentials` customizer."""
        customizer = (await self.current(tenant_id)).client_credentials
        if customizer is None:
            return None
        return customizer.claims({"application": application_context(client)})

    def invalidate(self, tenant_id: str | None) -> None:
        self._generation += 1
        if tenant_id is None:
            self._entries.clear()
            self._loads.forget_all()
        else:
            self._entries.pop(tenant_id, None)
            self._loads.forget(tenant_id)

    # the Management API

    async def _rows(self, conn: AsyncConnection, tenant_id: str, key: str | None = None) -> dict[str, dict[str, Any]]:
        query = sa.select(token_configs.c.key, token_configs.c.value).where(token_configs.c.tenant_id == tenant_id)
        if key is not None:
            query = query.where(token_configs.c.key == key)
        return {r.key: r.value for r in await conn.execute(query.order_by(token_configs.c.key))}

    async def get(self, tenant_id: str, key: str) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            value = (await self._rows(conn, tenant_id, key)).get(key)
        if value is None:
            raise NotFound("entity.not_exists", name=key)
        return value

    async def list_customizers(self, tenant_id: str) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = await self._rows(conn, tenant_id)
        return [rows[k] for k in CONFIG_KEYS.values() if k in rows]

    async def _write(
        self, conn: AsyncConnection, tenant_id: str, key: str, value: dict[str, Any], actor: Actor | None
    ) -> bool:
        """Upserts the config and appends its event; True when it was created."""
        stmt = insert(token_configs).values(tenant_id=tenant_id, key=key, value=value)
        stmt = stmt.on_conflict_do_update(
            index_elements=[token_configs.c.tenant_id, token_configs.c.key],
            set_={"value": stmt.excluded.value, "updated_at": sa.func.now()},
        )
        created: bool = (await conn.execute(stmt.returning(sa.literal_column("xmax = 0")))).scalar_one()
        await self.outbox.append(conn, TokenConfigUpdated(key=key), tenant_id=tenant_id, actor=actor)
        return created

    async def put_customizer(
        self, tenant_id: str, token_type: str, value: dict[str, Any], actor: Actor | None
    ) -> tuple[dict[str, Any], bool]:
        check_script(value.get("script"))
        compile_customizer(token_type, value.get("environmentVariables") or {})
        stored = {**value, "script": ""}
        async with self.engine.begin() as conn:
            created = await self._write(conn, tenant_id, CONFIG_KEYS[token_type], stored, actor)
        self.invalidate(tenant_id)
        return stored, created

    async def patch_customizer(
        self, tenant_id: str, token_type: str, patch: dict[str, Any], actor: Actor | None
    ) -> dict[str, Any]:
        key = CONFIG_KEYS[token_type]
        check_script(patch.get("script"))
        async with self.engine.begin() as conn:
            current = (
                await conn.execute(
                    sa.select(token_configs.c.value)
                    .where(token_configs.c.tenant_id == tenant_id, token_configs.c.key == key)
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if current is None:
                raise NotFound("entity.not_exists", name=key)
            stored = {**current, **patch, "script": ""}
            compile_customizer(token_type, stored.get("environmentVariables") or {})
            await self._write(conn, tenant_id, key, stored, actor)
        self.invalidate(tenant_id)
        return stored

    async def delete(self, tenant_id: str, key: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            deleted = (
                await conn.execute(
                    sa.delete(token_configs)
                    .where(token_configs.c.tenant_id == tenant_id, token_configs.c.key == key)
                    .returning(token_configs.c.key)
                )
            ).one_or_none()
            if deleted is None:
                raise NotFound("entity.not_exists", name=key)
            event = TokenConfigUpdated(key=key, deleted=True)
            await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
        self.invalidate(tenant_id)

    async def put_id_token(self, tenant_id: str, claims: list[str], actor: Actor | None) -> dict[str, Any]:
        value = {"enabledExtendedClaims": list(dict.fromkeys(claims))}
        async with self.engine.begin() as conn:
            await self._write(conn, tenant_id, ID_TOKEN_KEY, value, actor)
        self.invalidate(tenant_id)
        return value
