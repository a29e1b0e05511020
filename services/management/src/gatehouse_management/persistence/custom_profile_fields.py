"""SQL for custom profile fields: a catalog per tenant, unique by name, shown in `sie_order`."""

from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.management import custom_profile_fields
from sqlalchemy.ext.asyncio import AsyncConnection

t = custom_profile_fields


class CustomProfileFieldStore:
    async def catalog(self, conn: AsyncConnection, tenant_id: str) -> list[Any]:
        query = sa.select(t).where(t.c.tenant_id == tenant_id).order_by(t.c.sie_order, t.c.created_at, t.c.id)
        return list(await conn.execute(query))

    async def get(self, conn: AsyncConnection, tenant_id: str, name: str) -> Any | None:
        return (await conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id, t.c.name == name))).one_or_none()

    async def existing_names(self, conn: AsyncConnection, tenant_id: str, names: list[str]) -> set[str]:
        query = sa.select(t.c.name).where(t.c.tenant_id == tenant_id, t.c.name.in_(names))
        return set((await conn.execute(query)).scalars())

    async def insert(self, conn: AsyncConnection, tenant_id: str, rows: list[dict[str, Any]]) -> list[Any]:
        """Appends the fields after the tenant's last one (Logto's `increment_sie_order` trigger: max + 1, in
        order). A transaction-scoped lock per tenant keeps concurrent creations from taking the same order."""
        await conn.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("custom_profile_fields:" + tenant_id)))
        )
        last = (
            await conn.execute(
                sa.select(sa.func.coalesce(sa.func.max(t.c.sie_order), 0)).where(t.c.tenant_id == tenant_id)
            )
        ).scalar_one()
        values = [{**row, "tenant_id": tenant_id, "sie_order": last + i} for i, row in enumerate(rows, start=1)]
        inserted = list(await conn.execute(sa.insert(t).values(values).returning(t)))
        return sorted(inserted, key=lambda row: row.sie_order)

    async def update(self, conn: AsyncConnection, tenant_id: str, name: str, values: dict[str, Any]) -> Any | None:
        statement = sa.update(t).where(t.c.tenant_id == tenant_id, t.c.name == name).values(**values).returning(t)
        return (await conn.execute(statement)).one_or_none()

    async def set_sie_orders(self, conn: AsyncConnection, tenant_id: str, orders: dict[str, int]) -> list[Any]:
        """Sets each named field's order; the updated fields, by their new order."""
        order = sa.case(orders, value=t.c.name)
        statement = (
            sa.update(t)
            .where(t.c.tenant_id == tenant_id, t.c.name.in_(list(orders)))
            .values(sie_order=order)
            .returning(t)
        )
        return sorted(await conn.execute(statement), key=lambda row: (row.sie_order, row.created_at, row.id))

    async def delete(self, conn: AsyncConnection, tenant_id: str, name: str) -> bool:
        result = await conn.execute(sa.delete(t).where(t.c.tenant_id == tenant_id, t.c.name == name))
        return bool(result.rowcount)
