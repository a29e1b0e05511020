"""Roles, their scopes, and assignment to users and applications from either side."""

import random
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_platform.db import create_engine
from gatehouse_schema.tables.identity import users as identity_users
from gatehouse_schema.tables.management import users_roles
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def post(client: AsyncClient, auth: dict[str, str], url: str, body: Any, status: int = 200) -> Any:
    response = await client.post(url, json=body, headers=auth)
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def new_role(client: AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    role: dict[str, Any] = await post(client, auth, "/api/roles", {"name": unique("role"), "description": "d", **body})
    return role


async def new_scope(client: AsyncClient, auth: dict[str, str]) -> dict[str, Any]:
    resource = await post(
        client, auth, "/api/resources", {"name": "R", "indicator": f"https://{uuid.uuid4().hex}.example"}, 201
    )
    scope: dict[str, Any] = await post(
        client, auth, f"/api/resources/{resource['id']}/scopes", {"name": unique("s")}, 201
    )
    return scope


async def new_app(client: AsyncClient, auth: dict[str, str], app_type: str = "MachineToMachine") -> dict[str, Any]:
    app: dict[str, Any] = await post(client, auth, "/api/applications", {"name": "a", "type": app_type})
    return app


async def test_create_role_with_scopes(client: AsyncClient, auth: dict[str, str]) -> None:
    scope = await new_scope(client, auth)
    role = await new_role(client, auth, scopeIds=[scope["id"]])
    assert role["type"] == "User" and role["isDefault"] is False and role["tenantId"] == "default"
    scopes = (await client.get(f"/api/roles/{role['id']}/scopes", headers=auth)).json()
    assert [s["id"] for s in scopes] == [scope["id"]]
    assert scopes[0]["resource"]["id"] == scope["resourceId"]


async def test_role_name_is_unique(client: AsyncClient, auth: dict[str, str]) -> None:
    role = await new_role(client, auth)
    response = await client.post("/api/roles", json={"name": role["name"], "description": "x"}, headers=auth)
    assert response.status_code == 422 and response.json()["code"] == "role.name_in_use"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x"},
        {"description": "x"},
        {"name": "x", "description": "x", "type": "Bot"},
        {"name": "x" * 129, "description": "x"},
    ],
)
async def test_bad_role_input_is_400(client: AsyncClient, auth: dict[str, str], body: dict[str, Any]) -> None:
    response = await client.post("/api/roles", json=body, headers=auth)
    assert response.status_code == 400 and response.json()["code"] == "guard.invalid_input"


