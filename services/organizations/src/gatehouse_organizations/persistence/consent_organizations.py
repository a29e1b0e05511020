"""SQL for the organizations a user consented a third-party application to (Logto's
`application_user_consent_organizations`).

A consent row references the user's membership (foreign key with ON DELETE CASCADE), so a user who leaves an
organization (removed, the organization deleted, the user deleted) takes the consents with them. The
application id points into management's schema and carries no foreign key: the `member_cleanup` consumer
drops the consents of a deleted application.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.organizations import Organization
from gatehouse_schema.tables.organizations import (
    application_user_consent_organizations,
    organization_user_relations,
    organizations,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_organizations.persistence.organizations import to_organization

CONSENTS = application_user_consent_organizations


def _of(tenant_id: str, application_id: str, user_id: str) -> list[sa.ColumnElement[bool]]:
    return [
        CONSENTS.c.tenant_id == tenant_id,
        CONSENTS.c.application_id == application_id,
        CONSENTS.c.user_id == user_id,
    ]


class ConsentOrganizationStore:
    async def lock(self, conn: AsyncConnection, tenant_id: str, application_id: str, user_id: str) -> None:
        """Serializes the writes of one application's consents of one user until the transaction ends, so a
        replace is never interleaved with another write of the same set."""
        key = f"consent-organizations:{tenant_id}:{application_id}:{user_id}"
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})

    async def member_organization_ids(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, among: Sequence[str]
    ) -> set[str]:
        """The organizations of `among` the user is a member of. Their membership rows stay locked (FOR SHARE)
        until the transaction ends, so a consent written next cannot lose its membership meanwhile."""
        if not among:
            return set()
        m = organization_user_relations
        query = (
            sa.select(m.c.organization_id)
            .where(m.c.tenant_id == tenant_id, m.c.user_id == user_id, m.c.organization_id.in_(list(among)))
            .with_for_update(read=True)
        )
        return set((await conn.execute(query)).scalars())

    async def page(
        self, conn: AsyncConnection, tenant_id: str, application_id: str, user_id: str, page: Page
    ) -> tuple[int, list[Organization]]:
        """The consented organizations (full organization objects), by organization id."""
        o = organizations
        total = (
            await conn.execute(
                sa.select(sa.func.count()).select_from(CONSENTS).where(*_of(tenant_id, application_id, user_id))
            )
        ).scalar_one()
        rows = await conn.execute(
            sa.select(o)
            .join(CONSENTS, sa.and_(CONSENTS.c.tenant_id == o.c.tenant_id, CONSENTS.c.organization_id == o.c.id))
            .where(*_of(tenant_id, application_id, user_id))
            .order_by(o.c.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return total, [to_organization(r) for r in rows]

    async def add(
        self, conn: AsyncConnection, tenant_id: str, application_id: str, user_id: str, organization_ids: Sequence[str]
    ) -> None:
        """Consents already given are left as they are."""
        if organization_ids:
            rows = [
                {"tenant_id": tenant_id, "application_id": application_id, "user_id": user_id, "organization_id": o}
                for o in organization_ids
            ]
            await conn.execute(pg_insert(CONSENTS).values(rows).on_conflict_do_nothing())

    async def remove(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        application_id: str,
        user_id: str,
        organization_ids: Sequence[str] | None,
        *,
        keep: Sequence[str] = (),
    ) -> int:
        """Removes these consents (all of them with None) except those in `keep`; returns how many."""
        delete = sa.delete(CONSENTS).where(*_of(tenant_id, application_id, user_id))
        if organization_ids is not None:
            delete = delete.where(CONSENTS.c.organization_id.in_(list(organization_ids)))
        if keep:
            delete = delete.where(CONSENTS.c.organization_id.not_in(list(keep)))
        return (await conn.execute(delete)).rowcount or 0

    async def remove_application(self, conn: AsyncConnection, tenant_id: str, application_id: str) -> int:
        """Removes every consent given to the application; returns how many."""
        delete = sa.delete(CONSENTS).where(
            CONSENTS.c.tenant_id == tenant_id, CONSENTS.c.application_id == application_id
        )
        return (await conn.execute(delete)).rowcount or 0
