"""CORS on the OIDC endpoints browser apps call: preflights for any origin, discovery and JWKS readable
from any origin, the token endpoint, userinfo and revocation only from the client's own origins (its
redirect URIs' origins and `corsAllowedOrigins`), and nothing added for requests without an Origin."""

import secrets
from typing import Any

import sqlalchemy as sa
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.tables import management as m
from gatehouse_testing.oidc_flow import FlowApp, make_flow_app, sign_in_and_exchange
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

APP_ORIGIN = "https://app.example.com"  # the origin of oidc_flow's redirect URI
EXTRA_ORIGIN = "https://console.example.net"
OTHER_ORIGIN = "https://evil.example.org"
ACAO = "access-control-allow-origin"


async def test_preflight_is_answered_for_any_origin(client: AsyncClient) -> None:
    for path, method in (("/oidc/token", "POST"), ("/oidc/me", "GET"), ("/oidc/jwks", "GET")):
        response = await client.options(
            path,
            headers={
                "Origin": OTHER_ORIGIN,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "content-type, authorization",
            },
        )
        assert response.status_code == 204, (path, response.text)
        assert response.headers[ACAO] == OTHER_ORIGIN
        assert method in response.headers["access-control-allow-methods"]
        assert response.headers["access-control-allow-headers"] == "content-type, authorization"


async def test_discovery_and_jwks_are_readable_from_any_origin(client: AsyncClient) -> None:
    for path in ("/oidc/.well-known/openid-configuration", "/oidc/jwks"):
        response = await client.get(path, headers={"Origin": OTHER_ORIGIN})
        assert response.status_code == 200 and response.headers[ACAO] == OTHER_ORIGIN
        assert ACAO not in (await client.get(path)).headers  # no Origin, no CORS


async def _app_allowing(db: AsyncEngine, origins: list[str]) -> FlowApp:
    app = await make_flow_app(db)
    async with db.begin() as conn:
        await conn.execute(
            sa.update(m.applications)
            .where(m.applications.c.id == app.id)
            .values(custom_client_metadata={"corsAllowedOrigins": origins, "rotateRefreshToken": False})
        )
    return app


async def test_token_userinfo_and_revocation_are_readable_only_from_the_clients_origins(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user = await client.post("/api/users", json={"username": f"cors{secrets.token_hex(5)}"}, headers=auth)
    assert user.status_code == 200, user.text
    app = await _app_allowing(db, [EXTRA_ORIGIN])
    tokens: dict[str, Any] = await sign_in_and_exchange(client, browser, rpc, app, user.json()["id"])

    async def refresh(origin: str) -> Any:
        form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        return await client.post("/oidc/token", data=form, headers={**app.auth(), "Origin": origin})

    for origin in (APP_ORIGIN, EXTRA_ORIGIN):
        allowed = await refresh(origin)
        assert allowed.status_code == 200 and allowed.headers[ACAO] == origin
    refused = await refresh(OTHER_ORIGIN)
    assert refused.status_code == 200 and ACAO not in refused.headers  # answered, but not readable by the page

    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = await client.get("/oidc/me", headers={**bearer, "Origin": APP_ORIGIN})
    assert me.status_code == 200 and me.headers[ACAO] == APP_ORIGIN
    assert ACAO not in (await client.get("/oidc/me", headers={**bearer, "Origin": OTHER_ORIGIN})).headers

    revoked = await client.post(
        "/oidc/token/revocation",
        data={"token": tokens["access_token"]},
        headers={**app.auth(), "Origin": EXTRA_ORIGIN},
    )
    assert revoked.status_code == 200 and revoked.headers[ACAO] == EXTRA_ORIGIN


async def test_public_client_is_known_from_the_form(client: AsyncClient, db: AsyncEngine) -> None:
    """A SPA authenticates with `client_id` in the form: the answer (here an error) is readable from its origin."""
    app = await _app_allowing(db, [])
    form = {"grant_type": "authorization_code", "code": "nope", "client_id": app.id, "redirect_uri": "x"}
    response = await client.post("/oidc/token", data=form, headers={"Origin": APP_ORIGIN, **app.auth()})
    assert response.status_code in (400, 401)
    assert response.headers[ACAO] == APP_ORIGIN
