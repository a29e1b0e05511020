"""Helpers of the organization template tests: management-owned API resource scopes written as management would,
and the events the organizations service recorded in its outbox."""

import uuid
from typing import Any

import msgspec
import sqlalchemy as sa
from gatehouse_schema.events import CloudEvent
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables.management import resources, scopes
from gatehouse_schema.tables.organizations import outbox
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

TENANT = "default"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


async def created(client: AsyncClient, auth: dict[str, str], url: str, body: Any) -> dict[str, Any]:
    response = await client.post(url, json=body, headers=auth)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def make_resource(engine: AsyncEngine, name: str = "API") -> str:
    """A management API resource row, as management would write it."""
    resource_id = generate_id()
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(resources).values(
                tenant_id=TENANT,
                id=resource_id,
                name=name,
                indicator=f"https://{uuid.uuid4().hex}.example",
                is_default=False,
                access_token_ttl=3600,
            )
        )
    return resource_id


async def make_resource_scope(engine: AsyncEngine, resource_id: str, name: str | None = None) -> str:
    scope_id = generate_id()
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(scopes).values(
                tenant_id=TENANT, id=scope_id, resource_id=resource_id, name=name or unique("read"), description="d"
            )
        )
    return scope_id


async def outbox_events(engine: AsyncEngine, event_type: str, entity_id: str) -> list[dict[str, Any]]:
    """The `data` of the events of this type about this entity in organizations' outbox, oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.payload)
            .where(outbox.c.subject.like(f"%.{TENANT}.organizations.{event_type}"))
            .order_by(outbox.c.created_at, outbox.c.id)
        )
        events = [msgspec.json.decode(r.payload, type=CloudEvent) for r in rows]
    found: list[dict[str, Any]] = [e.decode_data(dict) for e in events if e.subject == entity_id]
    return found
