"""Just-in-time provisioning of users into organizations (Logto's `provisionOrganizations`), and the cleanup of a
deleted enterprise SSO connector's rules.

Identity tells how a user came through the Experience API, in the transaction that made it so:
`User.Registered` (a new user: their primary email, and the SSO connector of an enterprise SSO registration) and
`User.SsoIdentity.Linked` (an existing user's first sign-in through an SSO connector, linked by the IdP's email).
As Logto's experience: a user of an SSO connector joins the organizations whose JIT SSO connectors include it;
another new user joins those whose JIT email domains include their email's domain (the part after the `@`,
compared as stored). Each joins with the organization's JIT default roles of type `User` (a user cannot hold a
machine-to-machine role; Logto's constraint would refuse one). A user who is a member already keeps the
membership and gets the roles they lack; each organization the user joined is announced as
`Organization.Membership.Updated` with `addedUserIds` (actor `system`), as Logto announces it. The organizations
are locked in id order, as the membership routes lock them; a user deleted meanwhile is provisioned nowhere.

Management's `SsoConnector.Deleted` removes the connector from every organization's JIT SSO connectors (Logto's
foreign key cascades); no event, as for the rules' routes.

Durable consumers `organizations-user-registrations`, `organizations-sso-identity-links` and
`organizations-jit-sso-connectors` (one filter subject each); every event is handled in one transaction with its
inbox row, so a redelivered one changes nothing.
"""

from gatehouse_platform.outbox import Outbox
from gatehouse_schema.events import (
    SYSTEM_ACTOR,
    CloudEvent,
    EventData,
    SsoConnectorDeleted,
    UserRegistered,
    UserSsoIdentityLinked,
)
from gatehouse_schema.queries import identity as identity_reads
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_organizations.persistence.memberships import USERS, MembershipStore
from gatehouse_organizations.persistence.organization_jit import JitStore
from gatehouse_organizations.persistence.organizations import OrganizationStore
from gatehouse_organizations.services.memberships import membership_event

USER_REGISTRATIONS_CONSUMER = "organizations-user-registrations"
SSO_IDENTITY_LINKS_CONSUMER = "organizations-sso-identity-links"
JIT_SSO_CONNECTORS_CONSUMER = "organizations-jit-sso-connectors"


def subject_of(prefix: str, event: type[EventData]) -> str:
    return f"{prefix}.evt.*.{event.context}.{event.event_type}"


def email_domain(email: str | None) -> str | None:
    """Logto's `email?.split('@')[1]`."""
    parts = (email or "").split("@")
    return parts[1] if len(parts) > 1 and parts[1] else None


class JitProvisioning:
    """The provisioning consumers' handler; runs inside the transaction that records the event in the inbox."""

    def __init__(
        self, organizations: OrganizationStore, members: MembershipStore, jit: JitStore, outbox: Outbox
    ) -> None:
        self.organizations = organizations
        self.members = members
        self.jit = jit
        self.outbox = outbox

    async def __call__(self, conn: AsyncConnection, event: CloudEvent) -> None:
        tenant_id = event.tenantid
        if event.type == UserRegistered.event_type:
            registered = event.decode_data(UserRegistered)
            user_id, connector_id = registered.user_id, registered.sso_connector_id
            domain = None if connector_id else email_domain(registered.primary_email)
        elif event.type == UserSsoIdentityLinked.event_type:
            linked = event.decode_data(UserSsoIdentityLinked)
            user_id, connector_id, domain = linked.user_id, linked.sso_connector_id, None
        else:
            return
        if connector_id:
            organization_ids = await self.jit.organizations_of_sso_connector(conn, tenant_id, connector_id)
        elif domain:
            organization_ids = await self.jit.organizations_of_email_domain(conn, tenant_id, domain)
        else:
            return
        await self.provision(conn, tenant_id, user_id, organization_ids)

    async def provision(self, conn: AsyncConnection, tenant_id: str, user_id: str, organization_ids: list[str]) -> None:
        if not organization_ids or not await identity_reads.existing_user_ids(conn, tenant_id, [user_id]):
            return
        locked = [
            organization_id
            for organization_id in sorted(organization_ids)
            if await self.organizations.get(conn, tenant_id, organization_id, lock=True) is not None
        ]
        roles = await self.jit.user_role_ids(conn, tenant_id, locked)
        for organization_id in locked:
            added = await self.members.add(conn, USERS, tenant_id, organization_id, [user_id])
            pairs = [(user_id, role_id) for role_id in roles.get(organization_id, [])]
            await self.members.grant(conn, USERS, tenant_id, organization_id, pairs)
            if added:
                update = membership_event(USERS, organization_id, added, [])
                await self.outbox.append(conn, update, tenant_id=tenant_id, actor=SYSTEM_ACTOR)


class JitSsoConnectorCleanup:
    """The `organizations-jit-sso-connectors` consumer's handler."""

    def __init__(self, jit: JitStore) -> None:
        self.jit = jit

    async def __call__(self, conn: AsyncConnection, event: CloudEvent) -> None:
        if event.type == SsoConnectorDeleted.event_type:
            await self.jit.drop_sso_connector(conn, event.tenantid, event.decode_data(SsoConnectorDeleted).data.id)
