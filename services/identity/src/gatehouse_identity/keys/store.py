"""SQL over identity's key tables: `signing_keys`, `oidc_cookie_keys` (shared with the cookie signer of
`oidc.cookies`, which reads them) and `oidc_configs`.

Commands on a tenant's keys take a transaction-scoped advisory lock first, so replicas (and the
promotion timer) never interleave their read-modify-write of the same key set.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.identity import oidc_configs, oidc_cookie_keys, signing_keys
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_identity.keys.rotation import CookieKeyState, KeyState, KeyStatus

# Updates are applied in this order so the one-key-per-status index never sees two at once:
# the slot an update moves into has always been vacated by a delete or an earlier update.
_UPDATE_ORDER = {KeyStatus.PREVIOUS: 0, KeyStatus.CURRENT: 1, KeyStatus.NEXT: 2}


@dataclass(frozen=True)
class KeyMaterial:
    private_jwk: dict[str, Any]
    public_jwk: dict[str, Any]


@dataclass(frozen=True)
class CookieKey:
    id: str
    secret: str
    created_at: datetime


async def lock_keys(conn: AsyncConnection, tenant_id: str) -> None:
    await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"keys:{tenant_id}"})


async def lock_cookie_keys(conn: AsyncConnection, tenant_id: str) -> None:
    """The lock `oidc.cookies.CookieSigner` takes to create a tenant's first cookie key."""
    await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"cookie-keys:{tenant_id}"})


def _state(row: Any) -> KeyState:
    return KeyState(row.id, row.algorithm, KeyStatus(row.status), row.effective_at, row.created_at)


class SigningKeyStore:
    async def states(self, conn: AsyncConnection, tenant_id: str) -> list[KeyState]:
        rows = await conn.execute(
            sa.select(
                signing_keys.c.id,
                signing_keys.c.algorithm,
                signing_keys.c.status,
                signing_keys.c.effective_at,
                signing_keys.c.created_at,
            ).where(signing_keys.c.tenant_id == tenant_id)
        )
        return [_state(r) for r in rows]

    async def with_material(self, conn: AsyncConnection, tenant_id: str) -> list[tuple[KeyState, KeyMaterial]]:
        rows = await conn.execute(sa.select(signing_keys).where(signing_keys.c.tenant_id == tenant_id))
        return [(_state(r), KeyMaterial(r.private_jwk, r.public_jwk)) for r in rows]

    async def insert(self, conn: AsyncConnection, tenant_id: str, key: KeyState, material: KeyMaterial) -> None:
        await conn.execute(
            sa.insert(signing_keys).values(
                tenant_id=tenant_id,
                id=key.id,
                algorithm=key.algorithm,
                private_jwk=material.private_jwk,
                public_jwk=material.public_jwk,
                status=key.status.value,
                effective_at=key.effective_at,
                created_at=key.created_at,
            )
        )

    async def replace_set(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        before: list[KeyState],
        after: list[KeyState],
        new: dict[str, KeyMaterial] | None = None,
    ) -> None:
        """Turn the stored set `before` into `after`; keys only in `after` come with their material."""
        kept = {k.id for k in after}
        gone = [k.id for k in before if k.id not in kept]
        if gone:
            await conn.execute(
                sa.delete(signing_keys).where(signing_keys.c.tenant_id == tenant_id, signing_keys.c.id.in_(gone))
            )
        old = {k.id: k for k in before}
        changed = [k for k in after if k.id in old and old[k.id] != k]
        for key in sorted(changed, key=lambda k: _UPDATE_ORDER[k.status]):
            await conn.execute(
                sa.update(signing_keys)
                .where(signing_keys.c.tenant_id == tenant_id, signing_keys.c.id == key.id)
                .values(status=key.status.value, effective_at=key.effective_at)
            )
        for key in after:
            if key.id not in old:
                material = (new or {}).get(key.id)
                if material is None:
                    raise ValueError(f"new key {key.id} has no material")
                await self.insert(conn, tenant_id, key, material)


class CookieKeyStore:
    async def all(self, conn: AsyncConnection, tenant_id: str) -> list[CookieKey]:
        rows = await conn.execute(
            sa.select(oidc_cookie_keys.c.id, oidc_cookie_keys.c.secret, oidc_cookie_keys.c.created_at)
            .where(oidc_cookie_keys.c.tenant_id == tenant_id)
            .order_by(oidc_cookie_keys.c.created_at.desc(), oidc_cookie_keys.c.id)
        )
        return [CookieKey(r.id, r.secret, r.created_at) for r in rows]

    async def states(self, conn: AsyncConnection, tenant_id: str) -> list[CookieKeyState]:
        return [CookieKeyState(k.id, k.created_at) for k in await self.all(conn, tenant_id)]

    async def insert(self, conn: AsyncConnection, tenant_id: str, key: CookieKey) -> None:
        await conn.execute(
            sa.insert(oidc_cookie_keys).values(
                tenant_id=tenant_id, id=key.id, secret=key.secret, created_at=key.created_at
            )
        )

    async def keep_only(self, conn: AsyncConnection, tenant_id: str, ids: list[str]) -> None:
        await conn.execute(
            sa.delete(oidc_cookie_keys).where(
                oidc_cookie_keys.c.tenant_id == tenant_id, oidc_cookie_keys.c.id.not_in(ids)
            )
        )


class OidcConfigStore:
    async def get(self, conn: AsyncConnection, tenant_id: str, key: str) -> dict[str, Any]:
        value = (
            await conn.execute(
                sa.select(oidc_configs.c.value).where(oidc_configs.c.tenant_id == tenant_id, oidc_configs.c.key == key)
            )
        ).scalar_one_or_none()
        return dict(value or {})

    async def merge(self, conn: AsyncConnection, tenant_id: str, key: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Merge `patch` into the stored object (created when absent); returns the stored result."""
        stmt = insert(oidc_configs).values(tenant_id=tenant_id, key=key, value=patch, updated_at=sa.func.now())
        upsert = stmt.on_conflict_do_update(
            index_elements=[oidc_configs.c.tenant_id, oidc_configs.c.key],
            set_={"value": oidc_configs.c.value.op("||")(stmt.excluded.value), "updated_at": sa.func.now()},
        ).returning(oidc_configs.c.value)
        value = (await conn.execute(upsert)).scalar_one()
        return dict(value)
