"""SQL for an organization's just-in-time provisioning rules: the email domains whose users join it and the
organization roles they get. Both reference the organization (and the role) with `ON DELETE CASCADE`."""

from collections.abc import Sequence

import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.organization_template import OrganizationRole
from gatehouse_schema.api.organizations import OrganizationJitEmailDomain
from gatehouse_schema.tables.organizations import (
    organization_jit_email_domains,
    organization_jit_roles,
    organization_roles,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_organizations.persistence.memberships import to_role

domains = organization_jit_email_domains
jit_roles = organization_jit_roles


class JitStore:
    # email domains

    async def email_domains_page(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, page: Page
    ) -> tuple[int, list[OrganizationJitEmailDomain]]:
        """The organization's email domains, alphabetically."""
        where = [domains.c.tenant_id == tenant_id, domains.c.organization_id == organization_id]
        total = (await conn.execute(sa.select(sa.func.count()).select_from(domains).where(*where))).scalar_one()
        query = sa.select(domains).where(*where).order_by(domains.c.email_domain).limit(page.limit).offset(page.offset)
        return total, [
            OrganizationJitEmailDomain(
                tenant_id=r.tenant_id, organization_id=r.organization_id, email_domain=r.email_domain
            )
            for r in await conn.execute(query)
        ]

    async def add_email_domain(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, email_domain: str
    ) -> bool:
        """False when the organization has the domain already."""
        query = (
            pg_insert(domains)
            .values(tenant_id=tenant_id, organization_id=organization_id, email_domain=email_domain)
            .on_conflict_do_nothing()
            .returning(domains.c.email_domain)
        )
        return (await conn.execute(query)).first() is not None

    async def remove_email_domains(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, email_domain: str | None = None
    ) -> int:
        """Removes this domain (every domain with None); returns how many."""
        query = sa.delete(domains).where(domains.c.tenant_id == tenant_id, domains.c.organization_id == organization_id)
        if email_domain is not None:
            query = query.where(domains.c.email_domain == email_domain)
        return (await conn.execute(query)).rowcount or 0

    async def insert_email_domains(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, email_domains: Sequence[str]
    ) -> None:
        if email_domains:
            rows = [
                {"tenant_id": tenant_id, "organization_id": organization_id, "email_domain": d} for d in email_domains
            ]
            await conn.execute(pg_insert(domains).values(rows).on_conflict_do_nothing())

    # roles

    async def roles(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, page: Page | None
    ) -> tuple[int, list[OrganizationRole]]:
        """The organization's just-in-time roles, by name (all of them without a page)."""
        r = organization_roles
        where = [jit_roles.c.tenant_id == tenant_id, jit_roles.c.organization_id == organization_id]
        query = (
            sa.select(r)
            .join(
                jit_roles, sa.and_(jit_roles.c.tenant_id == r.c.tenant_id, jit_roles.c.organization_role_id == r.c.id)
            )
            .where(*where)
            .order_by(r.c.name, r.c.id)
        )
        if page is None:
            listed = [to_role(row) for row in await conn.execute(query)]
            return len(listed), listed
        total = (await conn.execute(sa.select(sa.func.count()).select_from(jit_roles).where(*where))).scalar_one()
        return total, [to_role(row) for row in await conn.execute(query.limit(page.limit).offset(page.offset))]

    async def add_roles(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, role_ids: Sequence[str]
    ) -> None:
        """Roles the organization has already are left as they are."""
        if role_ids:
            rows = [
                {"tenant_id": tenant_id, "organization_id": organization_id, "organization_role_id": role_id}
                for role_id in role_ids
            ]
            await conn.execute(pg_insert(jit_roles).values(rows).on_conflict_do_nothing())

    async def remove_roles(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, role_id: str | None = None
    ) -> int:
        """Removes this role (every role with None); returns how many."""
        query = sa.delete(jit_roles).where(
            jit_roles.c.tenant_id == tenant_id, jit_roles.c.organization_id == organization_id
        )
        if role_id is not None:
            query = query.where(jit_roles.c.organization_role_id == role_id)
        return (await conn.execute(query)).rowcount or 0
