"""SQL over `audit.hooks`, and the reads of a hook's execution logs in `audit.logs`."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.tables.audit import hooks, logs
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_hooks_audit.api.hook_bodies import ExecutionStats, Hook, HookLog
from gatehouse_hooks_audit.hook_events import LOG_KEY_PREFIX

_ORDER = (hooks.c.created_at, hooks.c.id)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def to_hook(row: Any) -> Hook:
    return Hook(
        tenant_id=row.tenant_id,
        id=row.id,
        name=row.name,
        event=row.event,
        events=list(row.events),
        config=row.config,
        signing_key=row.signing_key,
        enabled=row.enabled,
        created_at=_ms(row.created_at),
    )


@dataclass(frozen=True)
class HookLogFilter:
    hook_id: str
    log_key: str | None
    start_exclusive: datetime | None
    start: datetime | None
    end: datetime | None


class HookStore:
    async def insert(self, conn: AsyncConnection, values: dict[str, Any]) -> Hook:
        row = (await conn.execute(sa.insert(hooks).values(**values).returning(*hooks.c))).one()
        return to_hook(row)

    async def get(self, conn: AsyncConnection, tenant_id: str, hook_id: str, *, lock: bool = False) -> Hook | None:
        query = sa.select(hooks).where(hooks.c.tenant_id == tenant_id, hooks.c.id == hook_id)
        if lock:
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        return None if row is None else to_hook(row)

    async def update(self, conn: AsyncConnection, tenant_id: str, hook_id: str, values: dict[str, Any]) -> Hook | None:
        row = (
            await conn.execute(
                sa.update(hooks)
                .where(hooks.c.tenant_id == tenant_id, hooks.c.id == hook_id)
                .values(**values, updated_at=sa.func.now())
                .returning(*hooks.c)
            )
        ).first()
        return None if row is None else to_hook(row)

    async def delete(self, conn: AsyncConnection, tenant_id: str, hook_id: str) -> bool:
        result = await conn.execute(sa.delete(hooks).where(hooks.c.tenant_id == tenant_id, hooks.c.id == hook_id))
        return bool(result.rowcount)

    async def search(self, conn: AsyncConnection, tenant_id: str, page: Page | None) -> tuple[int, list[Hook]]:
        query = sa.select(hooks).where(hooks.c.tenant_id == tenant_id).order_by(*_ORDER)
        if page is not None:
            query = query.limit(page.limit).offset(page.offset)
        items = [to_hook(r) for r in await conn.execute(query)]
        if page is None:
            return len(items), items
        count = sa.select(sa.func.count()).select_from(hooks).where(hooks.c.tenant_id == tenant_id)
        return int((await conn.execute(count)).scalar_one()), items

    async def enabled_hooks(self, conn: AsyncConnection, tenant_id: str) -> list[Hook]:
        query = sa.select(hooks).where(hooks.c.tenant_id == tenant_id, hooks.c.enabled).order_by(*_ORDER)
        return [to_hook(r) for r in await conn.execute(query)]

    async def execution_stats(
        self, conn: AsyncConnection, tenant_id: str, hook_ids: list[str], since: datetime
    ) -> dict[str, ExecutionStats]:
        """Logto's stats: the hook's logs after `since` (24 hours ago), and those whose result is Success."""
        if not hook_ids:
            return {}
        hook_id = logs.c.payload["hookId"].astext
        query = (
            sa.select(
                hook_id.label("hook_id"),
                sa.func.count().label("requests"),
                sa.func.count().filter(logs.c.payload["result"].astext == "Success").label("successes"),
            )
            .where(logs.c.tenant_id == tenant_id, hook_id.in_(hook_ids), logs.c.created_at > since)
            .group_by(hook_id)
        )
        found = {r.hook_id: ExecutionStats(int(r.successes), int(r.requests)) for r in await conn.execute(query)}
        return {i: found.get(i, ExecutionStats(0, 0)) for i in hook_ids}

    async def recent_logs(
        self, conn: AsyncConnection, tenant_id: str, where: HookLogFilter, page: Page
    ) -> tuple[int, list[HookLog]]:
        conditions: list[Any] = [
            logs.c.tenant_id == tenant_id,
            logs.c.payload["hookId"].astext == where.hook_id,
            logs.c.key.startswith(LOG_KEY_PREFIX, autoescape=True),
        ]
        if where.log_key:
            conditions.append(logs.c.key == where.log_key)
        if where.start_exclusive is not None:
            conditions.append(logs.c.created_at > where.start_exclusive)
        if where.start is not None:
            conditions.append(logs.c.created_at >= where.start)
        if where.end is not None:
            conditions.append(logs.c.created_at <= where.end)
        total = (await conn.execute(sa.select(sa.func.count()).select_from(logs).where(*conditions))).scalar_one()
        rows = await conn.execute(
            sa.select(logs.c.id, logs.c.key, logs.c.payload, logs.c.created_at)
            .where(*conditions)
            .order_by(logs.c.created_at.desc(), logs.c.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        return int(total), [HookLog(r.id, r.key, r.payload, _ms(r.created_at)) for r in rows]
