"""Membership use cases: an organization's users and machine-to-machine applications, and their roles there.

Each command is one transaction. Membership writes lock the organization's row first, so concurrent writes
to one organization's members run one after the other and every `Organization.Membership.Updated` event
describes what changed. Error codes are the ones Logto's database constraints give: an unknown organization,
member or role is 422 `entity.relation_foreign_key_not_found`, a non-M2M application or a role of the other
type 422 `entity.db_constraint_violated`, a missing membership or role link 404 `entity.not_found`.
"""

from collections.abc import Sequence

from gatehouse_platform.errors import NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.organization_template import OrganizationRole, OrganizationScope
from gatehouse_schema.api.organizations import (
    ApplicationWithOrganizationRoles,
    UserWithOrganizationRoles,
)
from gatehouse_schema.events import Actor, OrganizationMembershipUpdated
from gatehouse_schema.queries import identity as identity_reads
from gatehouse_schema.queries import management as management_reads
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_organizations.persistence.memberships import APPLICATIONS, USERS, MembershipStore, Side
from gatehouse_organizations.persistence.organizations import OrganizationStore
from gatehouse_organizations.services.organizations import find_organization

__all__ = ["APPLICATIONS", "USERS", "MembershipService", "Side", "membership_event"]


def _unique(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _foreign_key_not_found() -> Unprocessable:
    return Unprocessable("entity.relation_foreign_key_not_found")


def membership_event(
    side: Side, organization_id: str, added: Sequence[str], removed: Sequence[str]
) -> OrganizationMembershipUpdated:
    if side is USERS:
        return OrganizationMembershipUpdated(
            organization_id=organization_id, added_user_ids=list(added), removed_user_ids=list(removed)
        )
    return OrganizationMembershipUpdated(
        organization_id=organization_id, added_application_ids=list(added), removed_application_ids=list(removed)
    )


class MembershipService:
    def __init__(
        self, engine: AsyncEngine, organizations: OrganizationStore, members: MembershipStore, outbox: Outbox
    ) -> None:
        self.engine = engine
        self.organizations = organizations
        self.members = members
        self.outbox = outbox

    # checks

    async def _lock_organization(self, conn: AsyncConnection, tenant_id: str, organization_id: str) -> None:
        if await self.organizations.get(conn, tenant_id, organization_id, lock=True) is None:
            raise _foreign_key_not_found()

    async def _check_members_exist(self, conn: AsyncConnection, side: Side, tenant_id: str, ids: list[str]) -> None:
        """Users must exist in identity; applications in management, and be machine-to-machine."""
        if side is USERS:
            if len(await identity_reads.existing_user_ids(conn, tenant_id, ids)) < len(ids):
                raise _foreign_key_not_found()
            return
        types = await management_reads.application_types(conn, tenant_id, ids)
        if len(types) < len(ids):
            raise _foreign_key_not_found()
        if any(kind != "MachineToMachine" for kind in types.values()):
            raise Unprocessable("entity.db_constraint_violated")

    async def _check_roles(self, conn: AsyncConnection, side: Side, tenant_id: str, role_ids: list[str]) -> None:
        """The roles exist and are of the member's type (User roles for users, MachineToMachine for apps)."""
        types = await self.members.roles_by_id(conn, tenant_id, role_ids)
        if len(types) < len(role_ids):
            raise _foreign_key_not_found()
        if any(kind != side.role_type for kind in types.values()):
            raise Unprocessable("entity.db_constraint_violated")

    async def _require_membership(
        self, conn: AsyncConnection, side: Side, tenant_id: str, organization_id: str, member_id: str
    ) -> None:
        if not await self.members.member_ids(conn, side, tenant_id, organization_id, [member_id]):
            raise Unprocessable("organization.require_membership")

    async def _announce(
        self,
        conn: AsyncConnection,
        side: Side,
        tenant_id: str,
        organization_id: str,
        added: Sequence[str],
        removed: Sequence[str],
        actor: Actor | None,
    ) -> None:
        if added or removed:
            event = membership_event(side, organization_id, added, removed)
            await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)

    # members

    async def users(
        self, tenant_id: str, organization_id: str, term: str | None, role_id: str | None, page: Page
    ) -> tuple[int, list[UserWithOrganizationRoles]]:
        async with self.engine.connect() as conn:
            await find_organization(self.organizations, conn, tenant_id, organization_id)
            return await self.members.users_page(conn, tenant_id, organization_id, term, role_id, page)

    async def applications(
        self, tenant_id: str, organization_id: str, term: str | None, page: Page
    ) -> tuple[int, list[ApplicationWithOrganizationRoles]]:
        async with self.engine.connect() as conn:
            await find_organization(self.organizations, conn, tenant_id, organization_id)
            return await self.members.applications_page(conn, tenant_id, organization_id, term, page)

    async def add(
        self, side: Side, tenant_id: str, organization_id: str, member_ids: Sequence[str], actor: Actor | None
    ) -> list[str]:
        """Adds members; those already members are left as they are. Returns the members added."""
        wanted = _unique(member_ids)
        async with self.engine.begin() as conn:
            await self._lock_organization(conn, tenant_id, organization_id)
            await self._check_members_exist(conn, side, tenant_id, wanted)
            added = await self.members.add(conn, side, tenant_id, organization_id, wanted)
            await self._announce(conn, side, tenant_id, organization_id, added, [], actor)
        return added

    async def replace(
        self, side: Side, tenant_id: str, organization_id: str, member_ids: Sequence[str], actor: Actor | None
    ) -> None:
        """Makes these the members: others leave (with their roles), members who stay keep their roles."""
        wanted = _unique(member_ids)
        async with self.engine.begin() as conn:
            await self._lock_organization(conn, tenant_id, organization_id)
            await self._check_members_exist(conn, side, tenant_id, wanted)
            current = await self.members.member_ids(conn, side, tenant_id, organization_id)
            leaving = sorted(current - set(wanted))
            removed = await self.members.remove(conn, side, tenant_id, organization_id, leaving)
            added = await self.members.add(
                conn, side, tenant_id, organization_id, [m for m in wanted if m not in current]
            )
            await self._announce(conn, side, tenant_id, organization_id, added, removed, actor)

    async def remove(
        self, side: Side, tenant_id: str, organization_id: str, member_id: str, actor: Actor | None
    ) -> None:
        async with self.engine.begin() as conn:
            await self.organizations.get(conn, tenant_id, organization_id, lock=True)
            removed = await self.members.remove(conn, side, tenant_id, organization_id, [member_id])
            if not removed:
                raise NotFound("entity.not_found")
            await self._announce(conn, side, tenant_id, organization_id, [], removed, actor)

    # roles of members

    async def assign_to_many(
        self, side: Side, tenant_id: str, organization_id: str, member_ids: Sequence[str], role_ids: Sequence[str]
    ) -> None:
        """Gives every one of these members every one of these roles (roles already held stay)."""
        members, roles = _unique(member_ids), _unique(role_ids)
        async with self.engine.begin() as conn:
            await self._check_roles(conn, side, tenant_id, roles)
            found = await self.members.member_ids(conn, side, tenant_id, organization_id, members)
            if len(found) < len(members):
                raise _foreign_key_not_found()  # not a member (or no such organization): Logto's foreign key
            pairs = [(m, r) for m in members for r in roles]
            await self.members.grant(conn, side, tenant_id, organization_id, pairs)

    async def roles(
        self, side: Side, tenant_id: str, organization_id: str, member_id: str, page: Page | None
    ) -> tuple[int, list[OrganizationRole]]:
        async with self.engine.connect() as conn:
            await self._require_membership(conn, side, tenant_id, organization_id, member_id)
            return await self.members.roles_page(conn, side, tenant_id, organization_id, member_id, page)

    async def _resolve(
        self, conn: AsyncConnection, side: Side, tenant_id: str, role_ids: Sequence[str], role_names: Sequence[str]
    ) -> list[str]:
        """Role ids, with the ids of the named roles after them (422 when a name is unknown), each once."""
        by_name = await self.members.role_ids_by_name(conn, tenant_id, _unique(role_names))
        missing = [n for n in _unique(role_names) if n not in by_name]
        if missing:
            raise Unprocessable("organization.role_names_not_found", names=", ".join(missing))
        resolved = _unique([*role_ids, *(by_name[n] for n in role_names)])
        await self._check_roles(conn, side, tenant_id, resolved)
        return resolved

    async def grant(
        self,
        side: Side,
        tenant_id: str,
        organization_id: str,
        member_id: str,
        role_ids: Sequence[str],
        role_names: Sequence[str] = (),
    ) -> list[str]:
        """Gives the member these roles (by id or name); returns the role ids, deduplicated."""
        async with self.engine.begin() as conn:
            await self._require_membership(conn, side, tenant_id, organization_id, member_id)
            resolved = await self._resolve(conn, side, tenant_id, role_ids, role_names)
            await self.members.grant(conn, side, tenant_id, organization_id, [(member_id, r) for r in resolved])
        return resolved

    async def replace_roles(
        self,
        side: Side,
        tenant_id: str,
        organization_id: str,
        member_id: str,
        role_ids: Sequence[str],
        role_names: Sequence[str] = (),
    ) -> None:
        async with self.engine.begin() as conn:
            await self._require_membership(conn, side, tenant_id, organization_id, member_id)
            resolved = await self._resolve(conn, side, tenant_id, role_ids, role_names)
            await self.members.revoke(conn, side, tenant_id, organization_id, member_id, None)
            await self.members.grant(conn, side, tenant_id, organization_id, [(member_id, r) for r in resolved])

    async def revoke(self, side: Side, tenant_id: str, organization_id: str, member_id: str, role_id: str) -> None:
        async with self.engine.begin() as conn:
            await self._require_membership(conn, side, tenant_id, organization_id, member_id)
            if not await self.members.revoke(conn, side, tenant_id, organization_id, member_id, [role_id]):
                raise NotFound("entity.not_found")

    async def user_scopes(self, tenant_id: str, organization_id: str, user_id: str) -> list[OrganizationScope]:
        async with self.engine.connect() as conn:
            await self._require_membership(conn, USERS, tenant_id, organization_id, user_id)
            return await self.members.user_scopes(conn, tenant_id, organization_id, user_id)
