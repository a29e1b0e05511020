"""Identity's user events keep the user-role links in step: default roles for a new user, no links
left behind by a deleted one (consumer `management-user-roles`)."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import nats
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_platform.db import create_engine
from gatehouse_schema.api.users import User
from gatehouse_schema.events import (
    Actor,
    EventData,
    UserCreated,
    UserDataUpdated,
    UserDeleted,
    event_subject,
    make_event,
)
from gatehouse_schema.tables.identity import users
from gatehouse_schema.tables.management import inbox, users_roles
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine


def user_payload(user_id: str) -> User:
    return User(
        id=user_id,
        username=None,
        primary_email=None,
        primary_phone=None,
        name="n",
        avatar=None,
        custom_data={},
        identities={},
        last_sign_in_at=None,
        created_at=0,
        updated_at=0,
        profile={},
        application_id=None,
        is_suspended=False,
        has_password=False,
    )


async def publish(nats_url: str, prefix: str, data: EventData, *, times: int = 1) -> str:
    event = make_event(data, tenant_id="default", actor=Actor(type="application", id="m2m"))
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for i in range(times):  # the same event under different message ids: the inbox must dedupe it
        await js.publish(
            event_subject(prefix, "default", data.context, data.event_type),
            msgspec.json.encode(event),
            headers={"Nats-Msg-Id": f"{event.id}-{i}"},
        )
    await nc.close()
    return event.id


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@pytest_asyncio.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(scope="session")
def delete_user(engine: AsyncEngine) -> Callable[[str], Awaitable[None]]:
    """Deletes an identity-owned user row, as identity would before publishing User.Deleted."""

    async def delete(user_id: str) -> None:
        async with engine.begin() as conn:
            await conn.execute(sa.delete(users).where(users.c.tenant_id == "default", users.c.id == user_id))

    return delete


@pytest_asyncio.fixture(scope="session")
def links_of(engine: AsyncEngine) -> Callable[[str], Awaitable[list[str]]]:
    """The role ids linked to a user in management.users_roles (also for a user identity no longer has)."""

    async def links(user_id: str) -> list[str]:
        async with engine.connect() as conn:
            query = sa.select(users_roles.c.role_id).where(
                users_roles.c.tenant_id == "default", users_roles.c.user_id == user_id
            )
            return sorted((await conn.execute(query)).scalars())

    return links


async def new_role(client: AsyncClient, auth: dict[str, str], **body: Any) -> str:
    response = await client.post(
        "/api/roles", json={"name": f"role-{uuid.uuid4().hex[:8]}", "description": "d", **body}, headers=auth
    )
    assert response.status_code == 200, response.text
    role_id: str = response.json()["id"]
    return role_id


async def role_ids_of(client: AsyncClient, auth: dict[str, str], user_id: str) -> list[str]:
    response = await client.get(f"/api/users/{user_id}/roles", headers=auth)
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()]


async def test_created_user_gets_the_default_user_roles_once(
    client: AsyncClient,
    auth: dict[str, str],
    make_user: Callable[..., Any],
    links_of: Callable[[str], Awaitable[list[str]]],
    engine: AsyncEngine,
    nats_url: str,
    subject_prefix: str,
) -> None:
    default_role = await new_role(client, auth, isDefault=True)
    other_role = await new_role(client, auth)
    created_at = datetime(2024, 5, 6, 7, 8, 9, 123457, tzinfo=UTC)  # microseconds: more precise than the event
    user_id = await make_user("newcomer", created_at=created_at)
    assert await role_ids_of(client, auth, user_id) == []

    await publish(nats_url, subject_prefix, UserCreated(data=user_payload(user_id)), times=2)

    assert await eventually(lambda: _holds(client, auth, user_id, default_role))
    held = await role_ids_of(client, auth, user_id)
    assert default_role in held and other_role not in held
    await asyncio.sleep(0.3)  # the duplicate delivery has had time to arrive: still one link
    users_page = await client.get(f"/api/roles/{default_role}/users?page=1&page_size=20", headers=auth)
    assert [u["id"] for u in users_page.json()] == [user_id]
    assert users_page.headers["Total-Number"] == "1"
    assert default_role in await links_of(user_id)
    # the link keeps the user's exact created_at (the row's, not the event's milliseconds), the list's sort key
    async with engine.connect() as conn:
        kept = await conn.execute(
            sa.select(users_roles.c.user_created_at).where(
                users_roles.c.tenant_id == "default", users_roles.c.user_id == user_id
            )
        )
        assert kept.scalar_one() == created_at


async def test_created_event_of_a_user_already_gone_links_nothing(
    client: AsyncClient,
    auth: dict[str, str],
    make_user: Callable[..., Any],
    delete_user: Callable[[str], Awaitable[None]],
    links_of: Callable[[str], Awaitable[list[str]]],
    nats_url: str,
    subject_prefix: str,
) -> None:
    default_role = await new_role(client, auth, isDefault=True)
    user_id = await make_user("ephemeral")
    await delete_user(user_id)
    await publish(nats_url, subject_prefix, UserCreated(data=user_payload(user_id)))
    marker = await make_user("marker")  # events are handled in order: once the marker is linked, the first was handled
    await publish(nats_url, subject_prefix, UserCreated(data=user_payload(marker)))
    assert await eventually(lambda: _holds(client, auth, marker, default_role))
    response = await client.get(f"/api/roles/{default_role}/users?page=1&page_size=20", headers=auth)
    assert [u["id"] for u in response.json()] == [marker] and response.headers["Total-Number"] == "1"
    assert await links_of(user_id) == []


async def test_deleted_user_loses_every_role_link(
    client: AsyncClient,
    auth: dict[str, str],
    make_user: Callable[..., Any],
    delete_user: Callable[[str], Awaitable[None]],
    links_of: Callable[[str], Awaitable[list[str]]],
    nats_url: str,
    subject_prefix: str,
) -> None:
    role_a, role_b = await new_role(client, auth), await new_role(client, auth)
    leaving, staying = await make_user("leaving"), await make_user("staying")
    response = await client.post(f"/api/roles/{role_a}/users", json={"userIds": [leaving, staying]}, headers=auth)
    assert response.status_code == 201, response.text
    response = await client.post(f"/api/users/{leaving}/roles", json={"roleIds": [role_b]}, headers=auth)
    assert response.status_code == 201, response.text

    await delete_user(leaving)
    assert await links_of(leaving) == sorted([role_a, role_b])  # identity's delete alone leaves them
    await publish(nats_url, subject_prefix, UserDeleted(data=user_payload(leaving)))

    async def unlinked() -> bool:
        totals = [
            (await client.get(f"/api/roles/{r}/users?page=1&page_size=20", headers=auth)).headers["Total-Number"]
            for r in (role_a, role_b)
        ]
        return totals == ["1", "0"]

    assert await eventually(unlinked)
    assert await links_of(leaving) == []
    page = await client.get(f"/api/roles/{role_a}/users?page=1&page_size=20", headers=auth)
    assert [u["id"] for u in page.json()] == [staying]
    assert await role_ids_of(client, auth, staying) == [role_a]


async def _holds(client: AsyncClient, auth: dict[str, str], user_id: str, role_id: str) -> bool:
    return role_id in await role_ids_of(client, auth, user_id)


async def test_other_user_events_are_acknowledged_without_an_inbox_row(
    client: AsyncClient,
    auth: dict[str, str],
    make_user: Callable[..., Any],
    engine: AsyncEngine,
    nats_url: str,
    subject_prefix: str,
) -> None:
    default_role = await new_role(client, auth, isDefault=True)
    user_id = await make_user("updated")
    updated = await publish(nats_url, subject_prefix, UserDataUpdated(data=user_payload(user_id), changed=["name"]))
    created = await publish(nats_url, subject_prefix, UserCreated(data=user_payload(user_id)))
    assert await eventually(lambda: _holds(client, auth, user_id, default_role))  # handled after the update

    async with engine.connect() as conn:
        query = sa.select(inbox.c.event_id).where(inbox.c.consumer == "management-user-roles")
        handled = set((await conn.execute(query)).scalars())
    assert created in handled and updated not in handled
