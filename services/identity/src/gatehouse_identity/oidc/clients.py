"""Application records on the token path, cached and invalidated by `Application.*` events.

An entry also expires after `ttl` seconds, and the cache empties when the NATS connection comes
back, so a missed invalidation cannot keep a removed secret valid for long.
"""

import time

from gatehouse_schema.queries.management import ClientRecord, get_client
from sqlalchemy.ext.asyncio import AsyncEngine


class ClientCache:
    def __init__(self, engine: AsyncEngine, ttl: float = 300.0, max_size: int = 10_000) -> None:
        self.engine = engine
        self.ttl = ttl
        self.max_size = max_size
        self._entries: dict[tuple[str, str], tuple[float, ClientRecord | None]] = {}

    async def get(self, tenant_id: str, client_id: str) -> ClientRecord | None:
        key = (tenant_id, client_id)
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self.engine.connect() as conn:
            record = await get_client(conn, tenant_id, client_id)
        if len(self._entries) >= self.max_size:
            self._entries.clear()
        self._entries[key] = (now + self.ttl, record)
        return record

    def invalidate(self, tenant_id: str, client_id: str | None) -> None:
        if client_id is None:
            self.clear()
        else:
            self._entries.pop((tenant_id, client_id), None)

    def clear(self) -> None:
        self._entries.clear()
