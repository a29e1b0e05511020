"""Fetches the services' OpenAPI documents (cached briefly) for the merged documents."""

import asyncio
import time
from typing import Any

import aiohttp
from gatehouse_platform.logging import get_logger

log = get_logger("gatehouse.gateway.openapi")


class OpenApiSource:
    def __init__(self, upstreams: dict[str, str], ttl: float = 30.0) -> None:
        self.upstreams = upstreams
        self.ttl = ttl
        self._docs: list[dict[str, Any]] = []
        self._fetched = 0.0

    async def _fetch_one(self, session: aiohttp.ClientSession, name: str, base: str) -> dict[str, Any] | None:
        try:
            async with session.get(base.rstrip("/") + "/openapi/openapi.json") as resp:
                if resp.status != 200:
                    return None
                doc: dict[str, Any] = await resp.json(content_type=None)
                return doc
        except Exception as exc:
            log.warning("openapi fetch failed", service=name, error=repr(exc))
            return None

    async def documents(self) -> list[dict[str, Any]]:
        if time.monotonic() - self._fetched < self.ttl and self._docs:
            return self._docs
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as session:
            found = await asyncio.gather(*(self._fetch_one(session, n, u) for n, u in self.upstreams.items()))
        docs = [d for d in found if d is not None]
        if len(docs) == len(self.upstreams):
            self._fetched = time.monotonic()
        self._docs = docs
        return docs
