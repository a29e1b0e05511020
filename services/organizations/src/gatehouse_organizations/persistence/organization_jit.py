"""SQL for an organization's just-in-time provisioning rules: the email domains and the enterprise SSO connectors
whose users join it and the organization roles they get. All reference the organization (and the role) with
`ON DELETE CASCADE`; the connectors are management's (no foreign key: a deleted one's rows are dropped by the
`organizations-jit-sso-connectors` consumer, and a link to a missing one lists nothing)."""

from collections.abc import Sequence

import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.organization_template import OrganizationRole
from gatehouse_schema.api.organizations import OrganizationJitEmailDomain
from gatehouse_schema.api.sso_connectors import SsoConnector
from gatehouse_schema.queries import management as management_reads
from gatehouse_schema.tables.organizations import (
    organization_jit_email_domains,
    organization_jit_roles,
    organization_jit_sso_connectors,
    organization_roles,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_organizations.persistence.memberships import to_role

domains = organization_jit_email_domains
jit_roles = organization_jit_roles
connectors = organization_jit_sso_connectors


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

    # enterprise SSO connectors

    async def sso_connectors(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, page: Page | None
    ) -> tuple[int, list[SsoConnector]]:
        """The organization's just-in-time SSO connectors by id (all of them without a page)."""
        listed = management_reads.linked_sso_connectors_select(tenant_id, connectors.c.sso_connector_id).where(
            connectors.c.tenant_id == tenant_id, connectors.c.organization_id == organization_id
        )
        ordered = listed.order_by(connectors.c.sso_connector_id)
        if page is None:
            found = [management_reads.sso_connector_from_row(r) for r in await conn.execute(ordered)]
            return len(found), found
        total = (await conn.execute(sa.select(sa.func.count()).select_from(listed.subquery()))).scalar_one()
        rows = await conn.execute(ordered.limit(page.limit).offset(page.offset))
        return total, [management_reads.sso_connector_from_row(r) for r in rows]

    async def add_sso_connectors(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, connector_ids: Sequence[str]
    ) -> None:
        """Connectors the organization has already are left as they are."""
        if connector_ids:
            rows = [
                {"tenant_id": tenant_id, "organization_id": organization_id, "sso_connector_id": connector_id}
                for connector_id in connector_ids
            ]
            await conn.execute(pg_insert(connectors).values(rows).on_conflict_do_nothing())

    async def remove_sso_connectors(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, connector_id: str | None = None
    ) -> int:
        """Removes this connector (every connector with None); returns how many."""
        query = sa.delete(connectors).where(
            connectors.c.tenant_id == tenant_id, connectors.c.organization_id == organization_id
        )
        if connector_id is not None:
            query = query.where(connectors.c.sso_connector_id == connector_id)
        return (await conn.execute(query)).rowcount or 0

    async def drop_sso_connector(self, conn: AsyncConnection, tenant_id: str, connector_id: str) -> list[str]:
        """Removes the connector from every organization; returns those organizations."""
        query = (
            sa.delete(connectors)
            .where(connectors.c.tenant_id == tenant_id, connectors.c.sso_connector_id == connector_id)
            .returning(connectors.c.organization_id)
        )
        return sorted((await conn.execute(query)).scalars())

    # provisioning

    async def organizations_of_sso_connector(
        self, conn: AsyncConnection, tenant_id: str, connector_id: str
    ) -> list[str]:
        """The organizations whose users include those of this connector."""
        query = sa.select(connectors.c.organization_id).where(
            connectors.c.tenant_id == tenant_id, connectors.c.sso_connector_id == connector_id
        )
        return sorted((await conn.execute(query)).scalars())

    async def organizations_of_email_domain(
        self, conn: AsyncConnection, tenant_id: str, email_domain: str
    ) -> list[str]:
        """The organizations whose users include those of this email domain (compared as stored, as Logto does)."""
        query = sa.select(domains.c.organization_id).where(
            domains.c.tenant_id == tenant_id, domains.c.email_domain == email_domain
        )
        return sorted((await conn.execute(query)).scalars())

    async def user_role_ids(
        self, conn: AsyncConnection, tenant_id: str, organization_ids: Sequence[str]
    ) -> dict[str, list[str]]:
        """organization id -> its just-in-time roles a user can hold (of type `User`)."""
        if not organization_ids:
            return {}
        r = organization_roles
        query = (
            sa.select(jit_roles.c.organization_id, jit_roles.c.organization_role_id)
            .join(r, sa.and_(r.c.tenant_id == jit_roles.c.tenant_id, r.c.id == jit_roles.c.organization_role_id))
            .where(
                jit_roles.c.tenant_id == tenant_id,
                jit_roles.c.organization_id.in_(list(organization_ids)),
                r.c.type == "User",
            )
            .order_by(jit_roles.c.organization_id, jit_roles.c.organization_role_id)
        )
        found: dict[str, list[str]] = {}
        for row in await conn.execute(query):
            found.setdefault(row.organization_id, []).append(row.organization_role_id)
        return found
