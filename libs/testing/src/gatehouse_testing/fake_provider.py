"""A social identity provider for tests: a real HTTP server (aiohttp, on a free port) speaking the parts of
OAuth 2.0 / OpenID Connect a connector calls (discovery, token endpoint, JWKS, user info). A test hands out a
code with `issue_code`, as the provider would after its user signed in, and inspects the token requests."""

import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import ECKey

CLIENT_ID, CLIENT_SECRET = "gatehouse-client", "gatehouse-client-secret"


@dataclass
class Grant:
    claims: dict[str, Any]
    redirect_uri: str
    refresh_token: bool


@dataclass
class FakeProvider:
    url: str = ""
    key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256", parameters={"kid": "fake-1"}))
    alg: str = "ES256"
    codes: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    refresh_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    expires_in: int = 3600

    @property
    def issuer(self) -> str:
        return self.url

    def oidc_config(self, **overrides: Any) -> dict[str, Any]:
        """A Generic OIDC connector's config for this provider."""
        return {
            "authorizationEndpoint": f"{self.url}/authorize",
            "tokenEndpoint": f"{self.url}/token",
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "scope": "profile email",
            "idTokenVerificationConfig": {"jwksUri": f"{self.url}/jwks", "issuer": self.url},
            **overrides,
        }

    def sso_oidc_config(self, **overrides: Any) -> dict[str, Any]:
        """An OIDC enterprise SSO connector's config for this provider (discovered from its issuer)."""
        return {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "issuer": self.url, **overrides}

    def oauth2_config(self, **overrides: Any) -> dict[str, Any]:
        """A Generic OAuth 2.0 connector's config for this provider."""
        return {
            "authorizationEndpoint": f"{self.url}/authorize",
            "tokenEndpoint": f"{self.url}/token",
            "userInfoEndpoint": f"{self.url}/userinfo",
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "tokenEndpointResponseType": "json",
            **overrides,
        }

    def issue_code(
        self, sub: str, redirect_uri: str, *, nonce: str | None = None, refresh_token: bool = True, **claims: Any
    ) -> str:
        code = secrets.token_urlsafe(16)
        now = int(time.time())
        payload = {"iss": self.url, "sub": sub, "aud": CLIENT_ID, "iat": now, "exp": now + 300, **claims}
        if nonce is not None:
            payload["nonce"] = nonce
        self.codes[code] = Grant(payload, redirect_uri, refresh_token)
        return code

    def id_token(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"alg": self.alg, "kid": self.key.kid}, claims, self.key, algorithms=[self.alg])

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append(
            {k: str(v) for k, v in form.items()} | {"authorization": request.headers.get("Authorization", "")}
        )
        if form.get("grant_type") == "refresh_token":
            claims = self.refresh_tokens.pop(str(form.get("refresh_token", "")), None)
            if claims is None:
                return web.json_response({"error": "invalid_grant", "error_description": "bad token"}, status=400)
            return web.json_response(self._tokens(claims, refresh_token=True, id_token=False))
        grant = self.codes.pop(str(form.get("code", "")), None)
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return web.json_response({"error": "invalid_grant", "error_description": "bad code"}, status=400)
        return web.json_response(self._tokens(grant.claims, refresh_token=grant.refresh_token, id_token=True))

    def _tokens(self, claims: dict[str, Any], *, refresh_token: bool, id_token: bool) -> dict[str, Any]:
        access_token = secrets.token_urlsafe(24)
        self.access_tokens[access_token] = claims
        body: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": "openid profile email",
        }
        if id_token:
            body["id_token"] = self.id_token(claims)
        if refresh_token:
            body["refresh_token"] = secrets.token_urlsafe(24)
            self.refresh_tokens[body["refresh_token"]] = claims
        return body

    async def _discovery(self, _: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "userinfo_endpoint": f"{self.url}/userinfo",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [self.alg],
            }
        )

    async def _jwks(self, _: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.as_dict(private=False)]})

    async def _userinfo(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        claims = self.access_tokens.get(token)
        if claims is None:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response({"id": claims["sub"], **{k: v for k, v in claims.items() if k not in {"iss", "aud"}}})


@contextlib.asynccontextmanager
async def fake_provider() -> AsyncIterator[FakeProvider]:
    provider = FakeProvider()
    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", provider._discovery)
    app.router.add_post("/token", provider._token)
    app.router.add_get("/jwks", provider._jwks)
    app.router.add_get("/userinfo", provider._userinfo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    provider.url = f"http://127.0.0.1:{port}"
    try:
        yield provider
    finally:
        await runner.cleanup()
