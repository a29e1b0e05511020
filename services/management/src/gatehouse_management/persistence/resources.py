"""SQL for API resources and their scopes."""

from typing import Any

import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.resources import Resource, Scope
from gatehouse_schema.tables.management import resources, scopes
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_management.persistence.paging import fetch_page
from gatehouse_management.persistence.rows import epoch_ms


def to_resource(row: Any) -> Resource:
    return Resource(
        tenant_id=row.tenant_id,
        id=row.id,
        name=row.name,
        indicator=row.indicator,
        is_default=row.is_default,
        access_token_ttl=row.access_token_ttl,
    )


def to_scope(row: Any) -> Scope:
    return Scope(
        tenant_id=row.tenant_id,
        id=row.id,
        resource_id=row.resource_id,
        name=row.name,
        description=row.description,
        created_at=epoch_ms(row.created_at) or 0,
    )


def _search(column_names: tuple[str, ...], table: sa.Table, term: str | None) -> list[Any]:
    if not term:
        return []
    pattern = f"%{term.strip('%')}%"
    return [sa.or_(*(table.c[name].ilike(pattern) for name in column_names))]


class ResourceStore:
    async def insert(self, conn: AsyncConnection, values: dict[str, Any]) -> Resource:
        return to_resource((await conn.execute(sa.insert(resources).values(**values).returning(resources))).one())

    async def get(
        self, conn: AsyncConnection, tenant_id: str, resource_id: str, *, lock: bool = False
    ) -> Resource | None:
        query = sa.select(resources).where(resources.c.tenant_id == tenant_id, resources.c.id == resource_id)
        row = (await conn.execute(query.with_for_update() if lock else query)).one_or_none()
        return None if row is None else to_resource(row)

    async def indicator_taken(self, conn: AsyncConnection, tenant_id: str, indicator: str) -> bool:
        found = await conn.execute(
            sa.select(resources.c.id).where(resources.c.tenant_id == tenant_id, resources.c.indicator == indicator)
        )
        return found.first() is not None

    async def search(self, conn: AsyncConnection, tenant_id: str, page: Page | None) -> tuple[int, list[Resource]]:
        where = [resources.c.tenant_id == tenant_id]
        query = sa.select(resources).where(*where).order_by(resources.c.name, resources.c.id)
        return await fetch_page(conn, query, resources, where, page, to_resource)

    async def update(self, conn: AsyncConnection, tenant_id: str, resource_id: str, values: dict[str, Any]) -> Resource:
        row = (
            await conn.execute(
                sa.update(resources)
                .where(resources.c.tenant_id == tenant_id, resources.c.id == resource_id)
                .values(**values)
                .returning(resources)
            )
        ).one()
        return to_resource(row)

    async def clear_default(self, conn: AsyncConnection, tenant_id: str) -> None:
        await conn.execute(
            sa.update(resources)
            .where(resources.c.tenant_id == tenant_id, resources.c.is_default.is_(True))
            .values(is_default=False)
        )

    async def delete(self, conn: AsyncConnection, tenant_id: str, resource_id: str) -> None:
        await conn.execute(
            sa.delete(resources).where(resources.c.tenant_id == tenant_id, resources.c.id == resource_id)
        )


class ScopeStore:
    async def insert(self, conn: AsyncConnection, values: dict[str, Any]) -> Scope:
        return to_scope((await conn.execute(sa.insert(scopes).values(**values).returning(scopes))).one())

    async def get(self, conn: AsyncConnection, tenant_id: str, resource_id: str, scope_id: str) -> Scope | None:
        row = (
            await conn.execute(
                sa.select(scopes).where(
                    scopes.c.tenant_id == tenant_id, scopes.c.resource_id == resource_id, scopes.c.id == scope_id
                )
            )
        ).one_or_none()
        return None if row is None else to_scope(row)

    async def name_taken(
        self, conn: AsyncConnection, tenant_id: str, resource_id: str, name: str, except_id: str | None = None
    ) -> bool:
        query = sa.select(scopes.c.id).where(
            scopes.c.tenant_id == tenant_id, scopes.c.resource_id == resource_id, scopes.c.name == name
        )
        if except_id is not None:
            query = query.where(scopes.c.id != except_id)
        return (await conn.execute(query)).first() is not None

    async def search(
        self, conn: AsyncConnection, tenant_id: str, resource_ids: list[str], term: str | None, page: Page | None
    ) -> tuple[int, list[Scope]]:
        where = [scopes.c.tenant_id == tenant_id, scopes.c.resource_id.in_(resource_ids)]
        where += _search(("name", "description"), scopes, term)
        query = sa.select(scopes).where(*where).order_by(scopes.c.created_at, scopes.c.id)
        return await fetch_page(conn, query, scopes, where, page, to_scope)

    async def update(self, conn: AsyncConnection, tenant_id: str, scope_id: str, values: dict[str, Any]) -> Scope:
        row = (
            await conn.execute(
                sa.update(scopes)
                .where(scopes.c.tenant_id == tenant_id, scopes.c.id == scope_id)
                .values(**values)
                .returning(scopes)
            )
        ).one()
        return to_scope(row)

    async def delete(self, conn: AsyncConnection, tenant_id: str, scope_id: str) -> None:
        await conn.execute(sa.delete(scopes).where(scopes.c.tenant_id == tenant_id, scopes.c.id == scope_id))
