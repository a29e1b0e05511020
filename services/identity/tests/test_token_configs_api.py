"""JWT customizers (`/api/configs/jwt-customizer*`, the declarative subset: scripts are refused) applied to
user and client-credentials access tokens, and the ID token's extended claims (`/api/configs/id-token`)."""

import base64
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio
import sqlalchemy as sa
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables import management as m
from gatehouse_testing.oidc_flow import make_flow_app, sign_in_and_exchange, verify_jwt
from httpx import AsyncClient, Response
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

CUSTOMIZERS = "/api/configs/jwt-customizer"
CC_RESOURCE = "https://api.example.com"  # the seed fixture's resource
USER_RESOURCE = "https://api.customized.example.com"


@pytest_asyncio.fixture
async def customizers(client: AsyncClient, auth: dict[str, str]) -> AsyncIterator[None]:
    """Leaves no customizer behind for the other tests of the tenant."""
    yield
    for token_type in ("access-token", "client-credentials"):
        await client.delete(f"{CUSTOMIZERS}/{token_type}", headers=auth)


def error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


async def client_credentials_token(client: AsyncClient, app: Any) -> dict[str, Any]:
    basic = base64.b64encode(f"{app.id}:{app.secret}".encode()).decode()
    response = await client.post(
        "/oidc/token",
        data={"grant_type": "client_credentials", "resource": CC_RESOURCE},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text
    return (await verify_jwt(client, response.json()["access_token"]))[1]


async def test_a_script_is_refused_with_a_clear_400(
    client: AsyncClient, auth: dict[str, str], customizers: None
) -> None:
    body = {"script": "const getCustomJwtClaims = async () => ({ a: 1 });"}
    refused = await client.put(f"{CUSTOMIZERS}/access-token", json=body, headers=auth)
    error(refused, 400, "jwt_customizer.script_not_supported")
    assert "not executed" in refused.json()["message"] and "environmentVariables" in refused.json()["message"]
    error(await client.get(f"{CUSTOMIZERS}/access-token", headers=auth), 404, "entity.not_exists")
    test = {"tokenType": "access-token", "script": "return 1", "token": {}, "context": {}}
    error(await client.post(f"{CUSTOMIZERS}/test", json=test, headers=auth), 400, "jwt_customizer.script_not_supported")


async def test_reserved_claims_and_references_outside_the_subset_are_refused(
    client: AsyncClient, auth: dict[str, str], customizers: None
) -> None:
    reserved = {"environmentVariables": {"sub": "someone-else"}}
    error(
        await client.put(f"{CUSTOMIZERS}/access-token", json=reserved, headers=auth),
        400,
        "jwt_customizer.reserved_claim",
    )
    user_ref = {"environmentVariables": {"who": "{{ user.id }}"}}  # a client-credentials token has no user
    refused = await client.put(f"{CUSTOMIZERS}/client-credentials", json=user_ref, headers=auth)
    error(refused, 400, "jwt_customizer.invalid_claim_reference")
    org_ref = {"environmentVariables": {"org": "{{organization.id}}"}}
    error(
        await client.put(f"{CUSTOMIZERS}/access-token", json=org_ref, headers=auth),
        400,
        "jwt_customizer.invalid_claim_reference",
    )
    error(await client.put(f"{CUSTOMIZERS}/id-token", json={}, headers=auth), 400, "guard.invalid_input")
    bad_type = {"environmentVariables": {"n": 1}}
    error(await client.put(f"{CUSTOMIZERS}/access-token", json=bad_type, headers=auth), 400, "guard.invalid_input")


async def test_customizers_are_stored_per_token_type(
    client: AsyncClient, auth: dict[str, str], customizers: None
) -> None:
    path = f"{CUSTOMIZERS}/access-token"
    error(await client.patch(path, json={"environmentVariables": {}}, headers=auth), 404, "entity.not_exists")
    body = {"environmentVariables": {"tier": "gold"}, "tokenSample": {"scope": "read"}, "blockIssuanceOnError": True}
    created = await client.put(path, json=body, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json() == {"script": "", **body}
    replaced = await client.put(path, json={"script": "", "environmentVariables": {"tier": "silver"}}, headers=auth)
    assert replaced.status_code == 200 and replaced.json() == {"script": "", "environmentVariables": {"tier": "silver"}}
    patched = await client.patch(path, json={"contextSample": {"user": {"id": "u1"}}}, headers=auth)
    assert patched.status_code == 200, patched.text
    expected = {"script": "", "environmentVariables": {"tier": "silver"}, "contextSample": {"user": {"id": "u1"}}}
    assert patched.json() == expected and (await client.get(path, headers=auth)).json() == expected
    cc = await client.put(
        f"{CUSTOMIZERS}/client-credentials", json={"environmentVariables": {"m2m": "y"}}, headers=auth
    )
    assert cc.status_code == 201, cc.text
    listed = await client.get(CUSTOMIZERS, headers=auth)
    assert listed.status_code == 200 and listed.json() == [expected, cc.json()], listed.text
    assert (await client.delete(path, headers=auth)).status_code == 204
    error(await client.delete(path, headers=auth), 404, "entity.not_exists")
    error(await client.get(path, headers=auth), 404, "entity.not_exists")
    assert (await client.get(CUSTOMIZERS, headers=auth)).json() == [cc.json()]


async def test_the_test_endpoint_adds_the_declared_claims_to_the_sample_token(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    body = {
        "tokenType": "access-token",
        "script": "",
        "environmentVariables": {"tier": "gold", "dept": "{{ user.customData.dept }}", "gone": "{{user.customData.x}}"},
        "token": {"jti": "j", "scope": "read"},
        "context": {"user": {"id": "u1", "customData": {"dept": "R&D"}}},
    }
    tested = await client.post(f"{CUSTOMIZERS}/test", json=body, headers=auth)
    assert tested.status_code == 200, tested.text
    assert tested.json() == {"jti": "j", "scope": "read", "tier": "gold", "dept": "R&D"}
    error(
        await client.post(f"{CUSTOMIZERS}/test", json={"tokenType": "access-token"}, headers=auth),
        400,
        "guard.invalid_input",
    )


async def test_client_credentials_tokens_carry_the_customized_claims_until_deleted(
    client: AsyncClient, auth: dict[str, str], seed: Callable[..., Any], db: AsyncEngine, customizers: None
) -> None:
    app = await seed()
    async with db.begin() as conn:
        await conn.execute(
            sa.update(m.applications).where(m.applications.c.id == app.id).values(custom_data={"plan": "pro"})
        )
    variables = {"tier": "gold", "app_name": "{{ application.name }}", "plan": "{{application.customData.plan}}"}
    put = await client.put(f"{CUSTOMIZERS}/client-credentials", json={"environmentVariables": variables}, headers=auth)
    assert put.status_code == 201, put.text
    claims = await client_credentials_token(client, app)
    assert claims["tier"] == "gold" and claims["app_name"] == "app" and claims["plan"] == "pro"
    assert claims["sub"] == app.id and claims["aud"] == CC_RESOURCE
    assert (await client.delete(f"{CUSTOMIZERS}/client-credentials", headers=auth)).status_code == 204
    assert "tier" not in await client_credentials_token(client, app)


async def test_user_access_tokens_carry_the_customized_claims(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str], customizers: None
) -> None:
    async with db.begin() as conn:
        await conn.execute(
            insert(m.resources)
            .values(tenant_id="default", id="customized", name="C", indicator=USER_RESOURCE, access_token_ttl=600)
            .on_conflict_do_nothing()
        )
    user = await client.post(
        "/api/users", json={"username": f"c{secrets.token_hex(5)}", "customData": {"dept": "R&D"}}, headers=auth
    )
    app = await make_flow_app(db, name="portal")
    variables = {"dept": "{{ user.customData.dept }}", "via": "{{application.name}}", "missing": "{{user.profile.x}}"}
    put = await client.put(f"{CUSTOMIZERS}/access-token", json={"environmentVariables": variables}, headers=auth)
    assert put.status_code == 201, put.text
    tokens = await sign_in_and_exchange(client, browser, rpc, app, user.json()["id"], resources=(USER_RESOURCE,))
    refreshed = await client.post(
        "/oidc/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "resource": USER_RESOURCE},
        headers=app.auth(),
    )
    assert refreshed.status_code == 200, refreshed.text
    header, claims = await verify_jwt(client, refreshed.json()["access_token"])
    assert header["typ"] == "at+jwt" and claims["aud"] == USER_RESOURCE
    assert claims["dept"] == "R&D" and claims["via"] == "portal" and "missing" not in claims
    _, id_claims = await verify_jwt(client, refreshed.json()["id_token"])
    assert "dept" not in id_claims  # customizers shape access tokens only


async def test_id_token_config_is_not_found_until_written_and_refuses_unknown_claims(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    error(await client.get("/api/configs/id-token", headers=auth), 404, "entity.not_exists")
    bad = await client.put("/api/configs/id-token", json={"enabledExtendedClaims": ["password"]}, headers=auth)
    error(bad, 400, "guard.invalid_input")


async def test_id_tokens_carry_the_enabled_extended_claims_under_their_scopes(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user = await client.post(
        "/api/users", json={"username": f"i{secrets.token_hex(5)}", "customData": {"plan": "pro"}}, headers=auth
    )
    user_id = user.json()["id"]
    role_id = generate_id()
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(m.roles).values(
                tenant_id="default",
                id=role_id,
                name=f"viewer-{role_id}",
                description="v",
                type="User",
                is_default=False,
            )
        )
        await conn.execute(sa.insert(m.users_roles).values(tenant_id="default", user_id=user_id, role_id=role_id))
    enabled = {"enabledExtendedClaims": ["custom_data", "roles"]}
    put = await client.put("/api/configs/id-token", json=enabled, headers=auth)
    assert put.status_code == 200 and put.json() == enabled, put.text
    assert (await client.get("/api/configs/id-token", headers=auth)).json() == enabled
    try:
        app = await make_flow_app(db)
        scope = "openid custom_data roles identities"
        tokens = await sign_in_and_exchange(client, browser, rpc, app, user_id, scope=scope)
        _, claims = await verify_jwt(client, tokens["id_token"])
        assert claims["custom_data"] == {"plan": "pro"} and claims["roles"] == [f"viewer-{role_id}"]
        assert "identities" not in claims  # requested, not enabled
        narrow = await sign_in_and_exchange(client, browser, rpc, app, user_id, scope="openid")
        assert "custom_data" not in (await verify_jwt(client, narrow["id_token"]))[1]  # enabled, not requested
    finally:
        cleared = await client.put("/api/configs/id-token", json={"enabledExtendedClaims": []}, headers=auth)
        assert cleared.status_code == 200, cleared.text
    tokens = await sign_in_and_exchange(client, browser, rpc, app, user_id, scope="openid custom_data")
    assert "custom_data" not in (await verify_jwt(client, tokens["id_token"]))[1]
