"""`GET /api/authn/hasura`, Logto's Hasura auth hook: our JWT access tokens for the hook's resource,
the `Expected-Role` header checked against the user's role names, `unauthorizedRole` instead of a 401."""

import secrets
import time
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables import management as m
from gatehouse_schema.tables.identity import signing_keys
from httpx import AsyncClient, Response
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy.ext.asyncio import AsyncEngine

ISSUER = "http://127.0.0.1:3001/oidc"
RESOURCE = "https://hasura.example.com"
HOOK = "/api/authn/hasura"


async def sign(db: AsyncEngine, client: AsyncClient, **overrides: Any) -> str:
    """An access token signed with identity's current key (the one the keyring publishes)."""
    await client.get("/oidc/jwks")  # identity has started, so its first key exists
    async with db.connect() as conn:
        row = (
            await conn.execute(
                sa.select(signing_keys.c.algorithm, signing_keys.c.private_jwk).where(
                    signing_keys.c.tenant_id == "default", signing_keys.c.status == "Current"
                )
            )
        ).one()
    jwk = row.private_jwk
    key = RSAKey.import_key(jwk) if jwk["kty"] == "RSA" else ECKey.import_key(jwk)
    now = int(time.time())
    claims: dict[str, Any] = {
        "jti": generate_id(),
        "sub": "nobody",
        "iat": now,
        "exp": now + 600,
        "scope": "read",
        "client_id": "app",
        "iss": ISSUER,
        "aud": RESOURCE,
    }
    claims.update(overrides)
    header = {"alg": row.algorithm, "typ": "at+jwt", "kid": jwk["kid"]}
    return jwt.encode(header, claims, key, algorithms=[row.algorithm])


@pytest_asyncio.fixture
async def user(client: AsyncClient, auth: dict[str, str], db: AsyncEngine) -> tuple[str, str]:
    """A user holding one role; returns (user id, role name)."""
    response = await client.post("/api/users", json={"username": f"h{secrets.token_hex(5)}"}, headers=auth)
    assert response.status_code == 200, response.text
    user_id: str = response.json()["id"]
    role_id = generate_id()
    role = f"hasura-{role_id}"
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(m.roles).values(
                tenant_id="default", id=role_id, name=role, description="r", type="User", is_default=False
            )
        )
        await conn.execute(sa.insert(m.users_roles).values(tenant_id="default", user_id=user_id, role_id=role_id))
    return user_id, role


async def hook(
    client: AsyncClient,
    token: str | None,
    *,
    role: str | None = None,
    unauthorized_role: str | None = None,
    resource: str | None = RESOURCE,
) -> Response:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if role is not None:
        headers["Expected-Role"] = role
    params = {}
    if resource is not None:
        params["resource"] = resource
    if unauthorized_role is not None:
        params["unauthorizedRole"] = unauthorized_role
    return await client.get(HOOK, params=params, headers=headers)


def error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


async def test_valid_token_without_expected_role_answers_the_user_id(
    client: AsyncClient, db: AsyncEngine, user: tuple[str, str]
) -> None:
    token = await sign(db, client, sub=user[0])
    response = await hook(client, token)
    assert response.status_code == 200, response.text
    assert response.json() == {"X-Hasura-User-Id": user[0]}


async def test_valid_token_with_a_role_the_user_holds(
    client: AsyncClient, db: AsyncEngine, user: tuple[str, str]
) -> None:
    token = await sign(db, client, sub=user[0])
    response = await hook(client, token, role=user[1])
    assert response.status_code == 200, response.text
    assert response.json() == {"X-Hasura-User-Id": user[0], "X-Hasura-Role": user[1]}


async def test_expected_role_the_user_lacks(client: AsyncClient, db: AsyncEngine, user: tuple[str, str]) -> None:
    token = await sign(db, client, sub=user[0], scope=f"{user[1]}x")  # a scope is not a role
    error(await hook(client, token, role=f"{user[1]}x"), 401, "auth.expected_role_not_found")
    response = await hook(client, token, role=f"{user[1]}x", unauthorized_role="anonymous")
    assert response.status_code == 200, response.text
    assert response.json() == {"X-Hasura-User-Id": user[0], "X-Hasura-Role": "anonymous"}


async def test_unauthorized_role_without_expected_role(
    client: AsyncClient, db: AsyncEngine, user: tuple[str, str]
) -> None:
    token = await sign(db, client, sub=user[0])
    response = await hook(client, token, unauthorized_role="anonymous")
    assert response.json() == {"X-Hasura-User-Id": user[0], "X-Hasura-Role": "anonymous"}


async def test_wrong_audience(client: AsyncClient, db: AsyncEngine, user: tuple[str, str]) -> None:
    token = await sign(db, client, sub=user[0], aud="https://other.example.com")
    error(await hook(client, token, role=user[1]), 401, "auth.unauthorized")
    response = await hook(client, token, role=user[1], unauthorized_role="anonymous")
    assert response.status_code == 200, response.text
    # as Logto: the token is ours, only for another resource, so the user id comes along
    assert response.json() == {"X-Hasura-User-Id": user[0], "X-Hasura-Role": "anonymous"}


@pytest.mark.parametrize("kind", ["expired", "garbage", "foreign issuer", "bad signature"])
async def test_invalid_tokens(client: AsyncClient, db: AsyncEngine, user: tuple[str, str], kind: str) -> None:
    if kind == "expired":
        token = await sign(db, client, sub=user[0], iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    elif kind == "foreign issuer":
        token = await sign(db, client, sub=user[0], iss="https://evil.example.com/oidc")
    elif kind == "bad signature":
        head, body, signature = (await sign(db, client, sub=user[0])).split(".")
        token = f"{head}.{body}.{signature[::-1]}"
    else:
        token = "not-a.jwt.at-all"
    error(await hook(client, token, role=user[1]), 401, "auth.unauthorized")
    error(await hook(client, token), 401, "auth.unauthorized")
    response = await hook(client, token, role=user[1], unauthorized_role="anonymous")
    assert response.status_code == 200, response.text
    assert response.json() == {"X-Hasura-Role": "anonymous"}


async def test_missing_authorization(client: AsyncClient) -> None:
    error(await hook(client, None), 401, "auth.authorization_header_missing")
    response = await hook(client, None, unauthorized_role="anonymous")
    assert response.status_code == 200, response.text
    assert response.json() == {"X-Hasura-Role": "anonymous"}
    basic = await client.get(HOOK, params={"resource": RESOURCE}, headers={"Authorization": "Basic eDp5"})
    error(basic, 401, "auth.authorization_token_type_not_supported")


async def test_management_token_is_not_required_nor_a_pass(client: AsyncClient, auth: dict[str, str]) -> None:
    # the Management API token is not for this resource
    error(await client.get(HOOK, params={"resource": RESOURCE}, headers=auth), 401, "auth.unauthorized")


@pytest.mark.parametrize("params", [{}, {"resource": ""}, {"unauthorizedRole": "anonymous"}])
async def test_missing_resource_is_invalid_input(client: AsyncClient, params: dict[str, str]) -> None:
    error(await client.get(HOOK, params=params), 400, "guard.invalid_input")
