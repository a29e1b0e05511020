"""SQL for an application's named secrets and its legacy secret."""

from datetime import datetime

import sqlalchemy as sa
from gatehouse_schema.tables.management import application_secrets, applications
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_management.persistence.applications import SecretRow
from gatehouse_management.persistence.rows import epoch_ms

_t = application_secrets


def _row(r: sa.Row[tuple[object, ...]]) -> SecretRow:
    return SecretRow(
        r.tenant_id, r.application_id, r.name, r.value, epoch_ms(r.created_at) or 0, epoch_ms(r.expires_at)
    )


class SecretStore:
    def _key(self, tenant_id: str, app_id: str, name: str) -> list[sa.ColumnElement[bool]]:
        return [_t.c.tenant_id == tenant_id, _t.c.application_id == app_id, _t.c.name == name]

    async def insert(
        self, conn: AsyncConnection, tenant_id: str, app_id: str, name: str, value: str, expires_at: datetime | None
    ) -> SecretRow:
        row = (
            await conn.execute(
                sa.insert(_t)
                .values(tenant_id=tenant_id, application_id=app_id, name=name, value=value, expires_at=expires_at)
                .returning(_t)
            )
        ).one()
        return _row(row)

    async def exists(self, conn: AsyncConnection, tenant_id: str, app_id: str, name: str) -> bool:
        return (await conn.execute(sa.select(_t.c.name).where(*self._key(tenant_id, app_id, name)))).first() is not None

    async def rename(
        self, conn: AsyncConnection, tenant_id: str, app_id: str, name: str, new_name: str
    ) -> SecretRow | None:
        row = (
            await conn.execute(
                sa.update(_t).where(*self._key(tenant_id, app_id, name)).values(name=new_name).returning(_t)
            )
        ).one_or_none()
        return None if row is None else _row(row)

    async def delete(self, conn: AsyncConnection, tenant_id: str, app_id: str, name: str) -> bool:
        result = await conn.execute(sa.delete(_t).where(*self._key(tenant_id, app_id, name)))
        return bool(result.rowcount)

    async def has_legacy_secret(self, conn: AsyncConnection, tenant_id: str, app_id: str) -> bool:
        value = (
            await conn.execute(
                sa.select(applications.c.secret).where(
                    applications.c.tenant_id == tenant_id, applications.c.id == app_id
                )
            )
        ).scalar_one_or_none()
        return bool(value)

    async def clear_legacy_secret(self, conn: AsyncConnection, tenant_id: str, app_id: str) -> None:
        await conn.execute(
            sa.update(applications)
            .where(applications.c.tenant_id == tenant_id, applications.c.id == app_id)
            .values(secret=None)
        )
