"""SQL for the tenant's connectors (Logto's `connectors`): instances of the shipped factories, by id."""

from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.management import connectors
from sqlalchemy.ext.asyncio import AsyncConnection

t = connectors


class ConnectorStore:
    async def lock(self, conn: AsyncConnection, tenant_id: str) -> None:
        """Holds the tenant's connectors until the transaction ends: a write checks the others (one instance of a
        non-standard factory, one connector per target and platform) before it writes."""
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("connectors:" + tenant_id))))

    async def all(self, conn: AsyncConnection, tenant_id: str) -> list[Any]:
        query = sa.select(t).where(t.c.tenant_id == tenant_id).order_by(t.c.created_at, t.c.id)
        return list(await conn.execute(query))

    async def get(self, conn: AsyncConnection, tenant_id: str, id: str) -> Any | None:
        return (await conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id, t.c.id == id))).one_or_none()

    async def insert(self, conn: AsyncConnection, tenant_id: str, values: dict[str, Any]) -> Any:
        return (await conn.execute(sa.insert(t).values(tenant_id=tenant_id, **values).returning(t))).one()

    async def update(self, conn: AsyncConnection, tenant_id: str, id: str, values: dict[str, Any]) -> Any:
        statement = sa.update(t).where(t.c.tenant_id == tenant_id, t.c.id == id).values(**values).returning(t)
        return (await conn.execute(statement)).one()

    async def delete(self, conn: AsyncConnection, tenant_id: str, id: str) -> Any | None:
        statement = sa.delete(t).where(t.c.tenant_id == tenant_id, t.c.id == id).returning(t)
        return (await conn.execute(statement)).one_or_none()
