"""Organizations: create, list (search, pagination, featured users), read, update, delete, and the organizations
of a user or an application, as Logto's Management API serves them."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from httpx import AsyncClient

from .membership_fixtures import engine, events_of, make_app, make_role, new_organization

__all__ = ["engine", "events_of", "make_app", "make_role"]  # fixtures used by name


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_created_organization_has_logto_defaults(
    client: AsyncClient, auth: dict[str, str], events_of: Callable[..., Awaitable[list[dict[str, Any]]]]
) -> None:
    org = await new_organization(client, auth, name="Acme")
    assert len(org["id"]) == 12
    assert org["tenantId"] == "default"
    assert org["name"] == "Acme"
    assert org["description"] is None and org["customCss"] is None
    assert org["customData"] == {} and org["color"] == {} and org["branding"] == {}
    assert org["isMfaRequired"] is False
    assert isinstance(org["createdAt"], int)
    assert [e["data"]["id"] for e in await events_of("Organization.Created", org["id"])] == [org["id"]]


async def test_create_keeps_colors_branding_and_css(client: AsyncClient, auth: dict[str, str]) -> None:
    body = {
        "name": "Branded",
        "description": "desc",
        "customData": {"tier": "gold"},
        "isMfaRequired": True,
        "color": {"primaryColor": "#A1b2C3", "isDarkModeEnabled": True, "darkPrimaryColor": "#fff"},
        "branding": {"logoUrl": "https://example.com/logo.png", "favicon": "https://example.com/f.ico"},
        "customCss": "body { color: red; }",
    }
    org = await new_organization(client, auth, **body)
    fetched = (await client.get(f"/api/organizations/{org['id']}", headers=auth)).json()
    assert fetched == org
    assert {k: fetched[k] for k in body} == body


async def test_create_rejects_bad_input_with_logto_codes(client: AsyncClient, auth: dict[str, str]) -> None:
    for body in (
        {},
        {"name": ""},
        {"name": "x" * 129},
        {"name": "ok", "color": {"primaryColor": "red"}},
        {"name": "ok", "branding": {"logoUrl": "not a url"}},
        {"name": "ok", "isMfaRequired": "yes"},
        {"name": "ok", "createdAt": 1e300},
    ):
        response = await client.post("/api/organizations", json=body, headers=auth)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["code"] == "guard.invalid_input"


async def test_routes_require_a_management_token(client: AsyncClient) -> None:
    assert (await client.get("/api/organizations")).status_code == 401


async def test_unknown_organization_is_404(client: AsyncClient, auth: dict[str, str]) -> None:
    for method in ("GET", "DELETE"):
        response = await client.request(method, "/api/organizations/nope", headers=auth)
        assert response.status_code == 404
        assert response.json()["code"] == "entity.not_exists_with_id"
    response = await client.patch("/api/organizations/nope", json={"name": "x"}, headers=auth)
    assert response.status_code == 404 and response.json()["code"] == "entity.not_exists_with_id"


async def test_patch_changes_given_fields_and_replaces_custom_data(
    client: AsyncClient, auth: dict[str, str], events_of: Callable[..., Awaitable[list[dict[str, Any]]]]
) -> None:
    org = await new_organization(client, auth, description="keep", customData={"a": 1, "b": 2})
    response = await client.patch(
        f"/api/organizations/{org['id']}", json={"name": "Renamed", "customData": {"c": 3}}, headers=auth
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "Renamed" and updated["description"] == "keep"
    assert updated["customData"] == {"c": 3}  # replaced, not merged: Logto's PATCH
    assert updated == (await client.get(f"/api/organizations/{org['id']}", headers=auth)).json()
    events = await events_of("Organization.Data.Updated", org["id"])
    assert [e["data"]["name"] for e in events] == ["Renamed"]


async def test_patch_null_clears_nullable_fields(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await new_organization(client, auth, description="d", customCss="x{}")
    response = await client.patch(
        f"/api/organizations/{org['id']}", json={"description": None, "customCss": None}, headers=auth
    )
    assert response.status_code == 200
    assert response.json()["description"] is None and response.json()["customCss"] is None
    response = await client.patch(f"/api/organizations/{org['id']}", json={"name": None}, headers=auth)
    assert response.status_code == 400


async def test_delete_removes_organization_and_announces_it(
    client: AsyncClient,
    auth: dict[str, str],
    make_user: Callable[..., Any],
    events_of: Callable[..., Awaitable[list[dict[str, Any]]]],
) -> None:
    org = await new_organization(client, auth)
    user_id = await make_user("member")
    await client.post(f"/api/organizations/{org['id']}/users", json={"userIds": [user_id]}, headers=auth)
    response = await client.delete(f"/api/organizations/{org['id']}", headers=auth)
    assert response.status_code == 204
    assert (await client.get(f"/api/organizations/{org['id']}", headers=auth)).status_code == 404
    assert (await client.get(f"/api/users/{user_id}/organizations", headers=auth)).json() == []
    assert [e["data"]["id"] for e in await events_of("Organization.Deleted", org["id"])] == [org["id"]]


async def test_list_searches_by_name_or_id_newest_first_with_total(client: AsyncClient, auth: dict[str, str]) -> None:
    marker = unique("findme")
    first = await new_organization(client, auth, name=f"{marker}-one")
    second = await new_organization(client, auth, name=f"{marker.upper()}-two")
    await new_organization(client, auth, name=unique("other"))
    response = await client.get(f"/api/organizations?q={marker}", headers=auth)
    assert response.status_code == 200
    assert [o["id"] for o in response.json()] == [second["id"], first["id"]]
    assert response.headers["Total-Number"] == "2"
    by_id = await client.get(f"/api/organizations?q={first['id']}", headers=auth)
    assert [o["id"] for o in by_id.json()] == [first["id"]]
    paged = await client.get(f"/api/organizations?q={marker}&page=2&page_size=1", headers=auth)
    assert [o["id"] for o in paged.json()] == [first["id"]] and paged.headers["Total-Number"] == "2"
    assert "usersCount" not in response.json()[0]


async def test_list_rejects_bad_pagination(client: AsyncClient, auth: dict[str, str]) -> None:
    for query in ("page=0", "page_size=101", "page=x"):
        response = await client.get(f"/api/organizations?{query}", headers=auth)
        assert response.status_code == 400 and response.json()["code"] == "guard.invalid_pagination"


async def test_list_with_show_featured_counts_members(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any]
) -> None:
    marker = unique("featured")
    org = await new_organization(client, auth, name=marker)
    empty = await new_organization(client, auth, name=f"{marker}-empty")
    users = [await make_user(f"u{i}") for i in range(4)]
    await client.post(f"/api/organizations/{org['id']}/users", json={"userIds": users}, headers=auth)
    listed = (await client.get(f"/api/organizations?q={marker}&showFeatured=true", headers=auth)).json()
    by_id = {o["id"]: o for o in listed}
    assert by_id[org["id"]]["usersCount"] == 4
    featured = by_id[org["id"]]["featuredUsers"]
    assert len(featured) == 3 and {f["id"] for f in featured} <= set(users)
    assert set(featured[0]) == {"id", "avatar", "name"}
    assert by_id[empty["id"]]["usersCount"] == 0 and by_id[empty["id"]]["featuredUsers"] == []


async def test_user_organizations_carry_the_users_roles(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], make_role: Callable[..., Any]
) -> None:
    user_id = await make_user("joiner")
    org_a, org_b = await new_organization(client, auth, name="A"), await new_organization(client, auth, name="B")
    role_z, role_a = await make_role(name=unique("z-role")), await make_role(name=unique("a-role"))
    for org in (org_a, org_b):
        response = await client.post(f"/api/organizations/{org['id']}/users", json={"userIds": [user_id]}, headers=auth)
        assert response.status_code == 201
    response = await client.post(
        f"/api/organizations/{org_a['id']}/users/{user_id}/roles",
        json={"organizationRoleIds": [role_z, role_a]},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    response = await client.get(f"/api/users/{user_id}/organizations", headers=auth)
    assert response.status_code == 200
    by_id = {o["id"]: o for o in response.json()}
    assert set(by_id) == {org_a["id"], org_b["id"]}
    assert [r["id"] for r in by_id[org_a["id"]]["organizationRoles"]] == [role_a, role_z]  # by name
    assert by_id[org_b["id"]]["organizationRoles"] == []
    assert by_id[org_b["id"]]["name"] == "B" and "customData" in by_id[org_b["id"]]


async def test_organizations_of_unknown_user_or_application_are_404(client: AsyncClient, auth: dict[str, str]) -> None:
    for path in ("/api/users/nobody/organizations", "/api/applications/nothing/organizations"):
        response = await client.get(path, headers=auth)
        assert response.status_code == 404 and response.json()["code"] == "entity.not_exists_with_id"


async def test_application_organizations_with_roles_and_optional_pagination(
    client: AsyncClient, auth: dict[str, str], make_app: Callable[..., Any], make_role: Callable[..., Any]
) -> None:
    app_id = await make_app("m2m")
    orgs = [await new_organization(client, auth, name=f"app-org-{i}") for i in range(3)]
    for org in orgs:
        response = await client.post(
            f"/api/organizations/{org['id']}/applications", json={"applicationIds": [app_id]}, headers=auth
        )
        assert response.status_code == 201, response.text
    role = await make_role(type="MachineToMachine")
    response = await client.post(
        f"/api/organizations/{orgs[0]['id']}/applications/{app_id}/roles",
        json={"organizationRoleIds": [role]},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    response = await client.get(f"/api/applications/{app_id}/organizations", headers=auth)
    assert response.status_code == 200 and "Total-Number" not in response.headers
    listed = response.json()
    assert [o["id"] for o in listed] == [o["id"] for o in reversed(orgs)]  # newest first
    assert listed[-1]["organizationRoles"] == [{"id": role, "name": f"role-{role}"}]
    paged = await client.get(f"/api/applications/{app_id}/organizations?page=1&page_size=2", headers=auth)
    assert len(paged.json()) == 2 and paged.headers["Total-Number"] == "3"


async def test_values_postgresql_refuses_are_bad_input_not_errors(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post("/api/organizations", json={"name": "a\u0000b"}, headers=auth)
    assert response.status_code == 400 and response.json()["code"] == "guard.invalid_input"
    for path in ("/api/organizations?q=a%00b", "/api/organizations/a%00b", "/api/organizations/a%00b/users"):
        response = await client.get(path, headers=auth)
        assert response.status_code == 400, (path, response.text)
