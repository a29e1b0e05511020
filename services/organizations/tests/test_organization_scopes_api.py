"""The organization template's scopes: Logto's Organization scopes routes and their events."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from gatehouse_platform.db import create_engine
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from .template_testkit import created, error, outbox_events, unique

URL = "/api/organization-scopes"


@pytest_asyncio.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    yield engine
    await engine.dispose()


async def new_scope(client: AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    return await created(client, auth, URL, {"name": unique("scope"), **body})


async def test_create_and_get_a_scope(client: AsyncClient, auth: dict[str, str]) -> None:
    scope = await new_scope(client, auth, description="Read the books")
    assert set(scope) == {"tenantId", "id", "name", "description"}
    assert scope["tenantId"] == "default" and scope["description"] == "Read the books" and len(scope["id"]) == 21
    response = await client.get(f"{URL}/{scope['id']}", headers=auth)
    assert response.status_code == 200 and response.json() == scope


async def test_description_is_optional_and_nullable(client: AsyncClient, auth: dict[str, str]) -> None:
    assert (await new_scope(client, auth))["description"] is None
    assert (await new_scope(client, auth, description=None))["description"] is None


async def test_a_scope_name_is_unique(client: AsyncClient, auth: dict[str, str]) -> None:
    scope = await new_scope(client, auth)
    response = await client.post(URL, json={"name": scope["name"]}, headers=auth)
    error(response, 422, "entity.unique_integrity_violation")


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 129}, {"name": "x", "description": "d" * 257}, {"name": 5}, []],
    ids=["no name", "empty name", "long name", "long description", "name not a string", "not an object"],
)
async def test_bad_scope_input_is_400(client: AsyncClient, auth: dict[str, str], body: Any) -> None:
    error(await client.post(URL, json=body, headers=auth), 400, "guard.invalid_input")


async def test_list_is_ordered_by_name_and_searchable(client: AsyncClient, auth: dict[str, str]) -> None:
    tag = unique("lst")
    for name in (f"{tag}-c", f"{tag}-a", f"{tag}-b"):
        await new_scope(client, auth, name=name)
    response = await client.get(URL, params={"q": tag}, headers=auth)
    assert response.status_code == 200
    assert [s["name"] for s in response.json()] == [f"{tag}-a", f"{tag}-b", f"{tag}-c"]
    assert "Total-Number" not in response.headers  # no page asked for: every match, as Logto
    upper = await client.get(URL, params={"q": tag.upper()}, headers=auth)
    assert len(upper.json()) == 3  # the search ignores case


async def test_list_pages_when_asked(client: AsyncClient, auth: dict[str, str]) -> None:
    tag = unique("pg")
    for i in range(5):
        await new_scope(client, auth, name=f"{tag}-{i}")
    response = await client.get(URL, params={"q": tag, "page": "2", "page_size": "2"}, headers=auth)
    assert response.status_code == 200
    assert response.headers["Total-Number"] == "5"
    assert [s["name"] for s in response.json()] == [f"{tag}-2", f"{tag}-3"]
    error(await client.get(URL, params={"page": "0"}, headers=auth), 400, "guard.invalid_pagination")


async def test_search_treats_wildcards_literally(client: AsyncClient, auth: dict[str, str]) -> None:
    await new_scope(client, auth)
    response = await client.get(URL, params={"q": "%"}, headers=auth)
    assert response.status_code == 200 and response.json() == []


async def test_update_a_scope(client: AsyncClient, auth: dict[str, str]) -> None:
    scope = await new_scope(client, auth, description="old")
    name = unique("renamed")
    response = await client.patch(f"{URL}/{scope['id']}", json={"name": name}, headers=auth)
    assert response.status_code == 200 and response.json() == {**scope, "name": name}
    response = await client.patch(f"{URL}/{scope['id']}", json={"description": None}, headers=auth)
    assert response.json() == {**scope, "name": name, "description": None}
    assert (await client.get(f"{URL}/{scope['id']}", headers=auth)).json()["description"] is None


async def test_renaming_to_a_taken_name_is_422(client: AsyncClient, auth: dict[str, str]) -> None:
    first, second = await new_scope(client, auth), await new_scope(client, auth)
    response = await client.patch(f"{URL}/{second['id']}", json={"name": first["name"]}, headers=auth)
    error(response, 422, "entity.unique_integrity_violation")
    same = await client.patch(f"{URL}/{first['id']}", json={"name": first["name"]}, headers=auth)
    assert same.status_code == 200  # its own name is not taken


async def test_delete_a_scope(client: AsyncClient, auth: dict[str, str]) -> None:
    scope = await new_scope(client, auth)
    assert (await client.delete(f"{URL}/{scope['id']}", headers=auth)).status_code == 204
    error(await client.get(f"{URL}/{scope['id']}", headers=auth), 404, "entity.not_exists_with_id")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_unknown_scope_is_404(client: AsyncClient, auth: dict[str, str], method: str) -> None:
    response = await client.request(
        method, f"{URL}/nope", json={"name": "x"} if method == "PATCH" else None, headers=auth
    )
    error(response, 404, "entity.not_exists_with_id")


async def test_the_routes_need_a_management_token(client: AsyncClient) -> None:
    assert (await client.get(URL)).status_code == 401


async def test_each_change_records_its_event(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    scope = await new_scope(client, auth)
    await client.patch(f"{URL}/{scope['id']}", json={"description": "new"}, headers=auth)
    await client.patch(f"{URL}/{scope['id']}", json={}, headers=auth)  # no change, no event
    await client.delete(f"{URL}/{scope['id']}", headers=auth)
    assert [e["data"] for e in await outbox_events(engine, "OrganizationScope.Created", scope["id"])] == [scope]
    updated = await outbox_events(engine, "OrganizationScope.Data.Updated", scope["id"])
    assert [e["data"]["description"] for e in updated] == ["new"]
    deleted = await outbox_events(engine, "OrganizationScope.Deleted", scope["id"])
    assert [e["data"]["id"] for e in deleted] == [scope["id"]]


async def test_a_refused_change_records_no_event(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    first, second = await new_scope(client, auth), await new_scope(client, auth)
    await client.patch(f"{URL}/{second['id']}", json={"name": first["name"]}, headers=auth)
    assert await outbox_events(engine, "OrganizationScope.Data.Updated", second["id"]) == []
