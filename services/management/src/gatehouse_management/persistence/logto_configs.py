"""SQL for the tenant's settings stored by key (Logto's `logto_configs`)."""

from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.management import logto_configs
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

t = logto_configs

ADMIN_CONSOLE = "adminConsole"


class LogtoConfigStore:
    async def get(self, conn: AsyncConnection, tenant_id: str, key: str, *, lock: bool = False) -> Any | None:
        query = sa.select(t.c.value).where(t.c.tenant_id == tenant_id, t.c.key == key)
        if lock:
            query = query.with_for_update()
        return (await conn.execute(query)).scalar_one_or_none()

    async def put(self, conn: AsyncConnection, tenant_id: str, key: str, value: Any) -> None:
        statement = insert(t).values(tenant_id=tenant_id, key=key, value=value)
        statement = statement.on_conflict_do_update(index_elements=[t.c.tenant_id, t.c.key], set_={"value": value})
        await conn.execute(statement)

    async def create_if_missing(self, conn: AsyncConnection, tenant_id: str, key: str, value: Any) -> None:
        await conn.execute(insert(t).values(tenant_id=tenant_id, key=key, value=value).on_conflict_do_nothing())
