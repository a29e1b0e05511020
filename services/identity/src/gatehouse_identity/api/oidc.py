"""Routes of `/oidc`: discovery, JWKS, authorization (and its resume route), token, userinfo,
introspection, revocation and logout. Thin: parse, call the OIDC core, render."""

from typing import Any
from urllib.parse import parse_qsl

import msgspec
from gatehouse_platform.oauth_errors import OAuthError, invalid_request
from gatehouse_platform.service import FastAnswer, ServiceContext
from litestar import Request, Response, get, post, route
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER
from litestar.types import Receive, Scope, Send

from gatehouse_identity.keys.keyring import Keyring
from gatehouse_identity.oidc.auth_request import collect_params
from gatehouse_identity.oidc.authorization import AuthorizationService, CookieChange, Outcome
from gatehouse_identity.oidc.claims import CLAIMS_SUPPORTED
from gatehouse_identity.oidc.cookies import INTERACTION_COOKIE, SESSION_COOKIE
from gatehouse_identity.oidc.discovery import StaticBody, discovery_body, jwks_body
from gatehouse_identity.oidc.end_session import EndSession
from gatehouse_identity.oidc.introspection import TokenIntrospection
from gatehouse_identity.oidc.token_endpoint import TokenEndpoint, parse_form
from gatehouse_identity.oidc.token_response import TokenResponse
from gatehouse_identity.oidc.userinfo import UserinfoEndpoint

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}
PUBLIC_CACHE_BYTES = PUBLIC_CACHE["Cache-Control"].encode()
AnyRequest = Request[Any, Any, Any]
_token_encoder = msgspec.json.Encoder()


def _error(exc: OAuthError, request: AnyRequest, realm: str | None = None) -> Response[Any]:
    headers = dict(NO_STORE)
    authorization = request.headers.get("authorization", "")
    if exc.error == "invalid_client" and authorization[:6].lower() == "basic ":
        headers["WWW-Authenticate"] = 'Basic realm="gatehouse"'
    if realm is not None:
        headers["WWW-Authenticate"] = f'Bearer realm="{realm}", error="{exc.error}"'
    return Response(exc.body(), status_code=exc.status, headers=headers)


def _cookie(change: CookieChange, secure: bool) -> Cookie:
    common: dict[str, Any] = {"path": "/", "httponly": True, "samesite": "lax", "secure": secure}
    if change.value is None:
        return Cookie(key=change.name, value="", max_age=0, expires=0, **common)
    return Cookie(key=change.name, value=change.value, max_age=change.max_age, **common)


def _redirect(location: str, cookies: list[CookieChange], ctx: ServiceContext) -> Response[Any]:
    secure = ctx.settings.public_url.startswith("https://")
    return Response(
        None,
        status_code=HTTP_303_SEE_OTHER,
        headers={"Location": location, **NO_STORE},
        cookies=[_cookie(c, secure) for c in cookies],
    )


async def _params(request: AnyRequest) -> list[tuple[str, str]]:
    """Query parameters, or the form body of a POST (`application/x-www-form-urlencoded`)."""
    if request.method == "POST":
        content_type = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise invalid_request("only application/x-www-form-urlencoded content-type bodies are supported")
        try:
            return parse_qsl((await request.body()).decode(), keep_blank_values=True)
        except UnicodeDecodeError:
            raise invalid_request("request body is not valid UTF-8") from None
    return parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)


