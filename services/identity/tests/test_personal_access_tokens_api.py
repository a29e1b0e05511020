"""A user's personal access tokens: `pat_` values, unique names per user, expiry in the future,
body-based and legacy path-based rename and delete, and lookup by value for the PAT exchange."""

import asyncio
import secrets
import time
from typing import Any

from gatehouse_identity.persistence.personal_access_tokens import PersonalAccessTokenStore
from gatehouse_platform.db import create_engine
from httpx import AsyncClient, Response

Auth = dict[str, str]


def error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


async def create_user(client: AsyncClient, auth: Auth) -> str:
    response = await client.post("/api/users", json={}, headers=auth)
    assert response.status_code == 200, response.text
    user_id: str = response.json()["id"]
    return user_id


async def create_token(client: AsyncClient, auth: Auth, user_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/api/users/{user_id}/personal-access-tokens", json=body, headers=auth)
    assert response.status_code == 201, response.text
    token: dict[str, Any] = response.json()
    return token


async def test_create_and_list_tokens(client: AsyncClient, auth: Auth) -> None:
    user_id = await create_user(client, auth)
    url = f"/api/users/{user_id}/personal-access-tokens"
    assert (await client.get(url, headers=auth)).json() == []
    expires = int(time.time() * 1000) + 3_600_000
    first = await create_token(client, auth, user_id, name="ci", expiresAt=expires)
    second = await create_token(client, auth, user_id, name="laptop")
    assert first["tenantId"] == "default" and first["userId"] == user_id and first["name"] == "ci"
    assert first["value"].startswith("pat_") and len(first["value"]) == 36 and first["value"][4:].isalnum()
    assert first["expiresAt"] == expires and second["expiresAt"] is None
    assert first["createdAt"] <= second["createdAt"] and first["value"] != second["value"]
    assert (await client.get(url, headers=auth)).json() == [first, second]  # Logto lists values too


async def test_names_are_unique_per_user(client: AsyncClient, auth: Auth) -> None:
    user_id, other = await create_user(client, auth), await create_user(client, auth)
    await create_token(client, auth, user_id, name="dup")
    response = await client.post(f"/api/users/{user_id}/personal-access-tokens", json={"name": "dup"}, headers=auth)
    body = error(response, 422, "user.personal_access_token_name_exists")
    assert body["message"] == "Personal access token name already exists."
    await create_token(client, auth, other, name="dup")  # another user may use the name


async def test_expiry_must_be_in_the_future(client: AsyncClient, auth: Auth) -> None:
    user_id = await create_user(client, auth)
    url = f"/api/users/{user_id}/personal-access-tokens"
    past = int(time.time() * 1000) - 1000
    body = error(
        await client.post(url, json={"name": "old", "expiresAt": past}, headers=auth), 400, "request.invalid_input"
    )
    assert body["message"] == "Input is invalid. The value of `expiresAt` must be in the future."
    far = await client.post(url, json={"name": "far", "expiresAt": 1e300}, headers=auth)
    error(far, 400, "request.invalid_input")
    assert (await client.get(url, headers=auth)).json() == []


async def test_create_validates_its_body(client: AsyncClient, auth: Auth) -> None:
    user_id = await create_user(client, auth)
    url = f"/api/users/{user_id}/personal-access-tokens"
    for body in ({}, {"name": ""}, {"name": "x" * 257}, {"name": "n", "expiresAt": "tomorrow"}):
        error(await client.post(url, json=body, headers=auth), 400, "guard.invalid_input")


async def test_rename_by_body_and_by_path(client: AsyncClient, auth: Auth) -> None:
    user_id = await create_user(client, auth)
    url = f"/api/users/{user_id}/personal-access-tokens"
    token = await create_token(client, auth, user_id, name="a/b c")  # a name a path could not carry
    renamed = await client.patch(url, json={"currentName": "a/b c", "name": "deploy"}, headers=auth)
    assert renamed.status_code == 200
    assert renamed.json() == {**token, "name": "deploy"}
    legacy = await client.patch(f"{url}/deploy", json={"name": "deploy-2"}, headers=auth)
    assert legacy.status_code == 200 and legacy.json()["name"] == "deploy-2"
    in_place = await client.patch(url, json={"name": "deploy-2"}, headers=auth)
    assert in_place.status_code == 200 and in_place.json()["value"] == token["value"]
    assert [t["name"] for t in (await client.get(url, headers=auth)).json()] == ["deploy-2"]


async def test_rename_errors(client: AsyncClient, auth: Auth) -> None:
    user_id = await create_user(client, auth)
    url = f"/api/users/{user_id}/personal-access-tokens"
    await create_token(client, auth, user_id, name="one")
    await create_token(client, auth, user_id, name="two")
    body = error(
        await client.patch(url, json={"currentName": "nope", "name": "x"}, headers=auth), 404, "entity.not_exists"
    )
    assert body["message"] == "The personal_access_token does not exist."
    error(await client.patch(f"{url}/nope", json={"name": "x"}, headers=auth), 404, "entity.not_exists")
    error(
        await client.patch(url, json={"currentName": "one", "name": "two"}, headers=auth),
        422,
        "user.personal_access_token_name_exists",
    )
    error(await client.patch(f"{url}/one", json={"name": ""}, headers=auth), 400, "guard.invalid_input")


async def test_delete_by_body_and_by_path(client: AsyncClient, auth: Auth) -> None:
    user_id = await create_user(client, auth)
    url = f"/api/users/{user_id}/personal-access-tokens"
    await create_token(client, auth, user_id, name="x y/z")
    await create_token(client, auth, user_id, name="legacy")
    response = await client.post(f"{url}/delete", json={"name": "x y/z"}, headers=auth)
    assert response.status_code == 204 and response.content == b""
    assert (await client.delete(f"{url}/legacy", headers=auth)).status_code == 204
    assert (await client.get(url, headers=auth)).json() == []
    error(await client.post(f"{url}/delete", json={"name": "x y/z"}, headers=auth), 404, "entity.not_found")
    error(await client.delete(f"{url}/legacy", headers=auth), 404, "entity.not_found")
    error(await client.post(f"{url}/delete", json={}, headers=auth), 400, "guard.invalid_input")


async def test_unknown_user(client: AsyncClient, auth: Auth) -> None:
    url = "/api/users/nosuchuser00/personal-access-tokens"
    error(await client.get(url, headers=auth), 404, "entity.not_exists_with_id")
    error(await client.post(url, json={"name": "n"}, headers=auth), 404, "entity.relation_foreign_key_not_found")


async def test_concurrent_creates_with_one_name_keep_one(client: AsyncClient, auth: Auth) -> None:
    user_id = await create_user(client, auth)
    url = f"/api/users/{user_id}/personal-access-tokens"
    responses = await asyncio.gather(*(client.post(url, json={"name": "same"}, headers=auth) for _ in range(3)))
    assert sorted(r.status_code for r in responses) == [201, 422, 422]


async def test_tokens_go_with_their_user_and_are_found_by_value(
    client: AsyncClient, auth: Auth, database_url: str
) -> None:
    user_id = await create_user(client, auth)
    token = await create_token(client, auth, user_id, name=f"t{secrets.token_hex(3)}")
    engine = create_engine(database_url, pool_size=1)
    store = PersonalAccessTokenStore()
    try:
        async with engine.connect() as conn:
            found = await store.find_by_value(conn, "default", token["value"])
            assert found is not None and (found.user_id, found.name) == (user_id, token["name"])
            assert await store.find_by_value(conn, "default", "pat_unknown") is None
            assert await store.find_by_value(conn, "other-tenant", token["value"]) is None
        assert (await client.delete(f"/api/users/{user_id}", headers=auth)).status_code == 204
        async with engine.connect() as conn:
            assert await store.find_by_value(conn, "default", token["value"]) is None
    finally:
        await engine.dispose()
