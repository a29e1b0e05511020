"""SQL for the tenant's captcha provider: at most one row per tenant."""

from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.management import captcha_providers
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

t = captcha_providers


class CaptchaProviderStore:
    async def get(self, conn: AsyncConnection, tenant_id: str) -> Any | None:
        return (await conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id))).one_or_none()

    async def upsert(self, conn: AsyncConnection, tenant_id: str, new_id: str, config: dict[str, Any]) -> Any:
        """Inserts with `new_id`, or replaces the config of the tenant's provider (which keeps its id)."""
        statement = insert(t).values(tenant_id=tenant_id, id=new_id, config=config)
        statement = statement.on_conflict_do_update(
            index_elements=[t.c.tenant_id], set_={"config": statement.excluded.config, "updated_at": sa.func.now()}
        )
        return (await conn.execute(statement.returning(t))).one()

    async def delete(self, conn: AsyncConnection, tenant_id: str) -> bool:
        result = await conn.execute(sa.delete(t).where(t.c.tenant_id == tenant_id))
        return bool(result.rowcount)
