"""Application records on the token path, cached and invalidated by `Application.*` events.

An entry also expires after `ttl` seconds, and the cache empties when the NATS connection comes
back, so a missed invalidation cannot keep a removed secret valid for long.

A missing or expired entry is loaded once however many requests ask for it at the same time
(`SingleFlight`): when the entry of a busy client expires, the requests in flight wait for one
query instead of each opening a connection and querying (a stampede that stalled the token path).
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from gatehouse_schema.queries.management import ClientRecord, get_client
from sqlalchemy.ext.asyncio import AsyncEngine

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """One load per key at a time: callers asking while it runs share its result (or its error).

    The load runs in its own task, so a caller that is cancelled does not cancel it for the others.
    `forget(key)` (an invalidation) detaches a running load: later callers start a new one, and
    `is_current` tells the detached load not to store its result."""

    def __init__(self) -> None:
        self._running: dict[K, asyncio.Task[V]] = {}

    async def run(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(load())
            self._running[key] = task
            task.add_done_callback(lambda done: self._done(key, done))
        return await asyncio.shield(task)

    def _done(self, key: K, task: asyncio.Task[V]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" when every caller went away

    def is_current(self, key: K) -> bool:
        """Called from within a load: False once the key was forgotten while it ran."""
        task = self._running.get(key)
        return task is not None and task is asyncio.current_task()

    def forget(self, key: K) -> None:
        self._running.pop(key, None)

    def forget_all(self) -> None:
        self._running.clear()


class ClientCache:
    def __init__(self, engine: AsyncEngine, ttl: float = 300.0, max_size: int = 10_000) -> None:
        self.engine = engine
        self.ttl = ttl
        self.max_size = max_size
        self._entries: dict[tuple[str, str], tuple[float, ClientRecord | None]] = {}
        self._loads: SingleFlight[tuple[str, str], ClientRecord | None] = SingleFlight()

    async def get(self, tenant_id: str, client_id: str) -> ClientRecord | None:
        key = (tenant_id, client_id)
        hit = self._entries.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return await self._loads.run(key, lambda: self._load(key))

    async def _load(self, key: tuple[str, str]) -> ClientRecord | None:
        async with self.engine.connect() as conn:
            record = await get_client(conn, *key)
        if self._loads.is_current(key):  # not invalidated while loading: keep it
            if len(self._entries) >= self.max_size:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.ttl, record)
        return record

    def invalidate(self, tenant_id: str, client_id: str | None) -> None:
        if client_id is None:
            self.clear()
        else:
            self._entries.pop((tenant_id, client_id), None)
            self._loads.forget((tenant_id, client_id))

    def clear(self) -> None:
        self._entries.clear()
        self._loads.forget_all()
