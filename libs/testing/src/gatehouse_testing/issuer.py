"""A JWKS endpoint and token minting for service tests that need Management API tokens
without running identity (identity's own tests use the real token endpoint)."""

import asyncio
import threading
import time
import uuid
from typing import Any

from aiohttp import web
from gatehouse_schema.contexts import management_resource_indicator
from joserfc import jwt
from joserfc.jwk import ECKey


class TestIssuer:
    __test__ = False  # not a test class

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.key = ECKey.generate_key("P-384", private=True, auto_kid=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self, port: int) -> None:
        """Serves the JWKS from a thread of its own, so it answers whatever event loop the tests use."""
        jwk = self.key.as_dict(private=False)
        jwk.update(alg="ES384", use="sig")

        async def jwks(_: web.Request) -> web.Response:
            return web.json_response({"keys": [jwk]})

        async def serve() -> None:
            app = web.Application()
            app.router.add_get("/oidc/jwks", jwks)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", port).start()

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(serve(), self._loop).result(10)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def mint(
        self,
        *,
        scope: str = "all",
        audience: str | None = None,
        client_id: str = "test-client",
        ttl: int = 3600,
        issuer: str | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        body: dict[str, Any] = {
            "jti": uuid.uuid4().hex,
            "sub": client_id,
            "client_id": client_id,
            "iat": now,
            "exp": now + ttl,
            "scope": scope,
            "iss": issuer or self.issuer,
            "aud": audience or management_resource_indicator("default"),
            **claims,
        }
        header = {"alg": "ES384", "typ": "at+jwt", "kid": self.key.kid}
        return jwt.encode(header, body, self.key, algorithms=["ES384"])

    def management_headers(self, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.mint(**kwargs)}"}
