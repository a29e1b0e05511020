"""A real HTTP endpoint for webhook tests: an aiohttp server on a free local port that records every request
(raw body and headers) and answers with a status the test chooses per path."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return msgspec.json.decode(self.body)


@dataclass
class Receiver:
    base_url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: dict[str, tuple[int, str]] = field(default_factory=dict)  # path -> (status, body)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    def url(self, path: str) -> str:
        return self.base_url + path

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def wait_for(self, path: str, count: int = 1, timeout: float = 10.0) -> list[Received]:
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.at(path)) >= count)
        return self.at(path)

    async def handle(self, request: web.Request) -> web.Response:
        received = Received(request.path, {k.lower(): v for k, v in request.headers.items()}, await request.read())
        async with self._arrived:
            self.requests.append(received)
            self._arrived.notify_all()
        status, text = self.answers.get(request.path, (200, '{"ok":true}'))
        return web.Response(status=status, text=text, content_type="application/json")


@contextlib.asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.base_url = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        await runner.cleanup()
