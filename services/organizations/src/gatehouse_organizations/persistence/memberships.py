"""SQL for an organization's members (users and applications) and the organization roles they hold there.

Users live in identity's schema and applications in management's: their rows are read only through the
schema library's query functions, and the link tables carry no foreign key to them (the service checks the
ids in the writing transaction, and the `member_cleanup` consumers drop the links of deleted ones). A
member's role links reference its membership row, so removing a membership removes its roles.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.organization_template import OrganizationRole, OrganizationScope
from gatehouse_schema.api.organizations import (
    ApplicationWithOrganizationRoles,
    OrganizationRoleBrief,
    UserWithOrganizationRoles,
)
from gatehouse_schema.queries import identity as identity_reads
from gatehouse_schema.queries import management as management_reads
from gatehouse_schema.tables.organizations import (
    organization_application_relations,
    organization_role_application_relations,
    organization_role_scope_relations,
    organization_role_user_relations,
    organization_roles,
    organization_scopes,
    organization_user_relations,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class Side:
    """One kind of member: its membership table, its role-link table and the member id column of both."""

    members: sa.Table
    role_links: sa.Table
    column: str
    role_type: str

    def member(self, table: sa.Table) -> sa.ColumnElement[Any]:
        return table.c[self.column]


USERS = Side(organization_user_relations, organization_role_user_relations, "user_id", "User")
APPLICATIONS = Side(
    organization_application_relations, organization_role_application_relations, "application_id", "MachineToMachine"
)


def to_role(row: Any) -> OrganizationRole:
    return OrganizationRole(
        tenant_id=row.tenant_id, id=row.id, name=row.name, description=row.description, type=row.type
    )


class MembershipStore:
    # memberships

    async def member_ids(
        self,
        conn: AsyncConnection,
        side: Side,
        tenant_id: str,
        organization_id: str,
        among: Sequence[str] | None = None,
    ) -> set[str]:
        """The organization's members of this kind (only those in `among` when given)."""
        t = side.members
        query = sa.select(side.member(t)).where(t.c.tenant_id == tenant_id, t.c.organization_id == organization_id)
        if among is not None:
            query = query.where(side.member(t).in_(list(among)))
        return set((await conn.execute(query)).scalars())

    async def add(
        self, conn: AsyncConnection, side: Side, tenant_id: str, organization_id: str, member_ids: Sequence[str]
    ) -> list[str]:
        """Adds the members that are not members yet; returns those added."""
        if not member_ids:
            return []
        rows = [{"tenant_id": tenant_id, "organization_id": organization_id, side.column: m} for m in member_ids]
        insert = pg_insert(side.members).values(rows).on_conflict_do_nothing().returning(side.member(side.members))
        return sorted((await conn.execute(insert)).scalars())

    async def remove(
        self, conn: AsyncConnection, side: Side, tenant_id: str, organization_id: str, member_ids: Sequence[str]
    ) -> list[str]:
        """Removes these memberships (and their roles); returns the members removed."""
        if not member_ids:
            return []
        t = side.members
        delete = (
            sa.delete(t)
            .where(
                t.c.tenant_id == tenant_id, t.c.organization_id == organization_id, side.member(t).in_(list(member_ids))
            )
            .returning(side.member(t))
        )
        return sorted((await conn.execute(delete)).scalars())

    async def remove_everywhere(self, conn: AsyncConnection, side: Side, tenant_id: str, member_id: str) -> list[str]:
        """Removes the member from every organization; returns those organizations."""
        t = side.members
        delete = (
            sa.delete(t).where(t.c.tenant_id == tenant_id, side.member(t) == member_id).returning(t.c.organization_id)
        )
        return sorted((await conn.execute(delete)).scalars())

    # roles of members

    async def roles_by_id(self, conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> dict[str, str]:
        """id -> type of the organization roles that exist."""
        if not ids:
            return {}
        query = sa.select(organization_roles.c.id, organization_roles.c.type).where(
            organization_roles.c.tenant_id == tenant_id, organization_roles.c.id.in_(list(ids))
        )
        return {r.id: r.type for r in await conn.execute(query)}

    async def role_ids_by_name(self, conn: AsyncConnection, tenant_id: str, names: Sequence[str]) -> dict[str, str]:
        """name -> id of the organization roles with these names."""
        if not names:
            return {}
        query = sa.select(organization_roles.c.name, organization_roles.c.id).where(
            organization_roles.c.tenant_id == tenant_id, organization_roles.c.name.in_(list(names))
        )
        return {r.name: r.id for r in await conn.execute(query)}

    async def held_role_ids(
        self, conn: AsyncConnection, side: Side, tenant_id: str, organization_id: str, member_id: str
    ) -> set[str]:
        t = side.role_links
        query = sa.select(t.c.organization_role_id).where(
            t.c.tenant_id == tenant_id, t.c.organization_id == organization_id, side.member(t) == member_id
        )
        return set((await conn.execute(query)).scalars())

    async def grant(
        self, conn: AsyncConnection, side: Side, tenant_id: str, organization_id: str, pairs: Sequence[tuple[str, str]]
    ) -> None:
        """(member id, role id) pairs; pairs already held are left as they are."""
        if pairs:
            rows = [
                {"tenant_id": tenant_id, "organization_id": organization_id, side.column: m, "organization_role_id": r}
                for m, r in pairs
            ]
            await conn.execute(pg_insert(side.role_links).values(rows).on_conflict_do_nothing())

    async def revoke(
        self,
        conn: AsyncConnection,
        side: Side,
        tenant_id: str,
        organization_id: str,
        member_id: str,
        role_ids: Sequence[str] | None,
    ) -> int:
        """Removes these roles (all of the member's roles in the organization with None); returns how many."""
        t = side.role_links
        delete = sa.delete(t).where(
            t.c.tenant_id == tenant_id, t.c.organization_id == organization_id, side.member(t) == member_id
        )
        if role_ids is not None:
            delete = delete.where(t.c.organization_role_id.in_(list(role_ids)))
        return (await conn.execute(delete)).rowcount or 0

    async def roles_page(
        self, conn: AsyncConnection, side: Side, tenant_id: str, organization_id: str, member_id: str, page: Page | None
    ) -> tuple[int, list[OrganizationRole]]:
        """The member's roles in the organization, by name."""
        t = side.role_links
        where = [t.c.tenant_id == tenant_id, t.c.organization_id == organization_id, side.member(t) == member_id]
        query = (
            sa.select(organization_roles)
            .join(
                t,
                sa.and_(
                    t.c.tenant_id == organization_roles.c.tenant_id, t.c.organization_role_id == organization_roles.c.id
                ),
            )
            .where(*where)
            .order_by(organization_roles.c.name, organization_roles.c.id)
        )
        if page is None:
            listed = [to_role(r) for r in await conn.execute(query)]
            return len(listed), listed
        total = (await conn.execute(sa.select(sa.func.count()).select_from(t).where(*where))).scalar_one()
        rows = await conn.execute(query.limit(page.limit).offset(page.offset))
        return total, [to_role(r) for r in rows]

    async def user_scopes(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, user_id: str
    ) -> list[OrganizationScope]:
        """The organization scopes the user's roles in the organization grant, each once."""
        links, grants, s = organization_role_user_relations, organization_role_scope_relations, organization_scopes
        query = (
            sa.select(s.c.tenant_id, s.c.id, s.c.name, s.c.description)
            .distinct()
            .select_from(
                links.join(
                    grants,
                    sa.and_(
                        grants.c.tenant_id == links.c.tenant_id,
                        grants.c.organization_role_id == links.c.organization_role_id,
                    ),
                ).join(s, sa.and_(s.c.tenant_id == grants.c.tenant_id, s.c.id == grants.c.organization_scope_id))
            )
            .where(
                links.c.tenant_id == tenant_id, links.c.organization_id == organization_id, links.c.user_id == user_id
            )
            .order_by(s.c.id)
        )
        return [
            OrganizationScope(tenant_id=r.tenant_id, id=r.id, name=r.name, description=r.description)
            for r in await conn.execute(query)
        ]

    async def _briefs(
        self, conn: AsyncConnection, side: Side, tenant_id: str, organization_id: str, member_ids: Sequence[str]
    ) -> dict[str, list[OrganizationRoleBrief]]:
        """member id -> its roles in the organization (id and name, by name)."""
        if not member_ids:
            return {}
        t = side.role_links
        query = (
            sa.select(side.member(t).label("member_id"), organization_roles.c.id, organization_roles.c.name)
            .join(
                organization_roles,
                sa.and_(
                    organization_roles.c.tenant_id == t.c.tenant_id, organization_roles.c.id == t.c.organization_role_id
                ),
            )
            .where(
                t.c.tenant_id == tenant_id, t.c.organization_id == organization_id, side.member(t).in_(list(member_ids))
            )
            .order_by(organization_roles.c.name, organization_roles.c.id)
        )
        briefs: dict[str, list[OrganizationRoleBrief]] = {}
        for row in await conn.execute(query):
            briefs.setdefault(row.member_id, []).append(OrganizationRoleBrief(row.id, row.name))
        return briefs

    # member lists

    async def users_page(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        organization_id: str,
        term: str | None,
        role_id: str | None,
        page: Page,
    ) -> tuple[int, list[UserWithOrganizationRoles]]:
        """The organization's users (full user objects, by user id as Logto orders them) with their roles there;
        `term` is Logto's user search, `role_id` keeps the holders of that organization role."""
        rel, links = organization_user_relations, organization_role_user_relations
        listed = (
            identity_reads.linked_users_select(tenant_id, rel.c.user_id)
            .where(rel.c.tenant_id == tenant_id, rel.c.organization_id == organization_id)
            .where(*identity_reads.search_condition(term))
        )
        if role_id is not None:
            listed = listed.where(
                sa.exists().where(
                    links.c.tenant_id == rel.c.tenant_id,
                    links.c.organization_id == rel.c.organization_id,
                    links.c.user_id == rel.c.user_id,
                    links.c.organization_role_id == role_id,
                )
            )
        total = (await conn.execute(sa.select(sa.func.count()).select_from(listed.subquery()))).scalar_one()
        rows = await conn.execute(listed.order_by(rel.c.user_id).limit(page.limit).offset(page.offset))
        found = [identity_reads.to_user(r) for r in rows]
        roles = await self._briefs(conn, USERS, tenant_id, organization_id, [u.id for u in found])
        return total, [
            UserWithOrganizationRoles(
                **{f: getattr(u, f) for f in u.__struct_fields__}, organization_roles=roles.get(u.id, [])
            )
            for u in found
        ]

    async def applications_page(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, term: str | None, page: Page
    ) -> tuple[int, list[ApplicationWithOrganizationRoles]]:
        """The organization's applications (by id) with their roles there; `term` matches id, name or description."""
        rel = organization_application_relations
        pattern = identity_reads.search_pattern(term) if term else None
        listed = management_reads.linked_applications_select(tenant_id, rel.c.application_id, pattern).where(
            rel.c.tenant_id == tenant_id, rel.c.organization_id == organization_id
        )
        total = (await conn.execute(sa.select(sa.func.count()).select_from(listed.subquery()))).scalar_one()
        rows = await conn.execute(listed.order_by(rel.c.application_id).limit(page.limit).offset(page.offset))
        found = [management_reads.application_from_row(r) for r in rows]
        roles = await self._briefs(conn, APPLICATIONS, tenant_id, organization_id, [a.id for a in found])
        return total, [
            ApplicationWithOrganizationRoles(
                **{f: getattr(a, f) for f in a.__struct_fields__}, organization_roles=roles.get(a.id, [])
            )
            for a in found
        ]
