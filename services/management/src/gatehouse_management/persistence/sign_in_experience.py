"""SQL for the tenant's sign-in experience: one row per tenant, Logto's fields in one JSONB document."""

from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.management import sign_in_experiences
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

t = sign_in_experiences


class SignInExperienceStore:
    async def get(self, conn: AsyncConnection, tenant_id: str, *, lock: bool = False) -> dict[str, Any] | None:
        """The stored settings; `lock` holds the row until the transaction ends (writers of the settings and of
        the custom phrases the fallback language may rely on take it first, so they run one after the other)."""
        query = sa.select(t.c.settings).where(t.c.tenant_id == tenant_id)
        settings: dict[str, Any] | None = (
            await conn.execute(query.with_for_update() if lock else query)
        ).scalar_one_or_none()
        return settings

    async def replace_fields(self, conn: AsyncConnection, tenant_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Replaces these top-level fields whole (jsonb `||`), Logto's `jsonbMode: 'replace'`."""
        settings: dict[str, Any] = (
            await conn.execute(
                sa.update(t)
                .where(t.c.tenant_id == tenant_id)
                .values(settings=t.c.settings.op("||")(sa.cast(fields, t.c.settings.type)), updated_at=sa.func.now())
                .returning(t.c.settings)
            )
        ).scalar_one()
        return settings

    async def create_if_missing(self, conn: AsyncConnection, tenant_id: str, settings: dict[str, Any]) -> bool:
        """Writes the tenant's first settings; an existing row is left as it is. True when written."""
        result = await conn.execute(
            insert(t).values(tenant_id=tenant_id, id="default", settings=settings).on_conflict_do_nothing()
        )
        return bool(result.rowcount)
