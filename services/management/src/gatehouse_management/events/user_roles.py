"""Consumes identity's user lifecycle events to keep `management.users_roles` in step with the users.

Runs as the durable consumer `management-user-roles`: a new user gets the tenant's default User roles,
a deleted user loses every role link. Management is the only writer of `users_roles` (one writer per
table), so identity announces the user and management makes the links; the assignment is therefore
eventual, within the consumer's latency. Each event is handled in one transaction with its inbox row
(see `gatehouse_platform.consumer`), and every change is announced as `Role.Users.Updated`.
"""

from gatehouse_platform.outbox import Outbox
from gatehouse_schema.events import SYSTEM_ACTOR, CloudEvent, RoleUsersUpdated, UserCreated, UserDeleted
from gatehouse_schema.queries.identity import user_created_at
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_management.persistence.role_members import RoleMemberStore

USER_ROLES_CONSUMER = "management-user-roles"
CONSUMED_TYPES = (UserCreated, UserDeleted)


CONSUMED_EVENT_TYPES = frozenset(t.event_type for t in CONSUMED_TYPES)


def consumed_subject(prefix: str) -> str:
    """Identity's user events (the consumer handles `CONSUMED_EVENT_TYPES` and acknowledges the others)."""
    return f"{prefix}.evt.*.identity.User.>"


class UserRoleLinks:
    """The consumer's handler; runs inside the transaction that records the event in the inbox."""

    def __init__(self, members: RoleMemberStore, outbox: Outbox) -> None:
        self.members = members
        self.outbox = outbox

    async def __call__(self, conn: AsyncConnection, event: CloudEvent) -> None:
        tenant_id = event.tenantid
        if event.type == UserCreated.event_type:
            user_id = event.decode_data(UserCreated).data.id
            # the row's created_at, not the event's `createdAt` (milliseconds): the link keeps the exact value
            # the users are ordered by
            created = (await user_created_at(conn, tenant_id, [user_id])).get(user_id)
            if created is None:
                return  # deleted again before this event was handled: no links for a user that is gone
            for role_id in await self.members.add_default_roles(conn, tenant_id, user_id, created):
                await self._announce(
                    conn, tenant_id, RoleUsersUpdated(role_id=role_id, added_user_ids=[user_id], removed_user_ids=[])
                )
        elif event.type == UserDeleted.event_type:
            user_id = event.decode_data(UserDeleted).data.id
            for role_id in await self.members.remove_all_user_roles(conn, tenant_id, user_id):
                await self._announce(
                    conn, tenant_id, RoleUsersUpdated(role_id=role_id, added_user_ids=[], removed_user_ids=[user_id])
                )

    async def _announce(self, conn: AsyncConnection, tenant_id: str, event: RoleUsersUpdated) -> None:
        await self.outbox.append(conn, event, tenant_id=tenant_id, actor=SYSTEM_ACTOR)
