"""A user's OIDC sessions and grants through the Users API (list, get, revoke), and what suspension and
deletion do to them: every session, grant, token and code of the user goes in the same transaction."""

import secrets
from typing import Any

import pytest_asyncio
import sqlalchemy as sa
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.tables.identity import oidc_authorization_codes, oidc_grants, oidc_sessions, oidc_tokens
from gatehouse_testing.oidc_flow import FlowApp, make_flow_app, sign_in_and_exchange, verify_jwt
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine


@pytest_asyncio.fixture
async def user(client: AsyncClient, auth: dict[str, str]) -> dict[str, Any]:
    name = f"s{secrets.token_hex(5)}"
    response = await client.post("/api/users", json={"username": name}, headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refresh(client: AsyncClient, app: FlowApp, token: str) -> Response:
    return await client.post(
        "/oidc/token", data={"grant_type": "refresh_token", "refresh_token": token}, headers=app.auth()
    )


async def userinfo(client: AsyncClient, access_token: str) -> Response:
    return await client.get("/oidc/me", headers={"Authorization": f"Bearer {access_token}"})


async def oidc_rows(db: AsyncEngine, user_id: str) -> dict[str, int]:
    counts = {}
    async with db.connect() as conn:
        for table in (oidc_sessions, oidc_grants, oidc_tokens, oidc_authorization_codes):
            query = sa.select(sa.func.count()).select_from(table).where(table.c.account_id == user_id)
            counts[table.name] = (await conn.execute(query)).scalar_one()
    return counts


def not_found(response: Response) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "entity.not_exists_with_id", response.text


async def test_suspension_revokes_sessions_grants_and_tokens_at_once(
    client: AsyncClient,
    browser: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    user: dict[str, Any],
) -> None:
    app = await make_flow_app(db)
    tokens = await sign_in_and_exchange(client, browser, rpc, app, user["id"])
    assert (await userinfo(client, tokens["access_token"])).status_code == 200
    assert (await oidc_rows(db, user["id"]))["oidc_grants"] == 1

    suspend = await client.patch(f"/api/users/{user['id']}/is-suspended", json={"isSuspended": True}, headers=auth)
    assert suspend.status_code == 200 and suspend.json()["isSuspended"] is True, suspend.text
    assert await oidc_rows(db, user["id"]) == dict.fromkeys(
        ("oidc_sessions", "oidc_grants", "oidc_tokens", "oidc_authorization_codes"), 0
    )
    assert (await refresh(client, app, tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await userinfo(client, tokens["access_token"])).status_code == 401

    # reinstating the user does not bring the revoked tokens back
    reinstate = await client.patch(f"/api/users/{user['id']}/is-suspended", json={"isSuspended": False}, headers=auth)
    assert reinstate.status_code == 200, reinstate.text
    me = await userinfo(client, tokens["access_token"])
    assert me.status_code == 401 and me.json()["error"] == "invalid_token", me.text
    again = await refresh(client, app, tokens["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text
    sessions = await client.get(f"/api/users/{user['id']}/sessions", headers=auth)
    assert sessions.json() == {"sessions": []}


async def test_suspension_of_an_unknown_user_is_not_found(client: AsyncClient, auth: dict[str, str]) -> None:
    not_found(await client.patch("/api/users/nobody/is-suspended", json={"isSuspended": True}, headers=auth))


async def test_deleting_a_user_deletes_their_oidc_state(
    client: AsyncClient,
    browser: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    user: dict[str, Any],
) -> None:
    app = await make_flow_app(db)
    tokens = await sign_in_and_exchange(client, browser, rpc, app, user["id"])
    deleted = await client.delete(f"/api/users/{user['id']}", headers=auth)
    assert deleted.status_code == 204, deleted.text
    assert set((await oidc_rows(db, user["id"])).values()) == {0}
    assert (await refresh(client, app, tokens["refresh_token"])).json()["error"] == "invalid_grant"


async def test_lists_the_users_grants_and_revokes_one_with_its_tokens(
    client: AsyncClient,
    browser: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    user: dict[str, Any],
) -> None:
    first, second = await make_flow_app(db, name="first"), await make_flow_app(db, name="second")
    first_tokens = await sign_in_and_exchange(client, browser, rpc, first, user["id"])
    async with AsyncClient(transport=client._transport, base_url="http://127.0.0.1") as other_browser:
        second_tokens = await sign_in_and_exchange(client, other_browser, rpc, second, user["id"])

    listed = await client.get(f"/api/users/{user['id']}/grants", headers=auth)
    assert listed.status_code == 200, listed.text
    grants = {g["application"]["name"]: g for g in listed.json()["grants"]}
    assert set(grants) == {"first", "second"}
    grant = grants["first"]
    assert grant["application"] == {"id": first.id, "name": "first"}
    payload = grant["payload"]
    assert payload["kind"] == "Grant" and payload["jti"] == grant["id"]
    assert payload["clientId"] == first.id and payload["accountId"] == user["id"]
    assert "offline_access" in payload["openid"]["scope"].split()
    assert grant["expiresAt"] // 1000 == payload["exp"] and payload["exp"] > payload["iat"]
    first_party = await client.get(f"/api/users/{user['id']}/grants", params={"appType": "firstParty"}, headers=auth)
    assert len(first_party.json()["grants"]) == 2
    third_party = await client.get(f"/api/users/{user['id']}/grants", params={"appType": "thirdParty"}, headers=auth)
    assert third_party.json() == {"grants": []}
    bad = await client.get(f"/api/users/{user['id']}/grants", params={"appType": "secondParty"}, headers=auth)
    assert bad.status_code == 400 and bad.json()["code"] == "guard.invalid_input", bad.text

    revoked = await client.delete(f"/api/users/{user['id']}/grants/{grant['id']}", headers=auth)
    assert revoked.status_code == 204, revoked.text
    assert (await refresh(client, first, first_tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await userinfo(client, first_tokens["access_token"])).status_code == 401
    assert (await refresh(client, second, second_tokens["refresh_token"])).status_code == 200
    not_found(await client.delete(f"/api/users/{user['id']}/grants/{grant['id']}", headers=auth))
    not_found(await client.delete(f"/api/users/{user['id']}/grants/{grants['second']['id']}x", headers=auth))
    not_found(await client.get("/api/users/nobody/grants", headers=auth))


async def test_a_grant_of_another_user_cannot_be_revoked_through_this_one(
    client: AsyncClient,
    browser: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    user: dict[str, Any],
) -> None:
    app = await make_flow_app(db)
    tokens = await sign_in_and_exchange(client, browser, rpc, app, user["id"])
    (grant,) = (await client.get(f"/api/users/{user['id']}/grants", headers=auth)).json()["grants"]
    other = await client.post("/api/users", json={"username": f"o{secrets.token_hex(5)}"}, headers=auth)
    not_found(await client.delete(f"/api/users/{other.json()['id']}/grants/{grant['id']}", headers=auth))
    assert (await refresh(client, app, tokens["refresh_token"])).status_code == 200


async def test_lists_and_gets_the_users_sessions_with_their_authorizations(
    client: AsyncClient,
    browser: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    user: dict[str, Any],
) -> None:
    app = await make_flow_app(db)
    tokens = await sign_in_and_exchange(client, browser, rpc, app, user["id"])
    _, id_claims = await verify_jwt(client, tokens["id_token"])
    listed = await client.get(f"/api/users/{user['id']}/sessions", headers=auth)
    assert listed.status_code == 200, listed.text
    (session,) = listed.json()["sessions"]
    payload = session["payload"]
    assert payload["kind"] == "Session" and payload["jti"] == id_claims["sid"] == payload["uid"]
    assert payload["accountId"] == session["accountId"] == user["id"] and session["clientId"] == app.id
    assert session["lastSubmission"] is None and session["expiresAt"] // 1000 == payload["exp"]
    (grant,) = (await client.get(f"/api/users/{user['id']}/grants", headers=auth)).json()["grants"]
    assert payload["authorizations"] == {
        app.id: {"sid": payload["jti"], "grantId": grant["id"], "persistsLogout": True}
    }

    one = await client.get(f"/api/users/{user['id']}/sessions/{payload['jti']}", headers=auth)
    assert one.status_code == 200 and one.json() == session, one.text
    not_found(await client.get(f"/api/users/{user['id']}/sessions/{'0' * 64}", headers=auth))
    other = await client.post("/api/users", json={"username": f"o{secrets.token_hex(5)}"}, headers=auth)
    not_found(await client.get(f"/api/users/{other.json()['id']}/sessions/{payload['jti']}", headers=auth))
    not_found(await client.get("/api/users/nobody/sessions", headers=auth))


async def test_deleting_a_session_keeps_offline_grants_unless_all_are_targeted(
    client: AsyncClient,
    browser: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    user: dict[str, Any],
) -> None:
    app = await make_flow_app(db)
    kept = await sign_in_and_exchange(client, browser, rpc, app, user["id"])
    (session,) = (await client.get(f"/api/users/{user['id']}/sessions", headers=auth)).json()["sessions"]
    path = f"/api/users/{user['id']}/sessions/{session['payload']['jti']}"
    bad = await client.delete(path, params={"revokeGrantsTarget": "some"}, headers=auth)
    assert bad.status_code == 400 and bad.json()["code"] == "guard.invalid_input", bad.text
    assert (await client.delete(path, headers=auth)).status_code == 204
    not_found(await client.get(path, headers=auth))
    not_found(await client.delete(path, headers=auth))
    assert (await refresh(client, app, kept["refresh_token"])).status_code == 200  # offline_access persists
    silent = await browser.get(
        "/oidc/auth",
        params={"client_id": app.id, "redirect_uri": "https://app.example.com/callback", "response_type": "code",
                "scope": "openid", "prompt": "none", "code_challenge": "x" * 43, "code_challenge_method": "S256"},
    )  # fmt: skip
    assert "error=login_required" in silent.headers["location"], silent.headers

    async with AsyncClient(transport=client._transport, base_url="http://127.0.0.1") as second_browser:
        revoked = await sign_in_and_exchange(client, second_browser, rpc, app, user["id"])
    sessions = (await client.get(f"/api/users/{user['id']}/sessions", headers=auth)).json()["sessions"]
    (second,) = sessions
    target = f"/api/users/{user['id']}/sessions/{second['payload']['jti']}"
    assert (await client.delete(target, params={"revokeGrantsTarget": "all"}, headers=auth)).status_code == 204
    assert (await refresh(client, app, revoked["refresh_token"])).json()["error"] == "invalid_grant"
