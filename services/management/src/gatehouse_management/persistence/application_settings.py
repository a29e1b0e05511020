"""SQL for per-application settings: sign-in experience and access-control rules."""

from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.management import (
    application_access_controls,
    application_sign_in_experiences,
    applications,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection


class ApplicationSettingsStore:
    async def sign_in_experience(self, conn: AsyncConnection, tenant_id: str, app_id: str) -> Any | None:
        t = application_sign_in_experiences
        return (
            await conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id, t.c.application_id == app_id))
        ).one_or_none()

    async def upsert_sign_in_experience(self, conn: AsyncConnection, values: dict[str, Any]) -> Any:
        t = application_sign_in_experiences
        statement = insert(t).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[t.c.tenant_id, t.c.application_id],
            set_={k: statement.excluded[k] for k in values if k not in {"tenant_id", "application_id"}},
        )
        return (await conn.execute(statement.returning(t))).one()

    async def access_control(self, conn: AsyncConnection, tenant_id: str, app_id: str) -> dict[str, Any] | None:
        t = application_access_controls
        rules: dict[str, Any] | None = (
            await conn.execute(sa.select(t.c.rules).where(t.c.tenant_id == tenant_id, t.c.application_id == app_id))
        ).scalar_one_or_none()
        return rules

    async def replace_access_control(
        self, conn: AsyncConnection, tenant_id: str, app_id: str, rules: dict[str, Any]
    ) -> None:
        t = application_access_controls
        statement = insert(t).values(tenant_id=tenant_id, application_id=app_id, rules=rules)
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=[t.c.tenant_id, t.c.application_id], set_={"rules": statement.excluded.rules}
            )
        )

    async def merge_custom_data(
        self, conn: AsyncConnection, tenant_id: str, app_id: str, patch: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Top-level keys of `patch` replace the stored ones (jsonb `||`), in one statement."""
        merged: dict[str, Any] | None = (
            await conn.execute(
                sa.update(applications)
                .where(applications.c.tenant_id == tenant_id, applications.c.id == app_id)
                .values(
                    custom_data=applications.c.custom_data.op("||")(sa.cast(patch, applications.c.custom_data.type))
                )
                .returning(applications.c.custom_data)
            )
        ).scalar_one_or_none()
        return merged
