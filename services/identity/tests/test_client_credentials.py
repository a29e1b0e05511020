"""`POST /oidc/token` with grant_type=client_credentials, verified against the JWKS only."""

import base64
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from gatehouse_platform.db import create_engine
from gatehouse_schema.tables import management as m
from httpx import AsyncClient
from joserfc import jwt
from joserfc.jwk import KeySet

RESOURCE = "https://api.example.com"
Client = Any

FORM = {"grant_type": "client_credentials", "resource": RESOURCE}


def basic(c: Client, secret: str | None = None) -> dict[str, str]:
    raw = f"{c.id}:{secret if secret is not None else c.secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def verify(client: AsyncClient, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = KeySet.import_key_set((await client.get("/oidc/jwks")).json())
    decoded = jwt.decode(token, keys, algorithms=["ES384"])
    return decoded.header, decoded.claims


async def test_basic_auth_issues_a_signed_at_jwt(client: AsyncClient, seed: Callable[..., Any]) -> None:
    app: Client = await seed()
    response = await client.post("/oidc/token", data={**FORM, "scope": "read"}, headers=basic(app))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600 and body["scope"] == "read"
    assert response.headers["cache-control"] == "no-store"
    header, claims = await verify(client, body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "ES384"
    assert claims["iss"] == "http://127.0.0.1:3001/oidc"
    assert claims["aud"] == RESOURCE
    assert claims["client_id"] == app.id and claims["sub"] == app.id
    assert claims["scope"] == "read" and claims["jti"]
    assert claims["exp"] - claims["iat"] == 600 and abs(claims["iat"] - time.time()) < 5


async def test_post_auth_works_and_no_scope_means_every_granted_scope(
    client: AsyncClient, seed: Callable[..., Any]
) -> None:
    app: Client = await seed()
    response = await client.post("/oidc/token", data={**FORM, "client_id": app.id, "client_secret": app.secret})
    assert response.status_code == 200, response.text
    _, claims = await verify(client, response.json()["access_token"])
    assert sorted(claims["scope"].split()) == ["read", "write"]


def oauth_error(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert body["code"] == f"oidc.{error}"
    assert body["message"] and body["error_description"]


async def test_missing_resource_is_invalid_target(client: AsyncClient, seed: Callable[..., Any]) -> None:
    app: Client = await seed()
    response = await client.post("/oidc/token", data={"grant_type": "client_credentials"}, headers=basic(app))
    oauth_error(response, 400, "invalid_target")
    assert response.json()["message"] == "Invalid resource indicator."


async def test_unknown_resource_is_invalid_target(client: AsyncClient, seed: Callable[..., Any]) -> None:
    app: Client = await seed()
    response = await client.post("/oidc/token", data={**FORM, "resource": "https://nope"}, headers=basic(app))
    oauth_error(response, 400, "invalid_target")


async def test_scope_not_granted_is_invalid_scope(client: AsyncClient, seed: Callable[..., Any]) -> None:
    app: Client = await seed()
    response = await client.post("/oidc/token", data={**FORM, "scope": "read admin"}, headers=basic(app))
    oauth_error(response, 400, "invalid_scope")


async def test_wrong_secret_is_invalid_client(client: AsyncClient, seed: Callable[..., Any]) -> None:
    app: Client = await seed()
    response = await client.post("/oidc/token", data=FORM, headers=basic(app, "wrong"))
    oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_unknown_client_is_invalid_client(client: AsyncClient) -> None:
    response = await client.post("/oidc/token", data={**FORM, "client_id": "ghost", "client_secret": "x"})
    oauth_error(response, 401, "invalid_client")


async def test_non_m2m_app_is_unauthorized_client(client: AsyncClient, seed: Callable[..., Any]) -> None:
    app: Client = await seed(app_type="Traditional")
    response = await client.post("/oidc/token", data=FORM, headers=basic(app))
    oauth_error(response, 400, "unauthorized_client")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
        ({"grant_type": "client_credentials"}, "invalid_request"),
    ],
)
async def test_bad_requests_are_rfc6749_errors(client: AsyncClient, data: dict[str, str], error: str) -> None:
    oauth_error(await client.post("/oidc/token", data=data), 400, error)


async def test_json_body_is_invalid_request(client: AsyncClient) -> None:
    oauth_error(await client.post("/oidc/token", json={"grant_type": "client_credentials"}), 400, "invalid_request")


async def test_malformed_basic_header_is_invalid_request(client: AsyncClient) -> None:
    response = await client.post("/oidc/token", data=FORM, headers={"Authorization": "Basic %%%"})
    oauth_error(response, 400, "invalid_request")


async def test_named_secret_works_until_it_expires(
    client: AsyncClient, seed: Callable[..., Any], database_url: str
) -> None:
    app: Client = await seed()
    engine = create_engine(database_url, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(m.application_secrets).values(
                tenant_id="default",
                application_id=app.id,
                name="expired",
                value="old-secret",
                expires_at=sa.text("now() - interval '1 minute'"),
            )
        )
        await conn.execute(
            sa.insert(m.application_secrets).values(
                tenant_id="default", application_id=app.id, name="fresh", value="new-secret", expires_at=None
            )
        )
    await engine.dispose()
    # the cache may hold the record from before: a changed secret arrives with an Application event
    # in production; here the app was never fetched, so the first request reads it fresh.
    oauth_error(await client.post("/oidc/token", data=FORM, headers=basic(app, "old-secret")), 401, "invalid_client")
    assert (await client.post("/oidc/token", data=FORM, headers=basic(app, "new-secret"))).status_code == 200
