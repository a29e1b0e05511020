"""Routes of `/oidc`: discovery, JWKS and the token endpoint."""

from typing import Any

from gatehouse_platform.oauth_errors import OAuthError
from gatehouse_platform.service import ServiceContext
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.status_codes import HTTP_200_OK

from gatehouse_identity.keys.keyring import Keyring
from gatehouse_identity.oidc.discovery import discovery_document
from gatehouse_identity.oidc.token_endpoint import TokenEndpoint
from gatehouse_identity.oidc.token_response import TokenResponse

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}


@get(
    "/oidc/.well-known/openid-configuration",
    operation_id="GetOpenIdConfiguration",
    tags=["OIDC"],
    media_type=MediaType.JSON,
    summary="OpenID Provider metadata",
)
async def openid_configuration(ctx: ServiceContext, keyring: Keyring) -> Response[bytes]:
    body = discovery_document(ctx.settings.issuer, keyring.signing_key.alg)
    return Response(body, media_type=MediaType.JSON, headers=PUBLIC_CACHE)


@get("/oidc/jwks", operation_id="GetJwks", tags=["OIDC"], media_type=MediaType.JSON, summary="JSON Web Key Set")
async def jwks(keyring: Keyring) -> Response[bytes]:
    return Response(keyring.jwks_json, media_type="application/jwk-set+json; charset=utf-8", headers=PUBLIC_CACHE)


@post(
    "/oidc/token",
    operation_id="CreateToken",
    tags=["OIDC"],
    status_code=HTTP_200_OK,
    summary="Token endpoint (RFC 6749)",
)
async def token(request: Request[Any, Any, Any], ctx: ServiceContext, endpoint: TokenEndpoint) -> Response[Any]:
    body = await request.body()
    try:
        result: TokenResponse = await endpoint.handle(
            ctx.settings.default_tenant_id,
            request.headers.get("authorization"),
            request.headers.get("content-type"),
            body,
        )
    except OAuthError as exc:
        headers = dict(NO_STORE)
        if exc.error == "invalid_client" and request.headers.get("authorization", "")[:6].lower() == "basic ":
            headers["WWW-Authenticate"] = 'Basic realm="gatehouse"'
        return Response(exc.body(), status_code=exc.status, headers=headers)
    return Response(result, headers=NO_STORE)


ROUTES = [openid_configuration, jwks, token]