def _single_valued(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise invalid_request(f"'{key}' parameter must not be provided twice")
        out[key] = value
    return out


def per_method(name: str) -> Any:
    """One operation id per method of a GET+POST route (`Authorize`, `AuthorizePost`)."""

    def create(_handler: Any, method: str, _path: Any) -> str:
        return name if method.upper() == "GET" else f"{name}{method.title()}"

    return create


JWKS_MEDIA_TYPE = "application/jwk-set+json; charset=utf-8"


def _discovery(ctx: ServiceContext, keyring: Keyring) -> StaticBody:
    return discovery_body(ctx.settings.issuer, keyring.signing_key.alg, tuple(CLAIMS_SUPPORTED))


def _static_response(static: StaticBody, media_type: str, if_none_match: str | None) -> Response[bytes]:
    headers = {**PUBLIC_CACHE, "ETag": static.etag.decode()}
    if static.matches(if_none_match.encode("latin-1") if if_none_match else None):
        return Response(b"", status_code=304, headers=headers, media_type=media_type)
    return Response(static.body, media_type=media_type, headers=headers)


async def _send_static(scope: Scope, send: Send, static: StaticBody, media_type: bytes) -> None:
    """The same answer as `_static_response`, as plain ASGI (the service's GET fast path)."""
    if_none_match = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
    not_modified = static.matches(if_none_match)
    body = b"" if not_modified else static.body
    headers = [
        (b"content-type", media_type),
        (b"cache-control", PUBLIC_CACHE_BYTES),
        (b"etag", static.etag),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 304 if not_modified else 200, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _fast_discovery(ctx: ServiceContext, scope: Scope, _: Receive, send: Send) -> None:
    await _send_static(scope, send, _discovery(ctx, ctx.components["keyring"]), b"application/json")


async def _fast_jwks(ctx: ServiceContext, scope: Scope, _: Receive, send: Send) -> None:
    await _send_static(scope, send, jwks_body(ctx.components["keyring"].jwks_json), JWKS_MEDIA_TYPE.encode())


@get(
    "/oidc/.well-known/openid-configuration",
    operation_id="GetOpenIdConfiguration",
    tags=["OIDC"],
    media_type=MediaType.JSON,
    summary="OpenID Provider metadata",
    opt={"fast_get": _fast_discovery},
)
async def openid_configuration(request: AnyRequest, ctx: ServiceContext, keyring: Keyring) -> Response[bytes]:
    """Encoded once per issuer and signing algorithm; `ETag` / `If-None-Match` answer 304."""
    return _static_response(_discovery(ctx, keyring), MediaType.JSON, request.headers.get("if-none-match"))


@get(
    "/oidc/jwks",
    operation_id="GetJwks",
    tags=["OIDC"],
    media_type=MediaType.JSON,
    summary="JSON Web Key Set",
    opt={"fast_get": _fast_jwks},
)
async def jwks(request: AnyRequest, keyring: Keyring) -> Response[bytes]:
    return _static_response(jwks_body(keyring.jwks_json), JWKS_MEDIA_TYPE, request.headers.get("if-none-match"))


@route(
    "/oidc/auth",
    http_method=["GET", "POST"],
    operation_id=per_method("Authorize"),
    status_code=HTTP_200_OK,
    tags=["OIDC"],
    summary="Authorization endpoint (code flow with PKCE)",
)
async def authorize(request: AnyRequest, ctx: ServiceContext, authorization: AuthorizationService) -> Response[Any]:
    try:
        params = collect_params(await _params(request))
        outcome: Outcome = await authorization.authorize(
            ctx.settings.default_tenant_id, params, request.cookies.get(SESSION_COOKIE)
        )
    except OAuthError as exc:
        return _error(exc, request)
    return _redirect(outcome.location, outcome.cookies, ctx)


@get(
    "/oidc/auth/{uid:str}",
    operation_id="ResumeAuthorization",
    tags=["OIDC"],
    summary="Finish an authorization after the sign-in interaction",
)
async def resume(
    uid: str, request: AnyRequest, ctx: ServiceContext, authorization: AuthorizationService
) -> Response[Any]:
    try:
        outcome = await authorization.resume(
            ctx.settings.default_tenant_id,
            uid,
            request.cookies.get(INTERACTION_COOKIE),
            request.cookies.get(SESSION_COOKIE),
        )
    except OAuthError as exc:
        return _error(exc, request)
    return _redirect(outcome.location, outcome.cookies, ctx)


@post(
    "/oidc/token",
    operation_id="CreateToken",
    tags=["OIDC"],
    status_code=HTTP_200_OK,
    summary="Token endpoint (RFC 6749)",
)
async def token(request: AnyRequest, ctx: ServiceContext, endpoint: TokenEndpoint) -> Response[Any]:
    body = await request.body()
    try:
        result: TokenResponse = await endpoint.handle(
            ctx.settings.default_tenant_id,
            request.headers.get("authorization"),
            request.headers.get("content-type"),
            body,
        )
    except OAuthError as exc:
        return _error(exc, request)
    # encoded here (a msgspec Struct of strings and an int): litestar's serializer lookup costs more
    return Response(_token_encoder.encode(result), media_type=MediaType.JSON, headers=NO_STORE)


@route(
    "/oidc/me",
    http_method=["GET", "POST"],
    operation_id=per_method("GetUserinfo"),
    status_code=HTTP_200_OK,
    tags=["OIDC"],
    summary="Userinfo",
)
async def userinfo(request: AnyRequest, ctx: ServiceContext, userinfo: UserinfoEndpoint) -> Response[Any]:
    try:
        header = request.headers.get("authorization") or ""
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
        if token is None and request.method == "POST":
            token = _single_valued(await _params(request)).get("access_token")
        claims = await userinfo.claims(ctx.settings.default_tenant_id, token)
    except OAuthError as exc:
        return _error(exc, request, realm=ctx.settings.issuer)
    return Response(claims, status_code=HTTP_200_OK, headers=NO_STORE)


def _scope_header(scope: Scope, name: bytes) -> str | None:
    """The first value of a header, as `request.headers.get` gives it."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


_NO_STORE_JSON = [(b"content-type", b"application/json")]
_NO_STORE_JSON += [(k.lower().encode(), v.encode()) for k, v in NO_STORE.items()]


async def _fast_introspection(ctx: ServiceContext, scope: Scope, body: bytes) -> FastAnswer | None:
    """`introspection` as plain ASGI (no routing, DI, form parsing or response building by litestar);
    an error goes back to the litestar route (None), which renders it: introspection has no side effects."""
    tokens: TokenIntrospection = ctx.components["token_tools"]
    try:
        form = parse_form(_scope_header(scope, b"content-type"), body)
        answer = await tokens.introspect(ctx.settings.default_tenant_id, _scope_header(scope, b"authorization"), form)
    except OAuthError:
        return None
    return 200, list(_NO_STORE_JSON), _token_encoder.encode(answer)


@post(
    "/oidc/token/introspection",
    operation_id="IntrospectToken",
    tags=["OIDC"],
    status_code=HTTP_200_OK,
    summary="Token introspection (RFC 7662)",
    opt={"fast_post": _fast_introspection},
)
async def introspection(request: AnyRequest, ctx: ServiceContext, tokens: TokenIntrospection) -> Response[Any]:
    try:
        form = parse_form(request.headers.get("content-type"), await request.body())
        body = await tokens.introspect(ctx.settings.default_tenant_id, request.headers.get("authorization"), form)
    except OAuthError as exc:
        return _error(exc, request)
    return Response(body, headers=NO_STORE)


@post(
    "/oidc/token/revocation",
    operation_id="RevokeToken",
    tags=["OIDC"],
    status_code=HTTP_200_OK,
    summary="Token revocation (RFC 7009)",
)
async def revocation(request: AnyRequest, ctx: ServiceContext, tokens: TokenIntrospection) -> Response[Any]:
    try:
        form = parse_form(request.headers.get("content-type"), await request.body())
        await tokens.revoke(ctx.settings.default_tenant_id, request.headers.get("authorization"), form)
    except OAuthError as exc:
        return _error(exc, request)
    return Response(b"", headers=NO_STORE)


@route(
    "/oidc/session/end",
    http_method=["GET", "POST"],
    operation_id=per_method("EndSession"),
    status_code=HTTP_200_OK,
    tags=["OIDC"],
    summary="RP-initiated logout",
)
async def end_session(request: AnyRequest, ctx: ServiceContext, logout: EndSession) -> Response[Any]:
    try:
        params = _single_valued(await _params(request))
        result = await logout.end(ctx.settings.default_tenant_id, params, request.cookies.get(SESSION_COOKIE))
    except OAuthError as exc:
        return _error(exc, request)
    if result.location is not None:
        return _redirect(result.location, result.cookies, ctx)
    secure = ctx.settings.public_url.startswith("https://")
    return Response(
        "<!DOCTYPE html><title>Signed out</title><p>You have been signed out.</p>",
        media_type=MediaType.HTML,
        status_code=HTTP_200_OK,
        headers=NO_STORE,
        cookies=[_cookie(c, secure) for c in result.cookies],
    )


ROUTES = [
    openid_configuration,
    jwks,
    authorize,
    resume,
    token,
    userinfo,
    introspection,
    revocation,
    end_session,
]
