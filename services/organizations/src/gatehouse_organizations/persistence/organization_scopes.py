"""SQL for the organization template's scopes."""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.organization_template import OrganizationScope
from gatehouse_schema.tables.organizations import organization_scopes as scopes
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection


def to_scope(row: Any) -> OrganizationScope:
    return OrganizationScope(tenant_id=row.tenant_id, id=row.id, name=row.name, description=row.description)


def contains(term: str) -> str:
    """Logto's search keyword as an ILIKE pattern: a case-insensitive substring."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class OrganizationScopeStore:
    async def insert(self, conn: AsyncConnection, values: dict[str, Any]) -> OrganizationScope | None:
        """The new scope, or None when the tenant already has a scope of that name."""
        query = (
            pg_insert(scopes)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[scopes.c.tenant_id, scopes.c.name])
            .returning(scopes)
        )
        row = (await conn.execute(query)).one_or_none()
        return None if row is None else to_scope(row)

    async def get(
        self, conn: AsyncConnection, tenant_id: str, scope_id: str, *, lock: bool = False
    ) -> OrganizationScope | None:
        query = sa.select(scopes).where(scopes.c.tenant_id == tenant_id, scopes.c.id == scope_id)
        row = (await conn.execute(query.with_for_update() if lock else query)).one_or_none()
        return None if row is None else to_scope(row)

    async def name_taken(self, conn: AsyncConnection, tenant_id: str, name: str, except_id: str) -> bool:
        query = sa.select(scopes.c.id).where(
            scopes.c.tenant_id == tenant_id, scopes.c.name == name, scopes.c.id != except_id
        )
        return (await conn.execute(query)).first() is not None

    async def existing_ids(self, conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        rows = await conn.execute(
            sa.select(scopes.c.id).where(scopes.c.tenant_id == tenant_id, scopes.c.id.in_(list(ids)))
        )
        return set(rows.scalars())

    async def search(
        self, conn: AsyncConnection, tenant_id: str, term: str | None, page: Page | None
    ) -> tuple[int, list[OrganizationScope]]:
        """Ordered by name, as Logto lists them; `term` matches the name."""
        where: list[Any] = [scopes.c.tenant_id == tenant_id]
        if term:
            where.append(scopes.c.name.ilike(contains(term), escape="\\"))
        query = sa.select(scopes).where(*where).order_by(scopes.c.name, scopes.c.id)
        if page is None:
            items = [to_scope(r) for r in await conn.execute(query)]
            return len(items), items
        total = (await conn.execute(sa.select(sa.func.count()).select_from(scopes).where(*where))).scalar_one()
        rows = await conn.execute(query.limit(page.limit).offset(page.offset))
        return total, [to_scope(r) for r in rows]

    async def update(
        self, conn: AsyncConnection, tenant_id: str, scope_id: str, values: dict[str, Any]
    ) -> OrganizationScope:
        query = (
            sa.update(scopes)
            .where(scopes.c.tenant_id == tenant_id, scopes.c.id == scope_id)
            .values(**values)
            .returning(scopes)
        )
        return to_scope((await conn.execute(query)).one())

    async def delete(self, conn: AsyncConnection, tenant_id: str, scope_id: str) -> None:
        await conn.execute(sa.delete(scopes).where(scopes.c.tenant_id == tenant_id, scopes.c.id == scope_id))
