"""Users' social identities (link, replace, unlink, read) and enterprise SSO identities (read), with
Logto's statuses and errors, against real PostgreSQL and NATS."""

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import nats
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_platform.db import create_engine
from gatehouse_schema.events import Actor, SsoConnectorBrief, SsoConnectorDeleted, event_subject, make_event
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables.identity import user_sso_identities
from httpx import AsyncClient, Response

Auth = dict[str, str]


def error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


async def create_user(client: AsyncClient, auth: Auth, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/users", json=body, headers=auth)
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()
    return user


@pytest_asyncio.fixture(scope="session")
async def link_sso(database_url: str) -> AsyncIterator[Callable[..., Any]]:
    """Writes an enterprise SSO identity row as the SSO sign-in flow will."""
    engine = create_engine(database_url, pool_size=1)

    async def write(user_id: str, connector_id: str, identity_id: str, detail: dict[str, Any]) -> str:
        row_id = generate_id()
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(user_sso_identities).values(
                    tenant_id="default",
                    id=row_id,
                    user_id=user_id,
                    issuer=f"https://idp.example.com/{connector_id}",
                    identity_id=identity_id,
                    detail=detail,
                    sso_connector_id=connector_id,
                )
            )
        return row_id

    yield write
    await engine.dispose()


async def test_put_links_a_new_identity_with_201_then_replaces_it_with_200(client: AsyncClient, auth: Auth) -> None:
    user = await create_user(client, auth)
    url = f"/api/users/{user['id']}/identities/github"
    created = await client.put(url, json={"userId": "gh-1", "details": {"login": "octo"}}, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json() == {"github": {"userId": "gh-1", "details": {"login": "octo"}}}
    replaced = await client.put(url, json={"userId": "gh-2"}, headers=auth)
    assert replaced.status_code == 200
    assert replaced.json() == {"github": {"userId": "gh-2"}}
    google = await client.put(f"/api/users/{user['id']}/identities/google", json={"userId": "g-1"}, headers=auth)
    assert google.status_code == 201 and set(google.json()) == {"github", "google"}
    fetched = (await client.get(f"/api/users/{user['id']}", headers=auth)).json()
    assert fetched["identities"] == google.json()


async def test_an_identity_linked_to_another_user_is_422(client: AsyncClient, auth: Auth) -> None:
    identity_id = f"shared-{secrets.token_hex(4)}"
    first, second = await create_user(client, auth), await create_user(client, auth)
    linked = await client.put(f"/api/users/{first['id']}/identities/github", json={"userId": identity_id}, headers=auth)
    assert linked.status_code == 201
    response = await client.put(
        f"/api/users/{second['id']}/identities/github", json={"userId": identity_id}, headers=auth
    )
    body = error(response, 422, "user.identity_already_in_use")
    assert body["message"] == "The social account has been associated with an existing account."
    # the same id at another target is another identity; relinking one's own identity is fine
    other_target = await client.put(
        f"/api/users/{second['id']}/identities/gitlab", json={"userId": identity_id}, headers=auth
    )
    assert other_target.status_code == 201
    again = await client.put(f"/api/users/{first['id']}/identities/github", json={"userId": identity_id}, headers=auth)
    assert again.status_code == 200


async def test_concurrent_links_of_one_identity_let_exactly_one_user_win(client: AsyncClient, auth: Auth) -> None:
    identity_id = f"race-{secrets.token_hex(4)}"
    contenders = [await create_user(client, auth) for _ in range(4)]
    responses = await asyncio.gather(
        *(
            client.put(f"/api/users/{u['id']}/identities/github", json={"userId": identity_id}, headers=auth)
            for u in contenders
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 422, 422, 422]


async def test_put_validates_its_body(client: AsyncClient, auth: Auth) -> None:
    user = await create_user(client, auth)
    url = f"/api/users/{user['id']}/identities/github"
    error(await client.put(url, json={}, headers=auth), 400, "guard.invalid_input")
    error(await client.put(url, json={"userId": 7}, headers=auth), 400, "guard.invalid_input")
    error(await client.put(url, json={"userId": "x", "details": "no"}, headers=auth), 400, "guard.invalid_input")


async def test_delete_unlinks_and_returns_the_user(client: AsyncClient, auth: Auth) -> None:
    user = await create_user(client, auth, password="pw")
    base = f"/api/users/{user['id']}/identities"
    await client.put(f"{base}/github", json={"userId": f"gh-{secrets.token_hex(3)}"}, headers=auth)
    await client.put(f"{base}/google", json={"userId": f"g-{secrets.token_hex(3)}"}, headers=auth)
    response = await client.delete(f"{base}/github", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user["id"] and set(body["identities"]) == {"google"} and body["hasPassword"] is True
    assert "passwordEncrypted" not in body
    body = error(await client.delete(f"{base}/github", headers=auth), 404, "user.identity_not_exist")
    assert body["message"] == "The social account has not been registered yet."


async def test_get_one_social_identity(client: AsyncClient, auth: Auth) -> None:
    user = await create_user(client, auth)
    base = f"/api/users/{user['id']}/identities"
    await client.put(f"{base}/github", json={"userId": "gh-get", "details": {"a": 1}}, headers=auth)
    response = await client.get(f"{base}/github?includeTokenSecret=true", headers=auth)
    assert response.status_code == 200
    assert response.json() == {"identity": {"userId": "gh-get", "details": {"a": 1}}}
    error(await client.get(f"{base}/apple", headers=auth), 404, "user.identity_not_exist")


async def test_all_identities_lists_social_and_sso_identities(
    client: AsyncClient, auth: Auth, link_sso: Callable[..., Any]
) -> None:
    user = await create_user(client, auth)
    url = f"/api/users/{user['id']}/all-identities"
    assert (await client.get(url, headers=auth)).json() == {"socialIdentities": [], "ssoIdentities": []}
    await client.put(f"/api/users/{user['id']}/identities/github", json={"userId": "gh-all"}, headers=auth)
    row_id = await link_sso(user["id"], "okta-conn", f"okta-{secrets.token_hex(3)}", {"email": "a@b.c"})
    body = (await client.get(url, headers=auth)).json()
    assert body["socialIdentities"] == [{"identity": {"userId": "gh-all"}, "target": "github"}]
    [entry] = body["ssoIdentities"]
    assert entry["ssoConnectorId"] == "okta-conn"
    sso = entry["ssoIdentity"]
    assert sso["id"] == row_id and sso["userId"] == user["id"] and sso["tenantId"] == "default"
    assert sso["detail"] == {"email": "a@b.c"} and sso["issuer"] == "https://idp.example.com/okta-conn"
    assert isinstance(sso["createdAt"], int) and sso["updatedAt"] >= sso["createdAt"]


async def test_sso_identity_by_connector(client: AsyncClient, auth: Auth, link_sso: Callable[..., Any]) -> None:
    user = await create_user(client, auth)
    identity_id = f"azure-{secrets.token_hex(3)}"
    await link_sso(user["id"], "azure-conn", identity_id, {})
    response = await client.get(f"/api/users/{user['id']}/sso-identities/azure-conn", headers=auth)
    assert response.status_code == 200
    assert response.json()["ssoIdentity"]["identityId"] == identity_id
    body = error(
        await client.get(f"/api/users/{user['id']}/sso-identities/other-conn", headers=auth),
        404,
        "user.enterprise_sso_identity_not_exists",
    )
    assert "other-conn" in body["message"]
    detailed = (await client.get(f"/api/users/{user['id']}?includeSsoIdentities=true", headers=auth)).json()
    assert [i["identityId"] for i in detailed["ssoIdentities"]] == [identity_id]


async def test_unknown_user_is_404_on_identity_routes(client: AsyncClient, auth: Auth) -> None:
    missing = "nosuchuser00"
    calls = [
        client.put(f"/api/users/{missing}/identities/github", json={"userId": "x"}, headers=auth),
        client.delete(f"/api/users/{missing}/identities/github", headers=auth),
        client.get(f"/api/users/{missing}/identities/github", headers=auth),
        client.get(f"/api/users/{missing}/all-identities", headers=auth),
        client.get(f"/api/users/{missing}/sso-identities/conn", headers=auth),
    ]
    for response in await asyncio.gather(*calls):
        error(response, 404, "entity.not_exists_with_id")


async def test_linking_has_no_connector_round_trip_route(client: AsyncClient, auth: Auth) -> None:
    user = await create_user(client, auth)
    response = await client.post(
        f"/api/users/{user['id']}/identities", json={"connectorId": "c", "connectorData": {}}, headers=auth
    )
    assert response.status_code in (404, 405)


async def test_identity_changes_publish_user_data_updated(
    client: AsyncClient, auth: Auth, nats_url: str, subject_prefix: str
) -> None:
    nc = await nats.connect(nats_url)
    received: asyncio.Queue[Any] = asyncio.Queue()
    sub = await nc.subscribe(f"{subject_prefix}.evt.default.identity.User.Data.Updated", cb=received.put)
    try:
        user = await create_user(client, auth)
        base = f"/api/users/{user['id']}/identities/github"
        await client.put(base, json={"userId": f"gh-{secrets.token_hex(3)}"}, headers=auth)
        await client.delete(base, headers=auth)
        seen = []
        while len(seen) < 2:
            event = msgspec.json.decode((await asyncio.wait_for(received.get(), 5)).data)
            if event["subject"] == user["id"]:
                seen.append(event)
        assert [e["data"]["changed"] for e in seen] == [["identities"], ["identities"]]
        assert "github" in seen[0]["data"]["data"]["identities"]
        assert seen[1]["data"]["data"]["identities"] == {}
    finally:
        await sub.unsubscribe()
        await nc.close()


async def test_a_deleted_sso_connector_takes_its_users_sso_identities_along(
    client: AsyncClient, auth: Auth, link_sso: Callable[..., Any], nats_url: str, subject_prefix: str
) -> None:
    user = await create_user(client, auth, username=f"sso{secrets.token_hex(4)}")
    gone, kept = f"gone-{secrets.token_hex(3)}", f"kept-{secrets.token_hex(3)}"
    await link_sso(user["id"], gone, "idp-user-1", {"email": "a@example.com"})
    await link_sso(user["id"], kept, "idp-user-2", {})
    brief = SsoConnectorBrief(
        id=gone,
        provider_name="SAML",
        provider_type="saml",
        connector_name="gone",
        domains=[],
        sync_profile=False,
        enable_token_storage=False,
    )
    event = make_event(SsoConnectorDeleted(data=brief), tenant_id="default", actor=Actor(type="application", id="m"))
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(
            event_subject(subject_prefix, "default", "management", SsoConnectorDeleted.event_type),
            msgspec.json.encode(event),
        )
    finally:
        await nc.close()
    url = f"/api/users/{user['id']}/all-identities"
    for _ in range(100):
        connectors = {i["ssoConnectorId"] for i in (await client.get(url, headers=auth)).json()["ssoIdentities"]}
        if gone not in connectors:
            break
        await asyncio.sleep(0.05)
    assert connectors == {kept}
