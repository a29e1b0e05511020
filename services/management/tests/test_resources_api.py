"""Resources and their scopes, with Logto's shapes, errors and protections."""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient


async def new_resource(client: AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    payload = {"name": "Orders", "indicator": f"https://{uuid.uuid4().hex}.example/api", **body}
    response = await client.post("/api/resources", json=payload, headers=auth)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_create_resource_defaults(client: AsyncClient, auth: dict[str, str]) -> None:
    resource = await new_resource(client, auth)
    assert resource["accessTokenTtl"] == 3600 and resource["isDefault"] is False and resource["scopes"] == []
    fetched = (await client.get(f"/api/resources/{resource['id']}", headers=auth)).json()
    assert fetched == {k: v for k, v in resource.items() if k != "scopes"}


async def test_duplicate_indicator_is_422(client: AsyncClient, auth: dict[str, str]) -> None:
    resource = await new_resource(client, auth)
    again = await client.post("/api/resources", json={"name": "x", "indicator": resource["indicator"]}, headers=auth)
    assert again.status_code == 422
    assert again.json()["code"] == "resource.resource_identifier_in_use"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x"},
        {"indicator": "https://x"},
        {"name": "", "indicator": "https://y"},
        {"name": "x", "indicator": "https://z", "accessTokenTtl": "long"},
    ],
)
async def test_bad_resource_input_is_400(client: AsyncClient, auth: dict[str, str], body: dict[str, Any]) -> None:
    response = await client.post("/api/resources", json=body, headers=auth)
    assert response.status_code == 400 and response.json()["code"] == "guard.invalid_input"


async def test_update_and_set_default_keeps_a_single_default(client: AsyncClient, auth: dict[str, str]) -> None:
    first, second = await new_resource(client, auth), await new_resource(client, auth)
    patched = await client.patch(
        f"/api/resources/{first['id']}", json={"name": "Renamed", "accessTokenTtl": 60}, headers=auth
    )
    assert patched.json()["name"] == "Renamed" and patched.json()["accessTokenTtl"] == 60
    for resource in (first, second):
        response = await client.patch(
            f"/api/resources/{resource['id']}/is-default", json={"isDefault": True}, headers=auth
        )
        assert response.status_code == 200 and response.json()["isDefault"] is True
    listed = (await client.get("/api/resources", headers=auth)).json()
    assert [r["id"] for r in listed if r["isDefault"]] == [second["id"]]


async def test_list_includes_scopes_on_request_and_paginates(client: AsyncClient, auth: dict[str, str]) -> None:
    resource = await new_resource(client, auth)
    await client.post(f"/api/resources/{resource['id']}/scopes", json={"name": "read:orders"}, headers=auth)
    listed = (await client.get("/api/resources?includeScopes=true", headers=auth)).json()
    mine = next(r for r in listed if r["id"] == resource["id"])
    assert [s["name"] for s in mine["scopes"]] == ["read:orders"]
    page = await client.get("/api/resources?page=1&page_size=1", headers=auth)
    assert len(page.json()) == 1 and int(page.headers["total-number"]) >= 2


async def test_scope_lifecycle(client: AsyncClient, auth: dict[str, str]) -> None:
    resource = await new_resource(client, auth)
    base = f"/api/resources/{resource['id']}/scopes"
    created = await client.post(base, json={"name": "read", "description": "Read it"}, headers=auth)
    assert created.status_code == 201
    scope = created.json()
    assert scope["resourceId"] == resource["id"] and scope["description"] == "Read it" and scope["createdAt"] > 0
    duplicate = await client.post(base, json={"name": "read"}, headers=auth)
    assert duplicate.status_code == 422 and duplicate.json()["code"] == "scope.name_exists"
    spaced = await client.post(base, json={"name": "read all"}, headers=auth)
    assert spaced.status_code == 400 and spaced.json()["code"] == "scope.name_with_space"
    await client.post(base, json={"name": "write"}, headers=auth)
    patched = await client.patch(f"{base}/{scope['id']}", json={"description": None}, headers=auth)
    assert patched.status_code == 200 and patched.json()["description"] is None
    clash = await client.patch(f"{base}/{scope['id']}", json={"name": "write"}, headers=auth)
    assert clash.status_code == 422
    found = await client.get(f"{base}?search=wri&page=1&page_size=10", headers=auth)
    assert [s["name"] for s in found.json()] == ["write"] and found.headers["total-number"] == "1"
    assert (await client.delete(f"{base}/{scope['id']}", headers=auth)).status_code == 204
    assert (await client.delete(f"{base}/{scope['id']}", headers=auth)).status_code == 404


async def test_scopes_of_unknown_resource_are_404(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post("/api/resources/nope/scopes", json={"name": "x"}, headers=auth)
    assert response.status_code == 404 and response.json()["code"] == "entity.not_exists_with_id"


async def test_deleting_a_resource_deletes_its_scopes(client: AsyncClient, auth: dict[str, str]) -> None:
    resource = await new_resource(client, auth)
    await client.post(f"/api/resources/{resource['id']}/scopes", json={"name": "gone"}, headers=auth)
    assert (await client.delete(f"/api/resources/{resource['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"/api/resources/{resource['id']}", headers=auth)).status_code == 404
    assert (await client.get(f"/api/resources/{resource['id']}/scopes", headers=auth)).status_code == 404


async def test_management_api_resource_cannot_be_deleted(client: AsyncClient, auth: dict[str, str]) -> None:
    created = await client.post(
        "/api/resources", json={"name": "Mgmt", "indicator": "https://default.logto.app/api"}, headers=auth
    )
    resource_id = created.json()["id"] if created.status_code == 201 else None
    if resource_id is None:  # seeded already
        listed = (await client.get("/api/resources", headers=auth)).json()
        resource_id = next(r["id"] for r in listed if r["indicator"] == "https://default.logto.app/api")
    response = await client.delete(f"/api/resources/{resource_id}", headers=auth)
    assert response.status_code == 400 and response.json()["code"] == "resource.cannot_delete_management_api"
