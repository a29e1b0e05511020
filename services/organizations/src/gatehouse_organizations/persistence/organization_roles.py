"""SQL for the organization template's roles and their links to organization scopes and API resource scopes."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.organization_template import OrganizationRole, OrganizationScope, OrganizationScopeBrief
from gatehouse_schema.tables.organizations import (
    organization_role_resource_scope_relations,
    organization_role_scope_relations,
    organization_roles,
    organization_scopes,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_organizations.persistence.organization_scopes import contains, to_scope

roles = organization_roles
SEARCH_FIELDS = ("id", "name", "description")


def to_role(row: Any) -> OrganizationRole:
    return OrganizationRole(
        tenant_id=row.tenant_id, id=row.id, name=row.name, description=row.description, type=row.type
    )


@dataclass(frozen=True)
class RoleLinks:
    """One of a role's link tables: `target` names the linked scope's column."""

    table: sa.Table
    target: str

    @property
    def role_column(self) -> sa.Column[Any]:
        return self.table.c.organization_role_id

    @property
    def target_column(self) -> sa.Column[Any]:
        return self.table.c[self.target]


SCOPE_LINKS = RoleLinks(organization_role_scope_relations, "organization_scope_id")
#: API resource scopes: management.scopes ids, no foreign key (see gatehouse_schema.tables.organizations)
RESOURCE_SCOPE_LINKS = RoleLinks(organization_role_resource_scope_relations, "scope_id")


class OrganizationRoleStore:
    async def insert(self, conn: AsyncConnection, values: dict[str, Any]) -> OrganizationRole | None:
        """The new role, or None when the tenant already has a role of that name."""
        query = (
            pg_insert(roles)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[roles.c.tenant_id, roles.c.name])
            .returning(roles)
        )
        row = (await conn.execute(query)).one_or_none()
        return None if row is None else to_role(row)

    async def get(
        self, conn: AsyncConnection, tenant_id: str, role_id: str, *, lock: bool = False
    ) -> OrganizationRole | None:
        query = sa.select(roles).where(roles.c.tenant_id == tenant_id, roles.c.id == role_id)
        row = (await conn.execute(query.with_for_update() if lock else query)).one_or_none()
        return None if row is None else to_role(row)

    async def name_taken(self, conn: AsyncConnection, tenant_id: str, name: str, except_id: str) -> bool:
        query = sa.select(roles.c.id).where(
            roles.c.tenant_id == tenant_id, roles.c.name == name, roles.c.id != except_id
        )
        return (await conn.execute(query)).first() is not None

    async def search(
        self, conn: AsyncConnection, tenant_id: str, term: str | None, page: Page
    ) -> tuple[int, list[OrganizationRole]]:
        """Ordered by name, as Logto lists them; `term` matches the id, name or description."""
        where: list[Any] = [roles.c.tenant_id == tenant_id]
        if term:
            pattern = contains(term)
            where.append(sa.or_(*(roles.c[f].ilike(pattern, escape="\\") for f in SEARCH_FIELDS)))
        total = (await conn.execute(sa.select(sa.func.count()).select_from(roles).where(*where))).scalar_one()
        query = sa.select(roles).where(*where).order_by(roles.c.name, roles.c.id).limit(page.limit).offset(page.offset)
        return total, [to_role(r) for r in await conn.execute(query)]

    async def update(
        self, conn: AsyncConnection, tenant_id: str, role_id: str, values: dict[str, Any]
    ) -> OrganizationRole:
        query = (
            sa.update(roles)
            .where(roles.c.tenant_id == tenant_id, roles.c.id == role_id)
            .values(**values)
            .returning(roles)
        )
        return to_role((await conn.execute(query)).one())

    async def delete(self, conn: AsyncConnection, tenant_id: str, role_id: str) -> None:
        await conn.execute(sa.delete(roles).where(roles.c.tenant_id == tenant_id, roles.c.id == role_id))

    # a role's links (either table)

    async def linked(self, conn: AsyncConnection, links: RoleLinks, tenant_id: str, role_id: str) -> list[str]:
        rows = await conn.execute(
            sa.select(links.target_column).where(links.table.c.tenant_id == tenant_id, links.role_column == role_id)
        )
        return list(rows.scalars())

    async def links_of_roles(
        self, conn: AsyncConnection, links: RoleLinks, tenant_id: str, role_ids: Sequence[str]
    ) -> dict[str, list[str]]:
        """role id -> its linked ids, for the given roles."""
        if not role_ids:
            return {}
        rows = await conn.execute(
            sa.select(links.role_column, links.target_column).where(
                links.table.c.tenant_id == tenant_id, links.role_column.in_(list(role_ids))
            )
        )
        out: dict[str, list[str]] = {}
        for role_id, target in rows:
            out.setdefault(role_id, []).append(target)
        return out

    async def link(
        self, conn: AsyncConnection, links: RoleLinks, tenant_id: str, role_id: str, ids: Sequence[str]
    ) -> list[str]:
        """Links the ids not linked yet (existing links are kept, as Logto does); returns those it added."""
        if not ids:
            return []
        query = (
            pg_insert(links.table)
            .values([{"tenant_id": tenant_id, "organization_role_id": role_id, links.target: i} for i in ids])
            .on_conflict_do_nothing()
            .returning(links.target_column)
        )
        return list((await conn.execute(query)).scalars())

    async def unlink(
        self, conn: AsyncConnection, links: RoleLinks, tenant_id: str, role_id: str, keep: Sequence[str] = ()
    ) -> list[str]:
        """Removes the role's links except those to `keep`; returns the ids it unlinked."""
        query = sa.delete(links.table).where(links.table.c.tenant_id == tenant_id, links.role_column == role_id)
        if keep:
            query = query.where(links.target_column.not_in(list(keep)))
        return list((await conn.execute(query.returning(links.target_column))).scalars())

    async def unlink_one(
        self, conn: AsyncConnection, links: RoleLinks, tenant_id: str, role_id: str, target_id: str
    ) -> bool:
        result = await conn.execute(
            sa.delete(links.table).where(
                links.table.c.tenant_id == tenant_id, links.role_column == role_id, links.target_column == target_id
            )
        )
        return bool(result.rowcount)

    # organization scopes of roles

    async def scopes_page(
        self, conn: AsyncConnection, tenant_id: str, role_id: str, page: Page
    ) -> tuple[int, list[OrganizationScope]]:
        joined, where = self._role_scopes(tenant_id, [role_id])
        total = (await conn.execute(sa.select(sa.func.count()).select_from(joined).where(*where))).scalar_one()
        query = (
            sa.select(organization_scopes)
            .select_from(joined)
            .where(*where)
            .order_by(organization_scopes.c.name, organization_scopes.c.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return total, [to_scope(r) for r in await conn.execute(query)]

    async def scope_briefs(
        self, conn: AsyncConnection, tenant_id: str, role_ids: Sequence[str]
    ) -> dict[str, list[OrganizationScopeBrief]]:
        """role id -> its organization scopes (id and name) by name, for the given roles."""
        if not role_ids:
            return {}
        joined, where = self._role_scopes(tenant_id, role_ids)
        query = (
            sa.select(SCOPE_LINKS.role_column, organization_scopes.c.id, organization_scopes.c.name)
            .select_from(joined)
            .where(*where)
            .order_by(organization_scopes.c.name, organization_scopes.c.id)
        )
        out: dict[str, list[OrganizationScopeBrief]] = {}
        for row in await conn.execute(query):
            out.setdefault(row.organization_role_id, []).append(OrganizationScopeBrief(id=row.id, name=row.name))
        return out

    @staticmethod
    def _role_scopes(tenant_id: str, role_ids: Sequence[str]) -> tuple[sa.Join, list[Any]]:
        rel = organization_role_scope_relations
        joined = rel.join(
            organization_scopes,
            sa.and_(
                organization_scopes.c.tenant_id == rel.c.tenant_id,
                organization_scopes.c.id == rel.c.organization_scope_id,
            ),
        )
        return joined, [rel.c.tenant_id == tenant_id, rel.c.organization_role_id.in_(list(role_ids))]

    # API resource scopes that management deleted

    async def unlink_resource_scopes(
        self, conn: AsyncConnection, tenant_id: str, scope_ids: Sequence[str]
    ) -> dict[str, list[str]]:
        """Removes every role's links to these resource scopes; returns role id -> the scope ids it lost."""
        if not scope_ids:
            return {}
        rel = RESOURCE_SCOPE_LINKS
        rows = await conn.execute(
            sa.delete(rel.table)
            .where(rel.table.c.tenant_id == tenant_id, rel.target_column.in_(list(scope_ids)))
            .returning(rel.role_column, rel.target_column)
        )
        out: dict[str, list[str]] = {}
        for role_id, scope_id in rows:
            out.setdefault(role_id, []).append(scope_id)
        return out

    async def linked_resource_scope_ids(self, conn: AsyncConnection, tenant_id: str) -> list[str]:
        """Every resource scope id some role of the tenant links to."""
        rel = RESOURCE_SCOPE_LINKS
        rows = await conn.execute(sa.select(rel.target_column).distinct().where(rel.table.c.tenant_id == tenant_id))
        return list(rows.scalars())
