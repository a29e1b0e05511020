"""SQL for organization invitations and the organization roles they grant.

An invitation's status is stored as written; a Pending one whose `expires_at` has passed is read as Expired
(computed by PostgreSQL's clock, as Logto does), and is only written as Expired when a new invitation for the
same invitee and organization needs the unique "one pending invitation" slot. The inviter and the accepting
user are identity's users: no foreign key, the `member_cleanup` consumer deletes their invitations.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.api.organizations import OrganizationInvitation, OrganizationRoleBrief
from gatehouse_schema.tables.organizations import (
    organization_invitation_role_relations,
    organization_invitations,
    organization_roles,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_organizations.persistence.organizations import epoch_ms

PENDING, ACCEPTED, EXPIRED, REVOKED = "Pending", "Accepted", "Expired", "Revoked"

t = organization_invitations
links = organization_invitation_role_relations

#: the status as Logto reports it: Pending past its expiry is Expired
EFFECTIVE_STATUS = sa.case(
    (sa.and_(t.c.status == PENDING, t.c.expires_at < sa.func.now()), EXPIRED), else_=t.c.status
).label("status")
COLUMNS = [c for c in t.c if c.name != "status"] + [EFFECTIVE_STATUS]


@dataclass(frozen=True)
class InvitationFilter:
    organization_id: str | None = None
    inviter_id: str | None = None
    invitee: str | None = None  # compared case-insensitively


@dataclass(frozen=True)
class InvitationRole:
    id: str
    name: str
    type: str


def _invitation(row: Any, roles: Sequence[InvitationRole]) -> OrganizationInvitation:
    return OrganizationInvitation(
        tenant_id=row.tenant_id,
        id=row.id,
        inviter_id=row.inviter_id,
        invitee=row.invitee,
        accepted_user_id=row.accepted_user_id,
        organization_id=row.organization_id,
        status=row.status,
        created_at=epoch_ms(row.created_at),
        updated_at=epoch_ms(row.updated_at),
        expires_at=epoch_ms(row.expires_at),
        organization_roles=[OrganizationRoleBrief(r.id, r.name) for r in roles],
    )


class InvitationStore:
    async def roles_of(
        self, conn: AsyncConnection, tenant_id: str, invitation_ids: Sequence[str]
    ) -> dict[str, list[InvitationRole]]:
        """invitation id -> the roles it grants (by name)."""
        if not invitation_ids:
            return {}
        r = organization_roles
        query = (
            sa.select(links.c.organization_invitation_id, r.c.id, r.c.name, r.c.type)
            .join(r, sa.and_(r.c.tenant_id == links.c.tenant_id, r.c.id == links.c.organization_role_id))
            .where(links.c.tenant_id == tenant_id, links.c.organization_invitation_id.in_(list(invitation_ids)))
            .order_by(r.c.name, r.c.id)
        )
        found: dict[str, list[InvitationRole]] = {}
        for row in await conn.execute(query):
            found.setdefault(row.organization_invitation_id, []).append(InvitationRole(row.id, row.name, row.type))
        return found

    async def get(
        self, conn: AsyncConnection, tenant_id: str, invitation_id: str, *, lock: bool = False
    ) -> tuple[OrganizationInvitation, list[InvitationRole]] | None:
        """The invitation (its effective status) and the roles it grants; `lock` holds its row until commit."""
        query = sa.select(*COLUMNS).where(t.c.tenant_id == tenant_id, t.c.id == invitation_id)
        row = (await conn.execute(query.with_for_update(of=t) if lock else query)).one_or_none()
        if row is None:
            return None
        roles = (await self.roles_of(conn, tenant_id, [invitation_id])).get(invitation_id, [])
        return _invitation(row, roles), roles

    async def find(
        self, conn: AsyncConnection, tenant_id: str, where: InvitationFilter
    ) -> list[OrganizationInvitation]:
        """Every matching invitation, newest first (Logto lists them all, unpaginated)."""
        query = sa.select(*COLUMNS).where(t.c.tenant_id == tenant_id)
        if where.organization_id is not None:
            query = query.where(t.c.organization_id == where.organization_id)
        if where.inviter_id is not None:
            query = query.where(t.c.inviter_id == where.inviter_id)
        if where.invitee is not None:
            query = query.where(sa.func.lower(t.c.invitee) == sa.func.lower(where.invitee))
        rows = list(await conn.execute(query.order_by(t.c.created_at.desc(), t.c.id)))
        roles = await self.roles_of(conn, tenant_id, [r.id for r in rows])
        return [_invitation(r, roles.get(r.id, [])) for r in rows]

    async def expire_pending(self, conn: AsyncConnection, tenant_id: str, organization_id: str, invitee: str) -> None:
        """Writes Expired on the invitee's pending invitations to the organization that have expired."""
        await conn.execute(
            sa.update(t)
            .where(
                t.c.tenant_id == tenant_id,
                t.c.organization_id == organization_id,
                sa.func.lower(t.c.invitee) == sa.func.lower(invitee),
                t.c.status == PENDING,
                t.c.expires_at < sa.func.now(),
            )
            .values(status=EXPIRED)
        )

    async def insert(self, conn: AsyncConnection, values: dict[str, Any]) -> bool:
        """False when the invitee already has a pending invitation to the organization."""
        query = pg_insert(t).values(status=PENDING, **values).on_conflict_do_nothing().returning(t.c.id)
        return (await conn.execute(query)).first() is not None

    async def grant_roles(
        self, conn: AsyncConnection, tenant_id: str, invitation_id: str, role_ids: Sequence[str]
    ) -> None:
        if role_ids:
            rows = [
                {"tenant_id": tenant_id, "organization_invitation_id": invitation_id, "organization_role_id": r}
                for r in role_ids
            ]
            await conn.execute(pg_insert(links).values(rows).on_conflict_do_nothing())

    async def set_status(
        self, conn: AsyncConnection, tenant_id: str, invitation_id: str, status: str, accepted_user_id: str | None
    ) -> datetime:
        """Writes the new status (and the accepting user, when there is one); returns `updated_at`."""
        values: dict[str, Any] = {"status": status, "updated_at": sa.func.now()}
        if accepted_user_id is not None:
            values["accepted_user_id"] = accepted_user_id
        query = (
            sa.update(t)
            .where(t.c.tenant_id == tenant_id, t.c.id == invitation_id)
            .values(**values)
            .returning(t.c.updated_at)
        )
        updated_at: datetime = (await conn.execute(query)).scalar_one()
        return updated_at

    async def delete(self, conn: AsyncConnection, tenant_id: str, invitation_id: str) -> bool:
        query = sa.delete(t).where(t.c.tenant_id == tenant_id, t.c.id == invitation_id)
        return bool((await conn.execute(query)).rowcount)

    async def remove_user(self, conn: AsyncConnection, tenant_id: str, user_id: str) -> int:
        """Deletes the invitations the user sent or accepted (Logto's foreign keys cascade so); returns how many."""
        query = sa.delete(t).where(
            t.c.tenant_id == tenant_id, sa.or_(t.c.inviter_id == user_id, t.c.accepted_user_id == user_id)
        )
        return (await conn.execute(query)).rowcount or 0
