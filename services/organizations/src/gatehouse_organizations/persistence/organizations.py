"""SQL for organizations, and the organizations a user or an application belongs to (with its roles there)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.organizations import (
    Organization,
    OrganizationBranding,
    OrganizationColor,
    OrganizationRoleBrief,
    OrganizationWithRoles,
)
from gatehouse_schema.api.users import FeaturedUser
from gatehouse_schema.queries import identity as identity_reads
from gatehouse_schema.tables.organizations import (
    organization_application_relations,
    organization_role_application_relations,
    organization_role_user_relations,
    organization_roles,
    organization_user_relations,
    organizations,
)
from sqlalchemy.ext.asyncio import AsyncConnection

FEATURED = 3
SEARCH_FIELDS = ("id", "name")


def epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def to_organization(row: Any) -> Organization:
    return Organization(
        tenant_id=row.tenant_id,
        id=row.id,
        name=row.name,
        description=row.description,
        custom_data=row.custom_data,
        is_mfa_required=row.is_mfa_required,
        color=msgspec.convert(row.color, OrganizationColor),
        branding=msgspec.convert(row.branding, OrganizationBranding),
        custom_css=row.custom_css,
        created_at=epoch_ms(row.created_at),
    )


def fields_of(organization: Organization) -> dict[str, Any]:
    return {f: getattr(organization, f) for f in Organization.__struct_fields__}


def _roles_by_member(
    links: sa.Table, member_column: str, tenant_id: str, member_id: str, organization_ids: Sequence[str]
) -> sa.Select[Any]:
    """(organization id, role id, role name) of the roles `member_id` holds in these organizations, by name."""
    return (
        sa.select(links.c.organization_id, organization_roles.c.id, organization_roles.c.name)
        .join(
            organization_roles,
            sa.and_(
                organization_roles.c.tenant_id == links.c.tenant_id,
                organization_roles.c.id == links.c.organization_role_id,
            ),
        )
        .where(
            links.c.tenant_id == tenant_id,
            links.c[member_column] == member_id,
            links.c.organization_id.in_(list(organization_ids)),
        )
        .order_by(organization_roles.c.name, organization_roles.c.id)
    )


class OrganizationStore:
    async def insert(self, conn: AsyncConnection, values: dict[str, Any]) -> Organization:
        row = (await conn.execute(sa.insert(organizations).values(**values).returning(organizations))).one()
        return to_organization(row)

    async def get(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, *, lock: bool = False
    ) -> Organization | None:
        query = sa.select(organizations).where(
            organizations.c.tenant_id == tenant_id, organizations.c.id == organization_id
        )
        row = (await conn.execute(query.with_for_update() if lock else query)).one_or_none()
        return None if row is None else to_organization(row)

    async def search(
        self, conn: AsyncConnection, tenant_id: str, term: str | None, page: Page
    ) -> tuple[int, list[Organization]]:
        """Newest first (Logto's order); `term` matches id or name, case-insensitively."""
        where: list[Any] = [organizations.c.tenant_id == tenant_id]
        if term:
            pattern = identity_reads.search_pattern(term)
            where.append(sa.or_(*(organizations.c[f].ilike(pattern) for f in SEARCH_FIELDS)))
        total = (await conn.execute(sa.select(sa.func.count()).select_from(organizations).where(*where))).scalar_one()
        query = (
            sa.select(organizations)
            .where(*where)
            .order_by(organizations.c.created_at.desc(), organizations.c.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return total, [to_organization(r) for r in await conn.execute(query)]

    async def update(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, values: dict[str, Any]
    ) -> Organization:
        query = (
            sa.update(organizations)
            .where(organizations.c.tenant_id == tenant_id, organizations.c.id == organization_id)
            .values(**values)
            .returning(organizations)
        )
        return to_organization((await conn.execute(query)).one())

    async def delete(self, conn: AsyncConnection, tenant_id: str, organization_id: str) -> None:
        """Memberships and their roles go with it (foreign keys ON DELETE CASCADE)."""
        await conn.execute(
            sa.delete(organizations).where(
                organizations.c.tenant_id == tenant_id, organizations.c.id == organization_id
            )
        )

    async def featured(
        self, conn: AsyncConnection, tenant_id: str, organization_ids: Sequence[str]
    ) -> tuple[dict[str, int], dict[str, list[FeaturedUser]]]:
        """Per organization: how many users are members, and up to three of them (by user id)."""
        ids = list(organization_ids)
        rel = organization_user_relations
        where = [rel.c.tenant_id == tenant_id, rel.c.organization_id.in_(ids)]
        counts: dict[str, int] = {
            r.organization_id: r.n
            for r in await conn.execute(
                sa.select(rel.c.organization_id, sa.func.count().label("n"))
                .where(*where)
                .group_by(rel.c.organization_id)
            )
        }
        ranked = (
            sa.select(
                rel.c.organization_id,
                rel.c.user_id,
                sa.func.row_number().over(partition_by=rel.c.organization_id, order_by=rel.c.user_id).label("n"),
            )
            .where(*where)
            .subquery()
        )
        picked = (
            await conn.execute(sa.select(ranked.c.organization_id, ranked.c.user_id).where(ranked.c.n <= FEATURED))
        ).all()
        profiles = await identity_reads.featured_users(conn, tenant_id, list({r.user_id for r in picked}))
        featured: dict[str, list[FeaturedUser]] = {}
        for row in picked:
            if row.user_id in profiles:
                featured.setdefault(row.organization_id, []).append(profiles[row.user_id])
        return counts, featured

    async def _with_roles(
        self,
        conn: AsyncConnection,
        listed: list[Organization],
        links: sa.Table,
        column: str,
        tenant_id: str,
        member: str,
    ) -> list[OrganizationWithRoles]:
        roles: dict[str, list[OrganizationRoleBrief]] = {}
        if listed:
            query = _roles_by_member(links, column, tenant_id, member, [o.id for o in listed])
            for row in await conn.execute(query):
                roles.setdefault(row.organization_id, []).append(OrganizationRoleBrief(row.id, row.name))
        return [OrganizationWithRoles(**fields_of(o), organization_roles=roles.get(o.id, [])) for o in listed]

    async def of_user(self, conn: AsyncConnection, tenant_id: str, user_id: str) -> list[OrganizationWithRoles]:
        """The organizations the user is a member of, newest first, each with the user's roles there."""
        rel = organization_user_relations
        query = (
            sa.select(organizations)
            .join(
                rel, sa.and_(rel.c.tenant_id == organizations.c.tenant_id, rel.c.organization_id == organizations.c.id)
            )
            .where(rel.c.tenant_id == tenant_id, rel.c.user_id == user_id)
            .order_by(organizations.c.created_at.desc(), organizations.c.id)
        )
        listed = [to_organization(r) for r in await conn.execute(query)]
        return await self._with_roles(conn, listed, organization_role_user_relations, "user_id", tenant_id, user_id)

    async def of_application(
        self, conn: AsyncConnection, tenant_id: str, application_id: str, page: Page | None
    ) -> tuple[int, list[OrganizationWithRoles]]:
        """The organizations the application belongs to, newest first, each with the application's roles there."""
        rel = organization_application_relations
        where = [rel.c.tenant_id == tenant_id, rel.c.application_id == application_id]
        query = (
            sa.select(organizations)
            .join(
                rel, sa.and_(rel.c.tenant_id == organizations.c.tenant_id, rel.c.organization_id == organizations.c.id)
            )
            .where(*where)
            .order_by(organizations.c.created_at.desc(), organizations.c.id)
        )
        if page is not None:
            query = query.limit(page.limit).offset(page.offset)
        listed = [to_organization(r) for r in await conn.execute(query)]
        if page is None:
            total = len(listed)
        else:
            total = (await conn.execute(sa.select(sa.func.count()).select_from(rel).where(*where))).scalar_one()
        with_roles = await self._with_roles(
            conn, listed, organization_role_application_relations, "application_id", tenant_id, application_id
        )
        return total, with_roles
