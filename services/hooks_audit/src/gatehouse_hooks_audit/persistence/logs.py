"""SQL over `audit.logs`."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.tables.audit import logs
from sqlalchemy.ext.asyncio import AsyncConnection


class Log(msgspec.Struct, rename="camel"):
    tenant_id: str
    id: str
    key: str
    payload: dict[str, Any]
    created_at: int


def _to_log(row: Any) -> Log:
    return Log(row.tenant_id, row.id, row.key, row.payload, int(row.created_at.timestamp() * 1000))


@dataclass(frozen=True)
class LogFilter:
    log_key: str | None = None
    user_id: str | None = None
    application_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None


class LogStore:
    async def insert(self, conn: AsyncConnection, values: dict[str, Any]) -> None:
        await conn.execute(sa.insert(logs).values(**values))

    async def get(self, conn: AsyncConnection, tenant_id: str, log_id: str) -> Log | None:
        row = (await conn.execute(sa.select(logs).where(logs.c.tenant_id == tenant_id, logs.c.id == log_id))).first()
        return None if row is None else _to_log(row)

    async def search(
        self, conn: AsyncConnection, tenant_id: str, where: LogFilter, page: Page
    ) -> tuple[int, list[Log]]:
        conditions: list[Any] = [logs.c.tenant_id == tenant_id]
        if where.log_key:
            conditions.append(logs.c.key == where.log_key)
        if where.user_id:
            conditions.append(logs.c.payload["userId"].astext == where.user_id)
        if where.application_id:
            conditions.append(logs.c.payload["applicationId"].astext == where.application_id)
        if where.start:
            conditions.append(logs.c.created_at >= where.start)
        if where.end:
            conditions.append(logs.c.created_at <= where.end)
        total = (await conn.execute(sa.select(sa.func.count()).select_from(logs).where(*conditions))).scalar_one()
        rows = await conn.execute(
            sa.select(logs)
            .where(*conditions)
            .order_by(logs.c.created_at.desc(), logs.c.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        return total, [_to_log(r) for r in rows]
