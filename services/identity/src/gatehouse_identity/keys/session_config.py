"""The tenant's OIDC session configuration (`GET/PATCH /api/configs/oidc/session`), Logto's `oidc.session`.

Only `ttl` (seconds) exists; an unset value reads as Logto's default, 14 days. The OIDC flows read
it when they open a session.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.keys.store import OidcConfigStore

SESSION = "session"
DEFAULT_SESSION_TTL = 14 * 24 * 60 * 60


class OidcSessionConfig:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.store = OidcConfigStore()

    async def get(self, tenant_id: str) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            stored = await self.store.get(conn, tenant_id, SESSION)
        return {"ttl": DEFAULT_SESSION_TTL, **stored}

    async def update(self, tenant_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        """A partial update: absent fields keep their value; the row is created on first write."""
        async with self.engine.begin() as conn:
            stored = await self.store.merge(conn, tenant_id, SESSION, patch) if patch else None
            if stored is None:
                stored = await self.store.get(conn, tenant_id, SESSION)
        return {"ttl": DEFAULT_SESSION_TTL, **stored}

    async def ttl(self, tenant_id: str) -> int:
        return int((await self.get(tenant_id))["ttl"])
