"""Drops the memberships of deleted users and applications (identity's `User.Deleted`, management's
`Application.Deleted`).

The link tables hold ids of other contexts' rows without a foreign key, so the organizations service learns
of a deletion from the owning context's event and removes the links itself, roles included (they cascade
from the membership). Each event is handled by a durable consumer in one transaction with its inbox row
(`gatehouse_platform.consumer`), so a redelivered event changes nothing; every organization that lost a
member is announced as `Organization.Membership.Updated` (actor `system`). A deleted application's user consent
organizations go too (a deleted user's go with the memberships, by their foreign key); no event announces them,
as Logto has none for them. A deleted user's invitations, those they sent and those they accepted, are deleted
(Logto's `inviter_id` and `accepted_user_id` reference the user with `ON DELETE CASCADE`); pending invitations
to the user's email stay, since they name an email, not a user. No event either: Logto has no invitation hooks.
"""

from gatehouse_platform.outbox import Outbox
from gatehouse_schema.events import SYSTEM_ACTOR, ApplicationDeleted, CloudEvent, UserDeleted
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_organizations.persistence.consent_organizations import ConsentOrganizationStore
from gatehouse_organizations.persistence.memberships import APPLICATIONS, USERS, MembershipStore, Side
from gatehouse_organizations.persistence.organization_invitations import InvitationStore
from gatehouse_organizations.services.memberships import membership_event

USER_MEMBERSHIPS_CONSUMER = "organizations-user-memberships"
APPLICATION_MEMBERSHIPS_CONSUMER = "organizations-application-memberships"


def user_deleted_subject(prefix: str) -> str:
    return f"{prefix}.evt.*.{UserDeleted.context}.{UserDeleted.event_type}"


def application_deleted_subject(prefix: str) -> str:
    return f"{prefix}.evt.*.{ApplicationDeleted.context}.{ApplicationDeleted.event_type}"


class MemberCleanup:
    """The consumers' handler; runs inside the transaction that records the event in the inbox."""

    def __init__(
        self, members: MembershipStore, consents: ConsentOrganizationStore, invitations: InvitationStore, outbox: Outbox
    ) -> None:
        self.members = members
        self.consents = consents
        self.invitations = invitations
        self.outbox = outbox

    async def __call__(self, conn: AsyncConnection, event: CloudEvent) -> None:
        if event.type == UserDeleted.event_type:
            user_id = event.decode_data(UserDeleted).data.id
            await self.invitations.remove_user(conn, event.tenantid, user_id)
            await self._drop(conn, USERS, event.tenantid, user_id)
        elif event.type == ApplicationDeleted.event_type:
            application_id = event.decode_data(ApplicationDeleted).data.id
            await self.consents.remove_application(conn, event.tenantid, application_id)
            await self._drop(conn, APPLICATIONS, event.tenantid, application_id)

    async def _drop(self, conn: AsyncConnection, side: Side, tenant_id: str, member_id: str) -> None:
        for organization_id in await self.members.remove_everywhere(conn, side, tenant_id, member_id):
            event = membership_event(side, organization_id, [], [member_id])
            await self.outbox.append(conn, event, tenant_id=tenant_id, actor=SYSTEM_ACTOR)
