"""The organization template's roles and their links to organization scopes and API resource scopes: Logto's
Organization roles routes and their events."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from gatehouse_platform.db import create_engine
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from .template_testkit import (
    created,
    error,
    make_resource,
    make_resource_scope,
    outbox_events,
    unique,
)

URL = "/api/organization-roles"
ROLE_FIELDS = {"tenantId", "id", "name", "description", "type"}


@pytest_asyncio.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    yield engine
    await engine.dispose()


async def new_role(client: AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    return await created(client, auth, URL, {"name": unique("role"), **body})


async def new_scope(client: AsyncClient, auth: dict[str, str], name: str | None = None) -> dict[str, Any]:
    return await created(client, auth, "/api/organization-scopes", {"name": name or unique("scope")})


async def get_json(client: AsyncClient, auth: dict[str, str], url: str, **params: str) -> Any:
    response = await client.get(url, params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def listed(client: AsyncClient, auth: dict[str, str], role: dict[str, Any]) -> dict[str, Any]:
    """The role as `GET /api/organization-roles` lists it (searched by its unique name)."""
    [item] = await get_json(client, auth, URL, q=role["name"])
    result: dict[str, Any] = item
    return result


# roles


async def test_create_and_get_a_role(client: AsyncClient, auth: dict[str, str]) -> None:
    role = await new_role(client, auth, description="Edits the books")
    assert set(role) == ROLE_FIELDS
    assert role["type"] == "User" and role["tenantId"] == "default" and role["description"] == "Edits the books"
    assert await get_json(client, auth, f"{URL}/{role['id']}") == role


async def test_a_machine_to_machine_role(client: AsyncClient, auth: dict[str, str]) -> None:
    role = await new_role(client, auth, type="MachineToMachine")
    assert role["type"] == "MachineToMachine" and role["description"] is None


async def test_a_role_name_is_unique(client: AsyncClient, auth: dict[str, str]) -> None:
    role = await new_role(client, auth)
    error(await client.post(URL, json={"name": role["name"]}, headers=auth), 422, "entity.unique_integrity_violation")
    other = await new_role(client, auth)
    response = await client.patch(f"{URL}/{other['id']}", json={"name": role["name"]}, headers=auth)
    error(response, 422, "entity.unique_integrity_violation")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 129},
        {"name": "x", "type": "Bot"},
        {"name": "x", "description": "d" * 257},
        {"name": "x", "organizationScopeIds": "s"},
        {"name": "x", "resourceScopeIds": [1]},
    ],
    ids=["no name", "empty name", "long name", "bad type", "long description", "ids not a list", "ids not strings"],
)
async def test_bad_role_input_is_400(client: AsyncClient, auth: dict[str, str], body: dict[str, Any]) -> None:
    error(await client.post(URL, json=body, headers=auth), 400, "guard.invalid_input")


async def test_create_a_role_with_its_scopes(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    scope_b, scope_a = await new_scope(client, auth, unique("b")), await new_scope(client, auth, unique("a"))
    resource_id = await make_resource(engine, "Books API")
    read = await make_resource_scope(engine, resource_id, unique("read"))
    role = await new_role(
        client, auth, organizationScopeIds=[scope_b["id"], scope_a["id"]], resourceScopeIds=[read, read]
    )
    assert set(role) == ROLE_FIELDS  # the created role only, as Logto answers
    item = await listed(client, auth, role)
    assert item["scopes"] == [{"id": s["id"], "name": s["name"]} for s in (scope_a, scope_b)]  # by name
    [resource_scope] = item["resourceScopes"]
    assert resource_scope["id"] == read and resource_scope["resource"] == {"id": resource_id, "name": "Books API"}
    assert {s["id"] for s in await get_json(client, auth, f"{URL}/{role['id']}/scopes")} == {
        scope_a["id"],
        scope_b["id"],
    }


@pytest.mark.parametrize("field", ["organizationScopeIds", "resourceScopeIds"])
async def test_creating_a_role_with_an_unknown_scope_creates_nothing(
    client: AsyncClient, auth: dict[str, str], field: str
) -> None:
    name = unique("role")
    response = await client.post(URL, json={"name": name, field: ["nope"]}, headers=auth)
    error(response, 422, "entity.relation_foreign_key_not_found")
    assert await get_json(client, auth, URL, q=name) == []  # one transaction: no role without its scopes


async def test_list_roles_pages_by_name_with_a_total(client: AsyncClient, auth: dict[str, str]) -> None:
    tag = unique("page")
    for i in (3, 1, 4, 0, 2):
        await new_role(client, auth, name=f"{tag}-{i}")
    response = await client.get(URL, params={"q": tag, "page": "2", "page_size": "2"}, headers=auth)
    assert response.status_code == 200 and response.headers["Total-Number"] == "5"
    assert [r["name"] for r in response.json()] == [f"{tag}-2", f"{tag}-3"]
    first = await client.get(URL, params={"q": tag}, headers=auth)
    assert first.headers["Total-Number"] == "5" and len(first.json()) == 5  # always paged (20 by default)
    assert all(r["scopes"] == [] and r["resourceScopes"] == [] for r in first.json())


async def test_list_roles_searches_id_name_and_description(client: AsyncClient, auth: dict[str, str]) -> None:
    tag = unique("srch")
    role = await new_role(client, auth, description=f"about {tag.upper()}")
    assert [r["id"] for r in await get_json(client, auth, URL, q=tag)] == [role["id"]]
    assert [r["id"] for r in await get_json(client, auth, URL, q=role["id"])] == [role["id"]]


async def test_update_a_role(client: AsyncClient, auth: dict[str, str]) -> None:
    role = await new_role(client, auth, description="old")
    body = {"name": unique("new"), "description": None, "type": "MachineToMachine"}
    response = await client.patch(f"{URL}/{role['id']}", json=body, headers=auth)
    assert response.status_code == 200 and response.json() == {**role, **body}
    assert await get_json(client, auth, f"{URL}/{role['id']}") == {**role, **body}
    error(await client.patch(f"{URL}/{role['id']}", json={"type": "Bot"}, headers=auth), 400, "guard.invalid_input")


async def test_delete_a_role(client: AsyncClient, auth: dict[str, str]) -> None:
    scope = await new_scope(client, auth)
    role = await new_role(client, auth, organizationScopeIds=[scope["id"]])
    assert (await client.delete(f"{URL}/{role['id']}", headers=auth)).status_code == 204
    error(await client.get(f"{URL}/{role['id']}", headers=auth), 404, "entity.not_exists_with_id")
    assert (await client.get(f"/api/organization-scopes/{scope['id']}", headers=auth)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/scopes"), ("GET", "/resource-scopes")],
)
async def test_unknown_role_is_404(client: AsyncClient, auth: dict[str, str], method: str, path: str) -> None:
    body = {"name": "x"} if method == "PATCH" else None
    error(await client.request(method, f"{URL}/nope{path}", json=body, headers=auth), 404, "entity.not_exists_with_id")


async def test_role_events(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    scope = await new_scope(client, auth)
    plain = await new_role(client, auth)
    assert [e["data"] for e in await outbox_events(engine, "OrganizationRole.Created", plain["id"])] == [plain]
    assert await outbox_events(engine, "OrganizationRole.Scopes.Updated", plain["id"]) == []
    with_scope = await new_role(client, auth, organizationScopeIds=[scope["id"]])
    [update] = await outbox_events(engine, "OrganizationRole.Scopes.Updated", with_scope["id"])
    assert update["organizationRoleId"] == with_scope["id"]
    assert update["addedOrganizationScopeIds"] == [scope["id"]] and update["addedResourceScopeIds"] == []
    await client.patch(f"{URL}/{plain['id']}", json={"description": "x"}, headers=auth)
    await client.delete(f"{URL}/{plain['id']}", headers=auth)
    updated = await outbox_events(engine, "OrganizationRole.Data.Updated", plain["id"])
    assert [e["data"]["description"] for e in updated] == ["x"]
    assert [e["data"]["id"] for e in await outbox_events(engine, "OrganizationRole.Deleted", plain["id"])] == [
        plain["id"]
    ]


# links to organization scopes


async def test_add_organization_scopes_is_idempotent(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    role = await new_role(client, auth)
    one, two = await new_scope(client, auth), await new_scope(client, auth)
    url = f"{URL}/{role['id']}/scopes"
    first = await client.post(url, json={"organizationScopeIds": [one["id"]]}, headers=auth)
    assert first.status_code == 201 and first.content == b""
    again = await client.post(url, json={"organizationScopeIds": [one["id"], two["id"]]}, headers=auth)
    assert again.status_code == 201
    assert sorted(s["id"] for s in await get_json(client, auth, url)) == sorted([one["id"], two["id"]])
    await client.post(url, json={"organizationScopeIds": [two["id"]]}, headers=auth)  # nothing new: no event
    updates = await outbox_events(engine, "OrganizationRole.Scopes.Updated", role["id"])
    assert [u["addedOrganizationScopeIds"] for u in updates] == [[one["id"]], [two["id"]]]


async def test_list_role_scopes_pages(client: AsyncClient, auth: dict[str, str]) -> None:
    tag = unique("rs")
    scopes = [await new_scope(client, auth, f"{tag}-{i}") for i in range(3)]
    role = await new_role(client, auth, organizationScopeIds=[s["id"] for s in reversed(scopes)])
    response = await client.get(f"{URL}/{role['id']}/scopes", params={"page": "2", "page_size": "2"}, headers=auth)
    assert response.status_code == 200 and response.headers["Total-Number"] == "3"
    assert response.json() == [scopes[2]]  # full scope objects, by name


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_linking_an_unknown_organization_scope_is_422(
    client: AsyncClient, auth: dict[str, str], method: str
) -> None:
    scope = await new_scope(client, auth)
    role = await new_role(client, auth)
    body = {"organizationScopeIds": [scope["id"], "nope"]}
    response = await client.request(method, f"{URL}/{role['id']}/scopes", json=body, headers=auth)
    error(response, 422, "entity.relation_foreign_key_not_found")
    assert await get_json(client, auth, f"{URL}/{role['id']}/scopes") == []


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_linking_to_an_unknown_role_is_422(client: AsyncClient, auth: dict[str, str], method: str) -> None:
    scope = await new_scope(client, auth)
    response = await client.request(
        method, f"{URL}/nope/scopes", json={"organizationScopeIds": [scope["id"]]}, headers=auth
    )
    error(response, 422, "entity.relation_foreign_key_not_found")


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("POST", {"organizationScopeIds": []}),
        ("POST", {}),
        ("PUT", {"organizationScopeIds": [""]}),
        ("POST", {"organizationScopeIds": "x"}),
    ],
)
async def test_bad_link_input_is_400(client: AsyncClient, auth: dict[str, str], method: str, body: Any) -> None:
    role = await new_role(client, auth)
    response = await client.request(method, f"{URL}/{role['id']}/scopes", json=body, headers=auth)
    error(response, 400, "guard.invalid_input")


async def test_replace_organization_scopes(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    scopes = [await new_scope(client, auth) for _ in range(3)]
    role = await new_role(client, auth, organizationScopeIds=[scopes[0]["id"], scopes[1]["id"]])
    url = f"{URL}/{role['id']}/scopes"
    response = await client.put(url, json={"organizationScopeIds": [scopes[1]["id"], scopes[2]["id"]]}, headers=auth)
    assert response.status_code == 204
    assert sorted(s["id"] for s in await get_json(client, auth, url)) == sorted([scopes[1]["id"], scopes[2]["id"]])
    assert (await client.put(url, json={"organizationScopeIds": []}, headers=auth)).status_code == 204
    assert await get_json(client, auth, url) == []
    _, replaced, cleared = await outbox_events(engine, "OrganizationRole.Scopes.Updated", role["id"])
    assert replaced["addedOrganizationScopeIds"] == [scopes[2]["id"]]
    assert replaced["removedOrganizationScopeIds"] == [scopes[0]["id"]]
    assert replaced["addedResourceScopeIds"] == [] == replaced["removedResourceScopeIds"]
    assert sorted(cleared["removedOrganizationScopeIds"]) == sorted([scopes[1]["id"], scopes[2]["id"]])


async def test_remove_an_organization_scope(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    scope = await new_scope(client, auth)
    role = await new_role(client, auth, organizationScopeIds=[scope["id"]])
    url = f"{URL}/{role['id']}/scopes/{scope['id']}"
    assert (await client.delete(url, headers=auth)).status_code == 204
    assert await get_json(client, auth, f"{URL}/{role['id']}/scopes") == []
    error(await client.delete(url, headers=auth), 404, "entity.not_found")  # as Logto: no such link
    error(await client.delete(f"{URL}/nope/scopes/{scope['id']}", headers=auth), 404, "entity.not_exists_with_id")
    *_, removed = await outbox_events(engine, "OrganizationRole.Scopes.Updated", role["id"])
    assert removed["removedOrganizationScopeIds"] == [scope["id"]] and removed["addedOrganizationScopeIds"] == []


async def test_deleting_an_organization_scope_unlinks_it(client: AsyncClient, auth: dict[str, str]) -> None:
    scope = await new_scope(client, auth)
    role = await new_role(client, auth, organizationScopeIds=[scope["id"]])
    await client.delete(f"/api/organization-scopes/{scope['id']}", headers=auth)
    assert (await listed(client, auth, role))["scopes"] == []


# links to API resource scopes


async def test_resource_scopes_of_a_role(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    resource_id = await make_resource(engine)
    first, second, third = [await make_resource_scope(engine, resource_id) for _ in range(3)]
    role = await new_role(client, auth)
    url = f"{URL}/{role['id']}/resource-scopes"
    assert (await client.post(url, json={"scopeIds": [second, first]}, headers=auth)).status_code == 201
    assert (await client.post(url, json={"scopeIds": [first, third]}, headers=auth)).status_code == 201
    response = await client.get(url, params={"page": "1", "page_size": "2"}, headers=auth)
    assert response.status_code == 200 and response.headers["Total-Number"] == "3"
    page = response.json()
    assert [s["id"] for s in page] == [first, second]  # oldest first
    assert set(page[0]) == {"tenantId", "id", "resourceId", "name", "description", "createdAt"}
    assert page[0]["resourceId"] == resource_id and isinstance(page[0]["createdAt"], int)
    item = await listed(client, auth, role)
    assert sorted(s["id"] for s in item["resourceScopes"]) == sorted([first, second, third])
    updates = await outbox_events(engine, "OrganizationRole.Scopes.Updated", role["id"])
    assert [sorted(u["addedResourceScopeIds"]) for u in updates] == [sorted([second, first]), [third]]


async def test_replace_and_remove_resource_scopes(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    resource_id = await make_resource(engine)
    first, second = [await make_resource_scope(engine, resource_id) for _ in range(2)]
    role = await new_role(client, auth, resourceScopeIds=[first])
    url = f"{URL}/{role['id']}/resource-scopes"
    assert (await client.put(url, json={"scopeIds": [second]}, headers=auth)).status_code == 204
    assert [s["id"] for s in await get_json(client, auth, url)] == [second]
    assert (await client.delete(f"{url}/{second}", headers=auth)).status_code == 204
    assert await get_json(client, auth, url) == []
    error(await client.delete(f"{url}/{second}", headers=auth), 404, "entity.not_found")
    _, replaced, removed = await outbox_events(engine, "OrganizationRole.Scopes.Updated", role["id"])
    assert (replaced["addedResourceScopeIds"], replaced["removedResourceScopeIds"]) == ([second], [first])
    assert removed["removedResourceScopeIds"] == [second] and removed["removedOrganizationScopeIds"] == []


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_linking_an_unknown_resource_scope_is_422(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, method: str
) -> None:
    scope = await make_resource_scope(engine, await make_resource(engine))
    role = await new_role(client, auth, resourceScopeIds=[scope])
    url = f"{URL}/{role['id']}/resource-scopes"
    response = await client.request(method, url, json={"scopeIds": ["nope"]}, headers=auth)
    error(response, 422, "entity.relation_foreign_key_not_found")
    assert [s["id"] for s in await get_json(client, auth, url)] == [scope]  # nothing changed
    error(await client.post(url, json={"scopeIds": []}, headers=auth), 400, "guard.invalid_input")
