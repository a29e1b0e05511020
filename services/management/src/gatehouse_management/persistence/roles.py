"""SQL for roles and the role-scope links."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.roles import Role, ScopeWithResource
from gatehouse_schema.tables.management import applications_roles, resources, roles, roles_scopes, scopes, users_roles
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_management.persistence.paging import fetch_page
from gatehouse_management.persistence.resources import to_resource, to_scope


def to_role(row: Any) -> Role:
    return Role(
        tenant_id=row.tenant_id,
        id=row.id,
        name=row.name,
        description=row.description,
        type=row.type,
        is_default=row.is_default,
    )


@dataclass(frozen=True)
class RoleFilter:
    type: str | None = None
    exclude_user_id: str | None = None
    exclude_application_id: str | None = None
    search: str | None = None
    only_ids: Sequence[str] | None = None


def _filter(tenant_id: str, where: RoleFilter) -> list[Any]:
    conditions: list[Any] = [roles.c.tenant_id == tenant_id]
    if where.type:
        conditions.append(roles.c.type == where.type)
    if where.exclude_user_id:
        conditions.append(
            ~sa.exists().where(
                users_roles.c.tenant_id == roles.c.tenant_id,
                users_roles.c.role_id == roles.c.id,
                users_roles.c.user_id == where.exclude_user_id,
            )
        )
    if where.exclude_application_id:
        conditions.append(
            ~sa.exists().where(
                applications_roles.c.tenant_id == roles.c.tenant_id,
                applications_roles.c.role_id == roles.c.id,
                applications_roles.c.application_id == where.exclude_application_id,
            )
        )
    if where.search:
        pattern = f"%{where.search.strip('%')}%"
        conditions.append(
            sa.or_(roles.c.id.ilike(pattern), roles.c.name.ilike(pattern), roles.c.description.ilike(pattern))
        )
    if where.only_ids is not None:
        conditions.append(roles.c.id.in_(list(where.only_ids)))
    return conditions


class RoleStore:
    async def insert(self, conn: AsyncConnection, values: dict[str, Any]) -> Role:
        return to_role((await conn.execute(sa.insert(roles).values(**values).returning(roles))).one())

    async def get(self, conn: AsyncConnection, tenant_id: str, role_id: str, *, lock: bool = False) -> Role | None:
        query = sa.select(roles).where(roles.c.tenant_id == tenant_id, roles.c.id == role_id)
        row = (await conn.execute(query.with_for_update() if lock else query)).one_or_none()
        return None if row is None else to_role(row)

    async def get_many(self, conn: AsyncConnection, tenant_id: str, role_ids: Sequence[str]) -> dict[str, Role]:
        rows = await conn.execute(
            sa.select(roles).where(roles.c.tenant_id == tenant_id, roles.c.id.in_(list(role_ids)))
        )
        return {r.id: to_role(r) for r in rows}

    async def name_taken(self, conn: AsyncConnection, tenant_id: str, name: str, except_id: str | None = None) -> bool:
        query = sa.select(roles.c.id).where(roles.c.tenant_id == tenant_id, roles.c.name == name)
        if except_id is not None:
            query = query.where(roles.c.id != except_id)
        return (await conn.execute(query)).first() is not None

    async def search(
        self, conn: AsyncConnection, tenant_id: str, where: RoleFilter, page: Page | None
    ) -> tuple[int, list[Role]]:
        conditions = _filter(tenant_id, where)
        query = sa.select(roles).where(*conditions).order_by(roles.c.created_at.desc(), roles.c.id)
        return await fetch_page(conn, query, roles, conditions, page, to_role)

    async def default_role_ids(self, conn: AsyncConnection, tenant_id: str) -> list[str]:
        rows = await conn.execute(
            sa.select(roles.c.id).where(
                roles.c.tenant_id == tenant_id, roles.c.is_default.is_(True), roles.c.type == "User"
            )
        )
        return list(rows.scalars())

    async def update(self, conn: AsyncConnection, tenant_id: str, role_id: str, values: dict[str, Any]) -> Role:
        row = (
            await conn.execute(
                sa.update(roles)
                .where(roles.c.tenant_id == tenant_id, roles.c.id == role_id)
                .values(**values)
                .returning(roles)
            )
        ).one()
        return to_role(row)

    async def delete(self, conn: AsyncConnection, tenant_id: str, role_id: str) -> None:
        await conn.execute(sa.delete(roles).where(roles.c.tenant_id == tenant_id, roles.c.id == role_id))

    # role <-> scope

    async def scope_ids(self, conn: AsyncConnection, tenant_id: str, role_id: str) -> set[str]:
        rows = await conn.execute(
            sa.select(roles_scopes.c.scope_id).where(
                roles_scopes.c.tenant_id == tenant_id, roles_scopes.c.role_id == role_id
            )
        )
        return set(rows.scalars())

    async def existing_scopes(self, conn: AsyncConnection, tenant_id: str, scope_ids: Sequence[str]) -> dict[str, str]:
        """scope id -> its resource's indicator, for the ids that exist."""
        rows = await conn.execute(
            sa.select(scopes.c.id, resources.c.indicator)
            .join(
                resources, sa.and_(resources.c.tenant_id == scopes.c.tenant_id, resources.c.id == scopes.c.resource_id)
            )
            .where(scopes.c.tenant_id == tenant_id, scopes.c.id.in_(list(scope_ids)))
        )
        return {r.id: r.indicator for r in rows}

    async def link_scopes(self, conn: AsyncConnection, tenant_id: str, role_id: str, scope_ids: Sequence[str]) -> None:
        if scope_ids:
            await conn.execute(
                sa.insert(roles_scopes),
                [{"tenant_id": tenant_id, "role_id": role_id, "scope_id": s} for s in scope_ids],
            )

    async def unlink_scope(self, conn: AsyncConnection, tenant_id: str, role_id: str, scope_id: str) -> bool:
        result = await conn.execute(
            sa.delete(roles_scopes).where(
                roles_scopes.c.tenant_id == tenant_id,
                roles_scopes.c.role_id == role_id,
                roles_scopes.c.scope_id == scope_id,
            )
        )
        return bool(result.rowcount)

    async def scopes_page(
        self, conn: AsyncConnection, tenant_id: str, role_id: str, term: str | None, page: Page | None
    ) -> tuple[int, list[ScopeWithResource]]:
        joined = roles_scopes.join(
            scopes, sa.and_(scopes.c.tenant_id == roles_scopes.c.tenant_id, scopes.c.id == roles_scopes.c.scope_id)
        ).join(resources, sa.and_(resources.c.tenant_id == scopes.c.tenant_id, resources.c.id == scopes.c.resource_id))
        where: list[Any] = [roles_scopes.c.tenant_id == tenant_id, roles_scopes.c.role_id == role_id]
        if term:
            pattern = f"%{term.strip('%')}%"
            where.append(sa.or_(scopes.c.name.ilike(pattern), scopes.c.description.ilike(pattern)))
        total = (await conn.execute(sa.select(sa.func.count()).select_from(joined).where(*where))).scalar_one()
        query = (
            sa.select(scopes, *[c.label(f"r_{c.name}") for c in resources.c])
            .select_from(joined)
            .where(*where)
            .order_by(scopes.c.created_at, scopes.c.id)
        )
        if page is not None:
            query = query.limit(page.limit).offset(page.offset)
        items = []
        for row in await conn.execute(query):
            scope = to_scope(row)
            resource = to_resource(_Prefixed(row, "r_"))
            items.append(
                ScopeWithResource(**{f: getattr(scope, f) for f in scope.__struct_fields__}, resource=resource)
            )
        return total, items


class _Prefixed:
    """Reads `r_<name>` columns of a joined row as `<name>`."""

    def __init__(self, row: Any, prefix: str) -> None:
        self._row = row
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)
