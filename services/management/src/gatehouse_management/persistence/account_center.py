"""SQL for the tenant's account center: one row per tenant (Logto's `default`), written on its first PATCH."""

from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.management import account_centers
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

t = account_centers


class AccountCenterStore:
    async def get(self, conn: AsyncConnection, tenant_id: str) -> Any | None:
        return (await conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id))).one_or_none()

    async def lock(self, conn: AsyncConnection, tenant_id: str) -> Any:
        """The row, written with the column defaults (Logto's seeded account center) if the tenant has none yet,
        and held until the transaction ends."""
        await conn.execute(insert(t).values(tenant_id=tenant_id, id="default").on_conflict_do_nothing())
        return (await conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id).with_for_update())).one()

    async def update(self, conn: AsyncConnection, tenant_id: str, values: dict[str, Any]) -> Any:
        """Replaces the given columns whole (Logto's `jsonbMode: 'replace'`)."""
        statement = sa.update(t).where(t.c.tenant_id == tenant_id).values(**values).returning(t)
        return (await conn.execute(statement)).one()