async def test_create_role_with_unknown_scope_is_404(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post(
        "/api/roles", json={"name": unique("r"), "description": "d", "scopeIds": ["nope"]}, headers=auth
    )
    assert response.status_code == 404 and response.json()["code"] == "entity.not_exists_with_id"


async def test_update_get_delete_role(client: AsyncClient, auth: dict[str, str]) -> None:
    role = await new_role(client, auth)
    patched = await client.patch(
        f"/api/roles/{role['id']}", json={"description": "new", "isDefault": True}, headers=auth
    )
    assert patched.json()["description"] == "new" and patched.json()["isDefault"] is True
    assert (await client.get(f"/api/roles/{role['id']}", headers=auth)).json() == patched.json()
    assert (await client.delete(f"/api/roles/{role['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"/api/roles/{role['id']}", headers=auth)).status_code == 404


async def test_list_roles_has_stats_and_pagination(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any]
) -> None:
    role = await new_role(client, auth, name=unique("stats"))
    users = [await make_user(f"u{i}") for i in range(4)]
    await post(client, auth, f"/api/roles/{role['id']}/users", {"userIds": users}, 201)
    listed = await client.get(f"/api/roles?search={role['name']}&page=1&page_size=5", headers=auth)
    assert listed.headers["total-number"] == "1"
    [entry] = listed.json()
    assert entry["usersCount"] == 4 and len(entry["featuredUsers"]) == 3
    assert entry["applicationsCount"] == 0 and entry["featuredApplications"] == []


async def test_role_users_from_both_sides(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any]
) -> None:
    role = await new_role(client, auth)
    alice, bob = await make_user("alice"), await make_user("bob")
    await post(client, auth, f"/api/roles/{role['id']}/users", {"userIds": [alice]}, 201)
    again = await client.post(f"/api/roles/{role['id']}/users", json={"userIds": [alice]}, headers=auth)
    assert again.status_code == 422 and again.json()["code"] == "role.user_exists"
    ghost = await client.post(f"/api/roles/{role['id']}/users", json={"userIds": ["ghost"]}, headers=auth)
    assert ghost.status_code == 404
    assigned = await post(client, auth, f"/api/users/{bob}/roles", {"roleIds": [role["id"]]}, 201)
    assert assigned == {"roleIds": [role["id"]], "addedRoleIds": [role["id"]]}
    page = await client.get(f"/api/roles/{role['id']}/users?page=1&page_size=10", headers=auth)
    assert page.headers["total-number"] == "2"
    user = page.json()[0]
    assert {"id", "username", "primaryEmail", "customData", "identities", "isSuspended", "hasPassword"} <= set(user)
    assert "passwordEncrypted" not in user
    found = await client.get(f"/api/roles/{role['id']}/users?search=alice", headers=auth)
    assert [u["id"] for u in found.json()] == [alice]
    assert [r["id"] for r in (await client.get(f"/api/users/{alice}/roles", headers=auth)).json()] == [role["id"]]
    assert (await client.delete(f"/api/roles/{role['id']}/users/{alice}", headers=auth)).status_code == 204
    assert (await client.delete(f"/api/users/{bob}/roles/{role['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"/api/roles/{role['id']}/users", headers=auth)).headers["total-number"] == "0"


async def test_replace_user_roles(client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any]) -> None:
    first, second = await new_role(client, auth), await new_role(client, auth)
    user = await make_user()
    await post(client, auth, f"/api/users/{user}/roles", {"roleIds": [first["id"]]}, 201)
    response = await client.put(f"/api/users/{user}/roles", json={"roleIds": [second["id"]]}, headers=auth)
    assert response.status_code == 200 and response.json() == {"roleIds": [second["id"]]}
    assert [r["id"] for r in (await client.get(f"/api/users/{user}/roles", headers=auth)).json()] == [second["id"]]


async def test_m2m_role_cannot_go_to_a_user(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any]
) -> None:
    role = await new_role(client, auth, type="MachineToMachine")
    user = await make_user()
    for response in (
        await client.post(f"/api/roles/{role['id']}/users", json={"userIds": [user]}, headers=auth),
        await client.post(f"/api/users/{user}/roles", json={"roleIds": [role["id"]]}, headers=auth),
    ):
        assert response.status_code == 422 and response.json()["code"] == "user.invalid_role_type"


async def test_unknown_user_roles_are_404(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.get("/api/users/ghost/roles", headers=auth)
    assert response.status_code == 404 and response.json()["code"] == "entity.not_exists_with_id"


async def test_role_applications_from_both_sides(client: AsyncClient, auth: dict[str, str]) -> None:
    role = await new_role(client, auth, type="MachineToMachine")
    app, other = await new_app(client, auth), await new_app(client, auth)
    await post(client, auth, f"/api/roles/{role['id']}/applications", {"applicationIds": [app["id"]]}, 201)
    dup = await client.post(f"/api/roles/{role['id']}/applications", json={"applicationIds": [app["id"]]}, headers=auth)
    assert dup.status_code == 422 and dup.json()["code"] == "role.application_exists"
    assigned = await post(client, auth, f"/api/applications/{other['id']}/roles", {"roleIds": [role["id"]]}, 201)
    assert assigned["addedRoleIds"] == [role["id"]]
    dup2 = await client.post(f"/api/applications/{other['id']}/roles", json={"roleIds": [role["id"]]}, headers=auth)
    assert dup2.status_code == 422 and dup2.json()["code"] == "application.role_exists"
    listed = await client.get(f"/api/roles/{role['id']}/applications?page=1&page_size=10", headers=auth)
    assert listed.headers["total-number"] == "2" and "secret" not in listed.json()[0]
    roles = (await client.get(f"/api/applications/{app['id']}/roles", headers=auth)).json()
    assert [r["id"] for r in roles] == [role["id"]]
    stats = (await client.get(f"/api/roles?search={role['name']}", headers=auth)).json()[0]
    assert stats["applicationsCount"] == 2 and len(stats["featuredApplications"]) == 2
    replaced = await client.put(f"/api/applications/{app['id']}/roles", json={"roleIds": []}, headers=auth)
    assert replaced.status_code == 200
    assert (await client.delete(f"/api/applications/{other['id']}/roles/{role['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"/api/roles/{role['id']}/applications", headers=auth)).headers["total-number"] == "0"


async def test_application_role_type_rules(client: AsyncClient, auth: dict[str, str]) -> None:
    user_role, m2m_role = await new_role(client, auth), await new_role(client, auth, type="MachineToMachine")
    m2m, spa = await new_app(client, auth), await new_app(client, auth, "SPA")
    wrong_role = await client.post(
        f"/api/applications/{m2m['id']}/roles", json={"roleIds": [user_role["id"]]}, headers=auth
    )
    assert wrong_role.status_code == 422 and wrong_role.json()["code"] == "application.invalid_role_type"
    wrong_app = await client.post(
        f"/api/roles/{m2m_role['id']}/applications", json={"applicationIds": [spa["id"]]}, headers=auth
    )
    assert wrong_app.status_code == 422 and wrong_app.json()["code"] == "application.invalid_type"


async def test_role_scope_links(client: AsyncClient, auth: dict[str, str]) -> None:
    role, scope = await new_role(client, auth), await new_scope(client, auth)
    linked = await post(client, auth, f"/api/roles/{role['id']}/scopes", {"scopeIds": [scope["id"]]}, 201)
    assert [s["id"] for s in linked] == [scope["id"]]
    again = await client.post(f"/api/roles/{role['id']}/scopes", json={"scopeIds": [scope["id"]]}, headers=auth)
    assert again.status_code == 422 and again.json()["code"] == "role.scope_exists"
    assert (await client.delete(f"/api/roles/{role['id']}/scopes/{scope['id']}", headers=auth)).status_code == 204
    assert (await client.delete(f"/api/roles/{role['id']}/scopes/{scope['id']}", headers=auth)).status_code == 404
    assert (await client.get(f"/api/roles/{role['id']}/scopes", headers=auth)).json() == []


async def test_management_api_scope_is_not_for_user_roles(client: AsyncClient, auth: dict[str, str]) -> None:
    resource = await client.post(
        "/api/resources", json={"name": "M", "indicator": "https://default.logto.app/api"}, headers=auth
    )
    if resource.status_code == 201:
        resource_id = resource.json()["id"]
    else:
        resource_id = next(
            r["id"]
            for r in (await client.get("/api/resources", headers=auth)).json()
            if r["indicator"] == "https://default.logto.app/api"
        )
    scopes = (await client.get(f"/api/resources/{resource_id}/scopes", headers=auth)).json()
    scope = (
        scopes[0] if scopes else await post(client, auth, f"/api/resources/{resource_id}/scopes", {"name": "all"}, 201)
    )
    role = await new_role(client, auth)
    response = await client.post(f"/api/roles/{role['id']}/scopes", json={"scopeIds": [scope["id"]]}, headers=auth)
    assert response.status_code == 400
    assert response.json()["code"] == "role.management_api_scopes_not_assignable_to_user_role"


async def test_deleting_a_scope_unlinks_it_from_roles(client: AsyncClient, auth: dict[str, str]) -> None:
    scope = await new_scope(client, auth)
    role = await new_role(client, auth, scopeIds=[scope["id"]])
    await client.delete(f"/api/resources/{scope['resourceId']}/scopes/{scope['id']}", headers=auth)
    assert (await client.get(f"/api/roles/{role['id']}/scopes", headers=auth)).json() == []


async def test_role_users_page_past_the_end_search_total_and_unknown_role(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any]
) -> None:
    role = await new_role(client, auth)
    tag = uuid.uuid4().hex[:6]
    users = [await make_user(f"carol{tag}"), await make_user(f"dave{tag}"), await make_user(f"carl{tag}")]
    await post(client, auth, f"/api/roles/{role['id']}/users", {"userIds": users}, 201)
    past = await client.get(f"/api/roles/{role['id']}/users?page=3&page_size=2", headers=auth)
    assert past.status_code == 200 and past.json() == [] and past.headers["total-number"] == "3"
    newest_first = await client.get(f"/api/roles/{role['id']}/users?page=1&page_size=2", headers=auth)
    assert [u["id"] for u in newest_first.json()] == users[::-1][:2]
    matches = await client.get(f"/api/roles/{role['id']}/users?search=car&page=1&page_size=1", headers=auth)
    assert matches.headers["total-number"] == "2" and [u["id"] for u in matches.json()] == [users[2]]
    for query in ("", "?page=1&page_size=5", "?search=car"):
        missing = await client.get(f"/api/roles/ghost-role/users{query}", headers=auth)
        assert missing.status_code == 404 and missing.json()["code"] == "entity.not_exists_with_id"


@pytest_asyncio.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    yield engine
    await engine.dispose()


async def listed_ids(client: AsyncClient, auth: dict[str, str], role_id: str, query: str = "") -> tuple[list[str], str]:
    response = await client.get(f"/api/roles/{role_id}/users{query}", headers=auth)
    assert response.status_code == 200, response.text
    return [u["id"] for u in response.json()], response.headers.get("total-number", "")


async def test_role_users_are_newest_first_for_roles_of_every_size(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], engine: AsyncEngine
) -> None:
    """The page order is the users' own (created_at descending, then id), whatever the role's size and
    whichever side made the link: links keep a copy of the user's created_at (microseconds and ties too)."""
    tag = uuid.uuid4().hex[:6]
    base = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    rng = random.Random(7)
    # 23 users: groups of three share a created_at (the id decides), the groups 1 µs apart; made in random order
    specs = [(f"o{tag}{i:02d}", base + timedelta(microseconds=i // 3)) for i in range(23)]
    rng.shuffle(specs)
    created = {await make_user(f"ord{tag}", created_at=at, user_id=uid): at for uid, at in specs}
    newest_first = sorted(sorted(created), key=lambda u: created[u], reverse=True)

    big, medium, small, single, empty = [(await new_role(client, auth))["id"] for _ in range(5)]
    members = {
        big: list(created),
        medium: rng.sample(list(created), 9),
        small: rng.sample(list(created), 2),
        single: rng.sample(list(created), 1),
        empty: [],
    }
    # the role's side for the big and the single role, the user's side for the others
    await post(client, auth, f"/api/roles/{big}/users", {"userIds": members[big]}, 201)
    await post(client, auth, f"/api/roles/{single}/users", {"userIds": members[single]}, 201)
    for user_id in created:
        held = [r for r in (medium, small) if user_id in members[r]]
        if held:
            await post(client, auth, f"/api/users/{user_id}/roles", {"roleIds": held}, 201)

    for role_id, holders in members.items():
        expected = [u for u in newest_first if u in holders]
        assert await listed_ids(client, auth, role_id, "?page=1&page_size=100") == (expected, str(len(expected)))
        assert await listed_ids(client, auth, role_id) == (expected[:20], str(len(expected)))  # default page size
        paged: list[str] = []
        for page in range(1, 8):
            ids, total = await listed_ids(client, auth, role_id, f"?page={page}&page_size=4")
            assert total == str(len(expected))
            paged += ids
        assert paged == expected
        # the search path (filtered users, sorted by their own created_at) gives the same order
        found, total = await listed_ids(client, auth, role_id, f"?search=ord{tag}&page=1&page_size=100")
        assert (found, total) == (expected, str(len(expected)))

    async with engine.connect() as conn:  # every link carries its user's exact created_at
        kept = await conn.execute(
            sa.select(users_roles.c.user_id, users_roles.c.user_created_at).where(
                users_roles.c.tenant_id == "default", users_roles.c.role_id.in_(list(members))
            )
        )
        rows = kept.all()
    assert len(rows) == sum(len(h) for h in members.values())
    assert all(at == created[user_id] for user_id, at in rows)


async def test_role_users_skip_a_link_whose_user_is_gone(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], engine: AsyncEngine
) -> None:
    """Until identity's User.Deleted event removes a deleted user's links, the page skips the user (and is
    still full) while Total-Number counts the link, as the role's links say."""
    role = (await new_role(client, auth))["id"]
    base = datetime(2025, 6, 1, tzinfo=UTC)
    ids = [await make_user("gone", created_at=base + timedelta(seconds=i)) for i in range(4)]
    await post(client, auth, f"/api/roles/{role}/users", {"userIds": ids}, 201)
    async with engine.begin() as conn:
        await conn.execute(
            sa.delete(identity_users).where(identity_users.c.tenant_id == "default", identity_users.c.id == ids[3])
        )
    assert await listed_ids(client, auth, role, "?page=1&page_size=2") == ([ids[2], ids[1]], "4")
    assert await listed_ids(client, auth, role, "?page=1&page_size=3") == ([ids[2], ids[1], ids[0]], "4")


async def test_a_link_inserted_without_the_sort_key_gets_it(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], engine: AsyncEngine
) -> None:
    """A writer that does not name `user_created_at` (other contexts' test fixtures insert links directly)
    gets the user's created_at from the table's trigger."""
    role = (await new_role(client, auth))["id"]
    older = await make_user("older", created_at=datetime(2024, 1, 1, tzinfo=UTC))
    newer = await make_user("newer", created_at=datetime(2024, 1, 2, 0, 0, 0, 5, tzinfo=UTC))
    async with engine.begin() as conn:
        for user_id in (older, newer):
            await conn.execute(sa.insert(users_roles).values(tenant_id="default", user_id=user_id, role_id=role))
        kept = await conn.execute(
            sa.select(users_roles.c.user_created_at)
            .where(users_roles.c.tenant_id == "default", users_roles.c.role_id == role)
            .order_by(users_roles.c.user_created_at)
        )
        assert list(kept.scalars()) == [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, 0, 0, 0, 5, tzinfo=UTC)]
    assert await listed_ids(client, auth, role, "?page=1&page_size=20") == ([newer, older], "2")
