"""An organization's members (users, machine-to-machine applications) and their organization roles, with
Logto's status codes and error codes."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from httpx import AsyncClient, Response

from .membership_fixtures import engine, events_of, make_app, make_role, make_scope, new_organization

__all__ = ["engine", "events_of", "make_app", "make_role", "make_scope"]  # fixtures used by name

Events = Callable[[str, str], Awaitable[list[dict[str, Any]]]]


def error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


async def org_with_users(client: AsyncClient, auth: dict[str, str], *user_ids: str) -> str:
    org = await new_organization(client, auth)
    if user_ids:
        response = await client.post(
            f"/api/organizations/{org['id']}/users", json={"userIds": list(user_ids)}, headers=auth
        )
        assert response.status_code == 201, response.text
    org_id: str = org["id"]
    return org_id


async def org_with_apps(client: AsyncClient, auth: dict[str, str], *app_ids: str) -> str:
    org = await new_organization(client, auth)
    response = await client.post(
        f"/api/organizations/{org['id']}/applications", json={"applicationIds": list(app_ids)}, headers=auth
    )
    assert response.status_code == 201, response.text
    org_id: str = org["id"]
    return org_id


async def user_ids_of(client: AsyncClient, auth: dict[str, str], org_id: str) -> list[str]:
    response = await client.get(f"/api/organizations/{org_id}/users", headers=auth)
    assert response.status_code == 200, response.text
    return [u["id"] for u in response.json()]


async def role_ids_of(client: AsyncClient, auth: dict[str, str], org_id: str, kind: str, member: str) -> list[str]:
    response = await client.get(f"/api/organizations/{org_id}/{kind}/{member}/roles", headers=auth)
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()]


# users


async def test_added_users_are_listed_as_full_users_with_their_roles(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], make_role: Callable[..., Any]
) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    org = await new_organization(client, auth)
    response = await client.post(
        f"/api/organizations/{org['id']}/users", json={"userIds": [alice, bob, alice]}, headers=auth
    )
    assert response.status_code == 201
    assert response.json() == {"userIds": [alice, bob, alice]}  # echoed as sent
    role = await make_role()
    await client.post(
        f"/api/organizations/{org['id']}/users/{alice}/roles", json={"organizationRoleIds": [role]}, headers=auth
    )
    response = await client.get(f"/api/organizations/{org['id']}/users", headers=auth)
    assert response.status_code == 200 and response.headers["Total-Number"] == "2"
    listed = response.json()
    assert [u["id"] for u in listed] == sorted([alice, bob])  # by user id, as Logto orders them
    by_id = {u["id"]: u for u in listed}
    assert by_id[alice]["organizationRoles"] == [{"id": role, "name": f"role-{role}"}]
    assert by_id[bob]["organizationRoles"] == []
    required = {"username", "primaryEmail", "primaryPhone", "name", "avatar", "customData", "identities"}
    required |= {"lastSignInAt", "createdAt", "updatedAt", "profile", "applicationId", "cimdClientId", "isSuspended"}
    assert required <= set(by_id[alice])
    assert by_id[alice]["name"] == "alice" and "passwordEncrypted" not in by_id[alice]


async def test_user_list_searches_filters_by_role_and_pages(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], make_role: Callable[..., Any]
) -> None:
    marker = uuid.uuid4().hex[:8]
    users = sorted([await make_user(f"{marker}-{i}") for i in range(3)])
    other = await make_user("someone")
    org_id = await org_with_users(client, auth, *users, other)
    role = await make_role()
    await client.post(
        f"/api/organizations/{org_id}/users/roles",
        json={"userIds": users[:2], "organizationRoleIds": [role]},
        headers=auth,
    )
    found = await client.get(f"/api/organizations/{org_id}/users?q={marker.upper()}", headers=auth)
    assert [u["id"] for u in found.json()] == users and found.headers["Total-Number"] == "3"
    holders = await client.get(f"/api/organizations/{org_id}/users?organizationRoleId={role}", headers=auth)
    assert [u["id"] for u in holders.json()] == users[:2] and holders.headers["Total-Number"] == "2"
    page = await client.get(f"/api/organizations/{org_id}/users?q={marker}&page=2&page_size=2", headers=auth)
    assert [u["id"] for u in page.json()] == users[2:] and page.headers["Total-Number"] == "3"


async def test_adding_users_checks_organization_and_users(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any]
) -> None:
    user = await make_user()
    org_id = await org_with_users(client, auth)
    url = f"/api/organizations/{org_id}/users"
    error(
        await client.post(url, json={"userIds": [user, "ghost"]}, headers=auth),
        422,
        "entity.relation_foreign_key_not_found",
    )
    assert await user_ids_of(client, auth, org_id) == []  # nothing added
    error(await client.post(url, json={"userIds": []}, headers=auth), 400, "guard.invalid_input")
    error(await client.post(url, json={}, headers=auth), 400, "guard.invalid_input")
    error(
        await client.post("/api/organizations/nope/users", json={"userIds": [user]}, headers=auth),
        422,
        "entity.relation_foreign_key_not_found",
    )
    error(await client.get("/api/organizations/nope/users", headers=auth), 404, "entity.not_exists_with_id")


async def test_membership_events_say_who_joined_and_left(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], events_of: Events
) -> None:
    a, b, c = await make_user(), await make_user(), await make_user()
    org_id = await org_with_users(client, auth, a, b)
    await client.post(f"/api/organizations/{org_id}/users", json={"userIds": [a]}, headers=auth)  # no change
    response = await client.put(f"/api/organizations/{org_id}/users", json={"userIds": [b, c]}, headers=auth)
    assert response.status_code == 204
    assert (await client.delete(f"/api/organizations/{org_id}/users/{b}", headers=auth)).status_code == 204
    events = await events_of("Organization.Membership.Updated", org_id)
    assert [(e["addedUserIds"], e["removedUserIds"]) for e in events] == [
        (sorted([a, b]), []),
        ([c], [a]),
        ([], [b]),
    ]
    assert all(e["organizationId"] == org_id and e["addedApplicationIds"] == [] for e in events)


async def test_replacing_users_keeps_the_roles_of_those_who_stay(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], make_role: Callable[..., Any]
) -> None:
    stays, leaves, joins = await make_user(), await make_user(), await make_user()
    org_id = await org_with_users(client, auth, stays, leaves)
    role = await make_role()
    await client.post(
        f"/api/organizations/{org_id}/users/roles",
        json={"userIds": [stays, leaves], "organizationRoleIds": [role]},
        headers=auth,
    )
    response = await client.put(f"/api/organizations/{org_id}/users", json={"userIds": [stays, joins]}, headers=auth)
    assert response.status_code == 204
    assert sorted(await user_ids_of(client, auth, org_id)) == sorted([stays, joins])
    assert await role_ids_of(client, auth, org_id, "users", stays) == [role]
    await client.post(f"/api/organizations/{org_id}/users", json={"userIds": [leaves]}, headers=auth)
    assert await role_ids_of(client, auth, org_id, "users", leaves) == []  # its roles left with it
    error(
        await client.put(f"/api/organizations/{org_id}/users", json={"userIds": ["ghost"]}, headers=auth),
        422,
        "entity.relation_foreign_key_not_found",
    )
    response = await client.put(f"/api/organizations/{org_id}/users", json={"userIds": []}, headers=auth)
    assert response.status_code == 204 and await user_ids_of(client, auth, org_id) == []


async def test_removing_a_user_who_is_not_a_member_is_404(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any]
) -> None:
    user = await make_user()
    org_id = await org_with_users(client, auth, user)
    assert (await client.delete(f"/api/organizations/{org_id}/users/{user}", headers=auth)).status_code == 204
    error(await client.delete(f"/api/organizations/{org_id}/users/{user}", headers=auth), 404, "entity.not_found")
    error(await client.delete(f"/api/organizations/nope/users/{user}", headers=auth), 404, "entity.not_found")


async def test_user_role_routes_need_membership(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], make_role: Callable[..., Any]
) -> None:
    outsider = await make_user()
    org_id = await org_with_users(client, auth)
    role = await make_role()
    base = f"/api/organizations/{org_id}/users/{outsider}"
    body = {"organizationRoleIds": [role]}
    for response in (
        await client.get(f"{base}/roles", headers=auth),
        await client.post(f"{base}/roles", json=body, headers=auth),
        await client.put(f"{base}/roles", json=body, headers=auth),
        await client.delete(f"{base}/roles/{role}", headers=auth),
        await client.get(f"{base}/scopes", headers=auth),
        await client.get(f"/api/organizations/nope/users/{outsider}/roles", headers=auth),
    ):
        error(response, 422, "organization.require_membership")


async def test_user_roles_by_id_and_name(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], make_role: Callable[..., Any]
) -> None:
    user = await make_user()
    org_id = await org_with_users(client, auth, user)
    named = f"named-{uuid.uuid4().hex[:8]}"
    by_id, by_name = await make_role(), await make_role(name=named)
    url = f"/api/organizations/{org_id}/users/{user}/roles"
    # the first role also by its name: one id per role in the answer
    body = {"organizationRoleIds": [by_id], "organizationRoleNames": [f"role-{by_id}", named]}
    response = await client.post(url, json=body, headers=auth)
    assert response.status_code == 201, response.text
    assert response.json() == {"organizationRoleIds": [by_id, by_name]}
    listed = (await client.get(url, headers=auth)).json()
    assert sorted(r["id"] for r in listed) == sorted([by_id, by_name])
    assert set(listed[0]) == {"tenantId", "id", "name", "description", "type"}
    error(
        await client.post(url, json={"organizationRoleNames": ["no-such-role"]}, headers=auth),
        422,
        "organization.role_names_not_found",
    )
    error(await client.post(url, json={"organizationRoleNames": [""]}, headers=auth), 400, "guard.invalid_input")


async def test_user_roles_must_exist_and_be_user_roles(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], make_role: Callable[..., Any]
) -> None:
    user = await make_user()
    org_id = await org_with_users(client, auth, user)
    m2m = await make_role(type="MachineToMachine")
    url = f"/api/organizations/{org_id}/users/{user}/roles"
    error(
        await client.post(url, json={"organizationRoleIds": [m2m]}, headers=auth), 422, "entity.db_constraint_violated"
    )
    error(
        await client.post(url, json={"organizationRoleIds": ["ghost"]}, headers=auth),
        422,
        "entity.relation_foreign_key_not_found",
    )
    error(
        await client.post(
            f"/api/organizations/{org_id}/users/roles",
            json={"userIds": [user], "organizationRoleIds": [m2m]},
            headers=auth,
        ),
        422,
        "entity.db_constraint_violated",
    )
    assert await role_ids_of(client, auth, org_id, "users", user) == []


async def test_bulk_role_assignment_needs_every_user_to_be_a_member(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], make_role: Callable[..., Any]
) -> None:
    member, outsider = await make_user(), await make_user()
    org_id = await org_with_users(client, auth, member)
    role = await make_role()
    url = f"/api/organizations/{org_id}/users/roles"
    error(
        await client.post(url, json={"userIds": [member, outsider], "organizationRoleIds": [role]}, headers=auth),
        422,
        "entity.relation_foreign_key_not_found",
    )
    assert await role_ids_of(client, auth, org_id, "users", member) == []
    for _ in range(2):  # roles already held are ignored
        response = await client.post(url, json={"userIds": [member], "organizationRoleIds": [role]}, headers=auth)
        assert response.status_code == 201, response.text
    assert await role_ids_of(client, auth, org_id, "users", member) == [role]


async def test_replacing_and_removing_user_roles(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], make_role: Callable[..., Any]
) -> None:
    user = await make_user()
    org_id = await org_with_users(client, auth, user)
    roles = [await make_role(name=f"r{i}-{uuid.uuid4().hex[:8]}") for i in range(3)]
    url = f"/api/organizations/{org_id}/users/{user}/roles"
    await client.post(url, json={"organizationRoleIds": roles[:2]}, headers=auth)
    response = await client.put(
        url, json={"organizationRoleIds": [roles[2]], "organizationRoleNames": []}, headers=auth
    )
    assert response.status_code == 204
    assert await role_ids_of(client, auth, org_id, "users", user) == [roles[2]]
    paged = await client.get(f"{url}?page=1&page_size=1", headers=auth)
    assert paged.headers["Total-Number"] == "1" and "Total-Number" not in (await client.get(url, headers=auth)).headers
    assert (await client.delete(f"{url}/{roles[2]}", headers=auth)).status_code == 204
    error(await client.delete(f"{url}/{roles[2]}", headers=auth), 404, "entity.not_found")
    assert (await client.put(url, json={}, headers=auth)).status_code == 204


async def test_user_scopes_come_from_the_users_roles_in_that_organization(
    client: AsyncClient,
    auth: dict[str, str],
    make_user: Callable[..., Any],
    make_role: Callable[..., Any],
    make_scope: Callable[..., Any],
) -> None:
    user = await make_user()
    read, write, other = await make_scope(), await make_scope(), await make_scope()
    reader, writer = await make_role(scope_ids=(read,)), await make_role(scope_ids=(read, write))
    elsewhere = await make_role(scope_ids=(other,))
    org_id, other_org = await org_with_users(client, auth, user), await org_with_users(client, auth, user)
    await client.post(
        f"/api/organizations/{org_id}/users/{user}/roles", json={"organizationRoleIds": [reader, writer]}, headers=auth
    )
    await client.post(
        f"/api/organizations/{other_org}/users/{user}/roles", json={"organizationRoleIds": [elsewhere]}, headers=auth
    )
    response = await client.get(f"/api/organizations/{org_id}/users/{user}/scopes", headers=auth)
    assert response.status_code == 200
    scopes = response.json()
    assert sorted(s["id"] for s in scopes) == sorted([read, write])  # each once
    assert set(scopes[0]) == {"tenantId", "id", "name", "description"}


# applications


async def test_machine_to_machine_apps_join_and_are_listed_with_roles(
    client: AsyncClient, auth: dict[str, str], make_app: Callable[..., Any], make_role: Callable[..., Any]
) -> None:
    described, plain = await make_app("alpha", description="the first one"), await make_app("beta")
    org_id = await org_with_apps(client, auth, described, plain)
    role = await make_role(type="MachineToMachine")
    response = await client.post(
        f"/api/organizations/{org_id}/applications/{described}/roles",
        json={"organizationRoleIds": [role]},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    response = await client.get(f"/api/organizations/{org_id}/applications", headers=auth)
    assert response.status_code == 200 and response.headers["Total-Number"] == "2"
    listed = response.json()
    assert [a["id"] for a in listed] == sorted([described, plain])
    by_id = {a["id"]: a for a in listed}
    assert by_id[described]["organizationRoles"] == [{"id": role, "name": f"role-{role}"}]
    assert by_id[plain]["organizationRoles"] == []
    assert by_id[described]["type"] == "MachineToMachine" and by_id[described]["description"] == "the first one"
    assert "secret" not in by_id[described] and "oidcClientMetadata" in by_id[described]
    found = await client.get(f"/api/organizations/{org_id}/applications?q=FIRST", headers=auth)  # description
    assert [a["id"] for a in found.json()] == [described] and found.headers["Total-Number"] == "1"


async def test_only_existing_machine_to_machine_apps_can_join(
    client: AsyncClient, auth: dict[str, str], make_app: Callable[..., Any]
) -> None:
    native, m2m = await make_app(type="Native"), await make_app()
    org_id = (await new_organization(client, auth))["id"]
    url = f"/api/organizations/{org_id}/applications"
    error(
        await client.post(url, json={"applicationIds": [m2m, native]}, headers=auth),
        422,
        "entity.db_constraint_violated",
    )
    error(
        await client.post(url, json={"applicationIds": ["ghost"]}, headers=auth),
        422,
        "entity.relation_foreign_key_not_found",
    )
    error(await client.put(url, json={"applicationIds": [native]}, headers=auth), 422, "entity.db_constraint_violated")
    error(await client.post(url, json={"applicationIds": []}, headers=auth), 400, "guard.invalid_input")
    error(
        await client.post("/api/organizations/nope/applications", json={"applicationIds": [m2m]}, headers=auth),
        422,
        "entity.relation_foreign_key_not_found",
    )
    error(await client.get("/api/organizations/nope/applications", headers=auth), 404, "entity.not_exists_with_id")
    assert (await client.get(url, headers=auth)).json() == []


async def test_replacing_and_removing_applications_announces_the_change(
    client: AsyncClient, auth: dict[str, str], make_app: Callable[..., Any], events_of: Events
) -> None:
    a, b = await make_app(), await make_app()
    org_id = await org_with_apps(client, auth, a)
    url = f"/api/organizations/{org_id}/applications"
    assert (await client.put(url, json={"applicationIds": [b]}, headers=auth)).status_code == 204
    assert [x["id"] for x in (await client.get(url, headers=auth)).json()] == [b]
    assert (await client.delete(f"{url}/{b}", headers=auth)).status_code == 204
    error(await client.delete(f"{url}/{b}", headers=auth), 404, "entity.not_found")
    error(await client.delete(f"/api/organizations/nope/applications/{b}", headers=auth), 404, "entity.not_found")
    events = await events_of("Organization.Membership.Updated", org_id)
    assert [(e["addedApplicationIds"], e["removedApplicationIds"]) for e in events] == [
        ([a], []),
        ([b], [a]),
        ([], [b]),
    ]
    assert all(e["addedUserIds"] == [] and e["removedUserIds"] == [] for e in events)


async def test_application_roles_need_membership_and_machine_to_machine_roles(
    client: AsyncClient, auth: dict[str, str], make_app: Callable[..., Any], make_role: Callable[..., Any]
) -> None:
    member, outsider = await make_app(), await make_app()
    org_id = await org_with_apps(client, auth, member)
    user_role, m2m_role = await make_role(type="User"), await make_role(type="MachineToMachine")
    base = f"/api/organizations/{org_id}/applications"
    error(
        await client.post(f"{base}/{outsider}/roles", json={"organizationRoleIds": [m2m_role]}, headers=auth),
        422,
        "organization.require_membership",
    )
    error(await client.get(f"{base}/{outsider}/roles", headers=auth), 422, "organization.require_membership")
    error(
        await client.delete(f"/api/organizations/nope/applications/{member}/roles/{m2m_role}", headers=auth),
        422,
        "organization.require_membership",
    )
    error(
        await client.post(f"{base}/{member}/roles", json={"organizationRoleIds": [user_role]}, headers=auth),
        422,
        "entity.db_constraint_violated",
    )
    error(
        await client.post(
            f"{base}/roles", json={"applicationIds": [member], "organizationRoleIds": [user_role]}, headers=auth
        ),
        422,
        "entity.db_constraint_violated",
    )
    error(
        await client.post(
            f"{base}/roles", json={"applicationIds": [outsider], "organizationRoleIds": [m2m_role]}, headers=auth
        ),
        422,
        "entity.relation_foreign_key_not_found",
    )
    error(
        await client.put(f"{base}/{member}/roles", json={"organizationRoleIds": []}, headers=auth),
        400,
        "guard.invalid_input",
    )


async def test_application_roles_are_assigned_listed_replaced_and_removed(
    client: AsyncClient, auth: dict[str, str], make_app: Callable[..., Any], make_role: Callable[..., Any]
) -> None:
    apps = [await make_app(), await make_app()]
    org_id = await org_with_apps(client, auth, *apps)
    roles = [await make_role(type="MachineToMachine", name=f"m{i}-{uuid.uuid4().hex[:8]}") for i in range(3)]
    response = await client.post(
        f"/api/organizations/{org_id}/applications/roles",
        json={"applicationIds": apps, "organizationRoleIds": roles[:2]},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    url = f"/api/organizations/{org_id}/applications/{apps[0]}/roles"
    listed = await client.get(url, headers=auth)
    assert [r["id"] for r in listed.json()] == roles[:2] and listed.headers["Total-Number"] == "2"
    assert listed.json()[0]["type"] == "MachineToMachine"
    paged = await client.get(f"{url}?page=2&page_size=1", headers=auth)
    assert [r["id"] for r in paged.json()] == [roles[1]]
    assert (await client.put(url, json={"organizationRoleIds": [roles[2]]}, headers=auth)).status_code == 204
    assert await role_ids_of(client, auth, org_id, "applications", apps[0]) == [roles[2]]
    assert await role_ids_of(client, auth, org_id, "applications", apps[1]) == roles[:2]
    assert (await client.delete(f"{url}/{roles[2]}", headers=auth)).status_code == 204
    error(await client.delete(f"{url}/{roles[2]}", headers=auth), 404, "entity.not_found")
