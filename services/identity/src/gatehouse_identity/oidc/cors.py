"""CORS for the OIDC endpoints a browser app calls with `fetch` (Logto's browser SDKs: discovery, JWKS, the
token endpoint, userinfo, revocation, introspection, device authorization), as Logto's provider does it:

- a preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered for any origin;
- discovery and JWKS are readable from any origin;
- the other endpoints are readable only from an origin the request's client allows: the origins of its
  redirect URIs and its `customClientMetadata.corsAllowedOrigins`. The client is the one that
  authenticates (Basic `client_id`, or `client_id` in the form), or for userinfo the one its access token
  was issued to. A request from another origin is still answered, without CORS headers, so the browser
  keeps the answer from the page.

Plain ASGI around the identity app: requests without an `Origin` header (every server-side client) pass
through untouched.
"""

import base64
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from gatehouse_platform.service import ServiceContext
from gatehouse_schema.queries.management import ClientRecord
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from gatehouse_identity.oidc import store


class Audience(Enum):
    ANYONE = "anyone"  # public metadata
    CLIENT = "client"  # the authenticating client's origins
    TOKEN_CLIENT = "token_client"  # the origins of the client the access token belongs to


ENDPOINTS: dict[str, tuple[Audience, bytes]] = {
    "/oidc/.well-known/openid-configuration": (Audience.ANYONE, b"GET"),
    "/oidc/jwks": (Audience.ANYONE, b"GET"),
    "/oidc/token": (Audience.CLIENT, b"POST"),
    "/oidc/token/revocation": (Audience.CLIENT, b"POST"),
    "/oidc/token/introspection": (Audience.CLIENT, b"POST"),
    "/oidc/device/auth": (Audience.CLIENT, b"POST"),
    "/oidc/me": (Audience.TOKEN_CLIENT, b"GET,POST"),
}
MAX_AGE = b"3600"


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def allowed_origins(client: ClientRecord) -> set[str]:
    """The origins of the client's redirect URIs and its `corsAllowedOrigins`."""
    origins = {origin_of(u) for u in client.oidc_client_metadata.get("redirectUris") or () if isinstance(u, str)}
    extra = client.custom_client_metadata.get("corsAllowedOrigins") or ()
    origins.update(origin_of(o) or o for o in extra if isinstance(o, str))
    origins.discard(None)
    return {o for o in origins if o is not None}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _basic_client_id(authorization: str | None) -> str | None:
    if authorization is None or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    raw_id, sep, _ = decoded.partition(":")
    return unquote_plus(raw_id) if sep else None


def _form(body: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return {}


class OidcCors:
    def __init__(self, app: ASGIApp, context: Callable[[], ServiceContext | None]) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = ENDPOINTS.get(scope["path"]) if scope["type"] == "http" else None
        origin = _header(scope, b"origin") if endpoint is not None else None
        if endpoint is None or origin is None:
            await self.app(scope, receive, send)
            return
        audience, methods = endpoint
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method") is not None:  # type: ignore[typeddict-item]
            await self._preflight(scope, send, origin, methods)
            return
        if audience is Audience.ANYONE:
            await self.app(scope, receive, _with_cors(send, origin, None))
            return
        body = bytearray()

        async def tee() -> ReceiveMessage:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def allowed() -> bool:
            client = await self._client(scope, audience, bytes(body))
            return client is not None and origin in allowed_origins(client)

        await self.app(scope, tee, _with_cors(send, origin, allowed))

    @staticmethod
    async def _preflight(scope: Scope, send: Send, origin: str, methods: bytes) -> None:
        requested = _header(scope, b"access-control-request-headers")
        headers = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", methods),
            (b"access-control-max-age", MAX_AGE),
            (b"vary", b"Origin"),
            (b"content-length", b"0"),
        ]
        if requested:
            headers.append((b"access-control-allow-headers", requested.encode("latin-1")))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _client(self, scope: Scope, audience: Audience, body: bytes) -> ClientRecord | None:
        ctx = self.context()
        if ctx is None:
            return None
        tenant_id = ctx.settings.default_tenant_id
        clients = ctx.components["clients"]
        form = _form(body)
        authorization = _header(scope, b"authorization")
        if audience is Audience.CLIENT:
            client_id = _basic_client_id(authorization) or form.get("client_id")
        else:
            bearer = authorization[7:].strip() if authorization and authorization[:7].lower() == "bearer " else None
            value = bearer or form.get("access_token")
            if not value:
                return None
            async with ctx.engine.connect() as conn:
                token = await store.get_token(conn, tenant_id, store.digest(value))
            client_id = token.client_id if token is not None else None
        if not client_id:
            return None
        client: ClientRecord | None = await clients.get(tenant_id, client_id)
        return client


def _with_cors(send: Send, origin: str, allowed: Callable[[], Awaitable[bool]] | None) -> Send:
    """`send`, adding `Access-Control-Allow-Origin` to the answer when `allowed` (None: always) says so."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and (allowed is None or await allowed()):
            headers: list[Any] = list(message.get("headers", ()))
            headers += [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
            message["headers"] = headers
        await send(message)

    return wrapped
