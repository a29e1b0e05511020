"""Management's deletions of API resource scopes drop organization roles' links to them (consumer
`organizations-resource-scopes`), and a scope being linked cannot be deleted under the link."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import nats
import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_platform.db import create_engine
from gatehouse_schema.api.resources import Resource, Scope
from gatehouse_schema.events import Actor, EventData, ResourceDeleted, ScopeDeleted, event_subject, make_event
from gatehouse_schema.queries.management import scopes_with_resources
from gatehouse_schema.tables.management import resources, scopes
from gatehouse_schema.tables.organizations import organization_role_resource_scope_relations as links
from httpx import AsyncClient
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from .template_testkit import TENANT, created, make_resource, make_resource_scope, outbox_events, unique


@pytest_asyncio.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


async def publish(nats_url: str, prefix: str, data: EventData, *, times: int = 1) -> None:
    """Publishes a management event as its outbox relay would; `times` copies under different message ids (a
    duplicate JetStream does not drop), which the consumer's inbox must handle once."""
    event = make_event(data, tenant_id=TENANT, actor=Actor(type="application", id="m2m"))
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for i in range(times):
        await js.publish(
            event_subject(prefix, TENANT, data.context, data.event_type),
            msgspec.json.encode(event),
            headers={"Nats-Msg-Id": f"{event.id}-{i}"},
        )
    await nc.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def linked(engine: AsyncEngine, role_id: str) -> list[str]:
    """The role's rows in organization_role_resource_scope_relations (also those to scopes that are gone)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(links.c.scope_id).where(links.c.tenant_id == TENANT, links.c.organization_role_id == role_id)
        )
        return sorted(rows.scalars())


async def new_role(client: AsyncClient, auth: dict[str, str], scope_ids: list[str]) -> str:
    role = await created(
        client, auth, "/api/organization-roles", {"name": unique("role"), "resourceScopeIds": scope_ids}
    )
    role_id: str = role["id"]
    return role_id


async def delete_scope(engine: AsyncEngine, scope_id: str) -> Scope:
    """Deletes a management scope row, as management would before publishing Scope.Deleted."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                sa.delete(scopes).where(scopes.c.tenant_id == TENANT, scopes.c.id == scope_id).returning(scopes)
            )
        ).one()
    return Scope(
        tenant_id=row.tenant_id,
        id=row.id,
        resource_id=row.resource_id,
        name=row.name,
        description=row.description,
        created_at=int(row.created_at.timestamp() * 1000),
    )


async def delete_resource(engine: AsyncEngine, resource_id: str) -> Resource:
    """Deletes a management resource row (its scopes cascade), as management would before Resource.Deleted."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                sa.delete(resources)
                .where(resources.c.tenant_id == TENANT, resources.c.id == resource_id)
                .returning(resources)
            )
        ).one()
    return Resource(
        tenant_id=row.tenant_id,
        id=row.id,
        name=row.name,
        indicator=row.indicator,
        is_default=row.is_default,
        access_token_ttl=row.access_token_ttl,
    )


async def test_a_deleted_scope_is_unlinked_from_every_role_once(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, nats_url: str, subject_prefix: str
) -> None:
    resource_id = await make_resource(engine)
    gone, kept = await make_resource_scope(engine, resource_id), await make_resource_scope(engine, resource_id)
    first, second = await new_role(client, auth, [gone, kept]), await new_role(client, auth, [gone])

    await publish(nats_url, subject_prefix, ScopeDeleted(data=await delete_scope(engine, gone)), times=2)

    assert await eventually(lambda: _no_link(engine, second, gone))
    assert await eventually(lambda: _no_link(engine, first, gone))
    assert await linked(engine, first) == [kept]
    for role_id in (first, second):
        *_, update = await outbox_events(engine, "OrganizationRole.Scopes.Updated", role_id)
        assert update["removedResourceScopeIds"] == [gone] and update["addedResourceScopeIds"] == []
    await asyncio.sleep(0.3)  # the duplicate, if handled twice, would announce again
    removals = await outbox_events(engine, "OrganizationRole.Scopes.Updated", second)
    assert [u["removedResourceScopeIds"] for u in removals] == [[], [gone]]  # creation, then the removal once


async def test_a_deleted_resource_takes_its_scopes_links_with_it(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, nats_url: str, subject_prefix: str
) -> None:
    doomed, other = await make_resource(engine), await make_resource(engine)
    read, write = await make_resource_scope(engine, doomed), await make_resource_scope(engine, doomed)
    kept = await make_resource_scope(engine, other)
    role_id = await new_role(client, auth, [read, write, kept])

    await publish(nats_url, subject_prefix, ResourceDeleted(data=await delete_resource(engine, doomed)))

    assert await eventually(lambda: _links_are(engine, role_id, [kept]))
    *_, update = await outbox_events(engine, "OrganizationRole.Scopes.Updated", role_id)
    assert update["removedResourceScopeIds"] == sorted([read, write])
    listed = (await client.get(f"/api/organization-roles/{role_id}/resource-scopes", headers=auth)).json()
    assert [s["id"] for s in listed] == [kept]


async def test_an_unrelated_deletion_changes_no_link(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, nats_url: str, subject_prefix: str
) -> None:
    resource_id = await make_resource(engine)
    scope_id = await make_resource_scope(engine, resource_id)
    role_id = await new_role(client, auth, [scope_id])
    other = await make_resource_scope(engine, resource_id)
    await publish(nats_url, subject_prefix, ScopeDeleted(data=await delete_scope(engine, other)))
    marker = await make_resource_scope(engine, resource_id)  # a later deletion, to know the first was handled
    marker_role = await new_role(client, auth, [marker])
    await publish(nats_url, subject_prefix, ScopeDeleted(data=await delete_scope(engine, marker)))
    assert await eventually(lambda: _no_link(engine, marker_role, marker))
    assert await linked(engine, role_id) == [scope_id]
    assert len(await outbox_events(engine, "OrganizationRole.Scopes.Updated", role_id)) == 1  # its creation only


async def test_a_scope_being_linked_cannot_be_deleted_until_the_link_commits(engine: AsyncEngine) -> None:
    scope_id = await make_resource_scope(engine, await make_resource(engine))
    async with engine.connect() as linking:
        async with linking.begin():
            assert [s.id for s in await scopes_with_resources(linking, TENANT, [scope_id], lock=True)] == [scope_id]
            async with engine.connect() as deleting:
                await deleting.execute(sa.text("SET lock_timeout = '200ms'"))
                with pytest.raises(DBAPIError, match="lock timeout"):
                    await deleting.execute(
                        sa.delete(scopes).where(scopes.c.tenant_id == TENANT, scopes.c.id == scope_id)
                    )
                await deleting.rollback()
    await delete_scope(engine, scope_id)  # free again once the linking transaction ended


async def _no_link(engine: AsyncEngine, role_id: str, scope_id: str) -> bool:
    return scope_id not in await linked(engine, role_id)


async def _links_are(engine: AsyncEngine, role_id: str, expected: list[Any]) -> bool:
    return await linked(engine, role_id) == sorted(expected)
