"""Organization invitation use cases (Logto's `OrganizationInvitationLibrary`).

Each command is one transaction. The invitation email (a `messagePayload` object on creation, `POST
.../message`) goes through the tenant's Email connector (management's, read with
`gatehouse_schema.queries.management`) with its `OrganizationInvitation` template, the payload merged over
Logto's template context (`organization`: id, name, branding; `inviter`: id, avatar, name, primaryEmail,
primaryPhone, username, profile). A tenant without one gets Logto's 501 `connector.not_found`, after the same
checks Logto makes first. Creation sends inside its transaction, as Logto does: a failed send (the
connector's error, e.g. 500 `connector.general` for an SMTP refusal) rolls it back, so nothing is written.
Accepting an invitation makes the user a member of the organization with the invitation's roles in the same
transaction, announced as `Organization.Membership.Updated`; Logto has no hook events for invitations
themselves.
"""

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import msgspec
from gatehouse_connectors import FACTORIES, ConnectorFactory
from gatehouse_platform.errors import BadRequest, GatehouseError, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.api.organizations import OrganizationInvitation
from gatehouse_schema.events import Actor
from gatehouse_schema.ids import generate_id
from gatehouse_schema.queries import identity as identity_reads
from gatehouse_schema.queries import management as management_reads
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_organizations.api.organization_invitations_bodies import (
    CreateOrganizationInvitation,
    MessagePayload,
)
from gatehouse_organizations.persistence.memberships import USERS, MembershipStore
from gatehouse_organizations.persistence.organization_invitations import (
    ACCEPTED,
    PENDING,
    InvitationFilter,
    InvitationRole,
    InvitationStore,
)
from gatehouse_organizations.persistence.organizations import OrganizationStore
from gatehouse_organizations.services.memberships import membership_event
from gatehouse_organizations.services.organizations import MAX_EPOCH_MS

UNKNOWN_RELATION = "entity.relation_foreign_key_not_found"
INVITATION_TEMPLATE = "OrganizationInvitation"  # Logto's `TemplateType.OrganizationInvitation`
# Logto's `buildUserContextInfo`: what an invitation email may say of its inviter
INVITER_FIELDS = ("id", "avatar", "name", "primaryEmail", "primaryPhone", "username", "profile")


def no_email_connector() -> GatehouseError:
    """Logto's answer when a message needs an email connector and the tenant has none."""
    return GatehouseError("connector.not_found", status=501, type="Email")


def _invitation_not_found() -> NotFound:
    return NotFound("entity.not_found")  # Logto reads invitations with `pool.one`: a miss is `entity.not_found`


def _invalid(details: str, status: int = 422) -> GatehouseError:
    return GatehouseError("request.invalid_input", status=status, details=details)


def _expiry(epoch_ms: float) -> datetime:
    if epoch_ms > MAX_EPOCH_MS:
        raise BadRequest("request.invalid_input", details="`expiresAt` is out of range.")
    expires_at = datetime.fromtimestamp(max(epoch_ms, 0) / 1000, UTC)
    if expires_at <= datetime.now(UTC):
        raise BadRequest("request.invalid_input", details="The value of `expiresAt` must be in the future.")
    return expires_at


class OrganizationInvitationService:
    def __init__(
        self,
        engine: AsyncEngine,
        invitations: InvitationStore,
        organizations: OrganizationStore,
        members: MembershipStore,
        outbox: Outbox,
        factories: Mapping[str, ConnectorFactory] = FACTORIES,
    ) -> None:
        self.engine = engine
        self.invitations = invitations
        self.organizations = organizations
        self.members = members
        self.outbox = outbox
        self.email_factories = [id for id, factory in factories.items() if factory.metadata.type == "Email"]
        self.factories = factories

    async def _find(self, conn: AsyncConnection, tenant_id: str, invitation_id: str) -> OrganizationInvitation:
        found = await self.invitations.get(conn, tenant_id, invitation_id)
        if found is None:
            raise _invitation_not_found()
        return found[0]

    async def _is_member(self, conn: AsyncConnection, tenant_id: str, organization_id: str, email: str) -> bool:
        """Logto's `isMember`: a member of the organization has exactly this primary email."""
        users = await identity_reads.user_ids_with_primary_email(conn, tenant_id, email)
        return bool(users and await self.members.member_ids(conn, USERS, tenant_id, organization_id, list(users)))

    async def _check_references(
        self, conn: AsyncConnection, tenant_id: str, body: CreateOrganizationInvitation
    ) -> None:
        """The organization, the inviter and the roles exist (Logto's foreign keys): else 422."""
        if await self.organizations.get(conn, tenant_id, body.organization_id) is None:
            raise Unprocessable(UNKNOWN_RELATION)
        if body.inviter_id is not None and not await identity_reads.existing_user_ids(
            conn, tenant_id, [body.inviter_id]
        ):
            raise Unprocessable(UNKNOWN_RELATION)
        roles = list(dict.fromkeys(body.organization_role_ids))
        if len(await self.members.roles_by_id(conn, tenant_id, roles)) < len(roles):
            raise Unprocessable(UNKNOWN_RELATION)

    async def _template_context(
        self, conn: AsyncConnection, tenant_id: str, organization_id: str, inviter_id: str | None
    ) -> dict[str, Any]:
        """Logto's `getOrganizationInvitationTemplateContext`."""
        organization = await self.organizations.get(conn, tenant_id, organization_id)
        if organization is None:
            raise NotFound("entity.not_found")
        context: dict[str, Any] = {
            "organization": {
                "id": organization.id,
                "name": organization.name,
                "branding": msgspec.to_builtins(organization.branding),
            }
        }
        inviter = await identity_reads.get_user(conn, tenant_id, inviter_id) if inviter_id else None
        if inviter is not None:
            user = msgspec.to_builtins(inviter)
            context["inviter"] = {key: user.get(key) for key in INVITER_FIELDS}
        return context

    async def _email(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        invitation: OrganizationInvitation,
        payload: MessagePayload,
    ) -> Callable[[], Awaitable[None]]:
        """Logto's `sendEmail` with the template context, ready to send: through the tenant's Email connector
        (501 without one)."""
        connector = await management_reads.message_connector(conn, tenant_id, self.email_factories)
        if connector is None:
            raise no_email_connector()
        context = await self._template_context(conn, tenant_id, invitation.organization_id, invitation.inviter_id)
        values = context | msgspec.to_builtins(payload)
        factory = self.factories[connector.connector_id]
        return partial(factory.send_message, connector.config, invitation.invitee, INVITATION_TEMPLATE, values)

    # reads

    async def get(self, tenant_id: str, invitation_id: str) -> OrganizationInvitation:
        async with self.engine.connect() as conn:
            return await self._find(conn, tenant_id, invitation_id)

    async def find(self, tenant_id: str, where: InvitationFilter) -> list[OrganizationInvitation]:
        async with self.engine.connect() as conn:
            return await self.invitations.find(conn, tenant_id, where)

    # commands

    async def create(self, tenant_id: str, body: CreateOrganizationInvitation) -> OrganizationInvitation:
        if body.message_payload is True:
            raise BadRequest("guard.invalid_input", "The request body is invalid: `messagePayload` must be false.")
        expires_at = _expiry(body.expires_at)
        invitation_id = generate_id()
        async with self.engine.begin() as conn:
            if await self._is_member(conn, tenant_id, body.organization_id, body.invitee):
                raise _invalid("The invitee is already a member of the organization.")
            await self._check_references(conn, tenant_id, body)
            # an expired pending invitation must not hold the invitee's one pending slot
            await self.invitations.expire_pending(conn, tenant_id, body.organization_id, body.invitee)
            values = {
                "tenant_id": tenant_id,
                "id": invitation_id,
                "inviter_id": body.inviter_id,
                "invitee": body.invitee,
                "organization_id": body.organization_id,
                "expires_at": expires_at,
            }
            if not await self.invitations.insert(conn, values):
                raise Unprocessable("entity.unique_integrity_violation")
            roles = list(dict.fromkeys(body.organization_role_ids))
            await self.invitations.grant_roles(conn, tenant_id, invitation_id, roles)
            invitation = await self._find(conn, tenant_id, invitation_id)
            if isinstance(body.message_payload, MessagePayload):
                # before the commit: a failed send rolls the invitation back
                send = await self._email(conn, tenant_id, invitation, body.message_payload)
                await send()
            return invitation

    async def send_message(self, tenant_id: str, invitation_id: str, payload: MessagePayload) -> None:
        """Sends the invitation email again, whatever the invitation's status (as Logto does)."""
        async with self.engine.connect() as conn:
            invitation = await self._find(conn, tenant_id, invitation_id)
            send = await self._email(conn, tenant_id, invitation, payload)
        await send()  # no connection held while the email goes out

    async def delete(self, tenant_id: str, invitation_id: str) -> None:
        async with self.engine.begin() as conn:
            if not await self.invitations.delete(conn, tenant_id, invitation_id):
                raise _invitation_not_found()

    async def set_status(
        self, tenant_id: str, invitation_id: str, status: str, accepted_user_id: str | None, actor: Actor | None
    ) -> OrganizationInvitation:
        """Accepted (by `accepted_user_id`, whose primary email must be the invitee's) or Revoked; an invitation
        that is no longer Pending (accepted, revoked or expired) cannot change."""
        if status == ACCEPTED and not accepted_user_id:
            raise _invalid("The `acceptedUserId` is required when accepting an invitation.")
        async with self.engine.begin() as conn:
            found = await self.invitations.get(conn, tenant_id, invitation_id, lock=True)
            if found is None:
                raise _invitation_not_found()
            invitation, roles = found
            if invitation.status != PENDING:
                raise _invalid("The status of the invitation cannot be changed anymore.")
            if status == ACCEPTED:
                assert accepted_user_id is not None
                await self._accept(conn, tenant_id, invitation, roles, accepted_user_id, actor)
            else:
                accepted_user_id = None  # only acceptance records a user (Logto ignores it on revocation)
            updated_at = await self.invitations.set_status(conn, tenant_id, invitation_id, status, accepted_user_id)
        return msgspec.structs.replace(
            invitation,
            status=status,
            accepted_user_id=accepted_user_id or invitation.accepted_user_id,
            updated_at=int(updated_at.timestamp() * 1000),
        )

    async def _accept(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        invitation: OrganizationInvitation,
        roles: list[InvitationRole],
        user_id: str,
        actor: Actor | None,
    ) -> None:
        emails = await identity_reads.user_primary_emails(conn, tenant_id, [user_id])
        if user_id not in emails:
            raise NotFound("entity.not_found")  # Logto's `findUserById` miss
        email = emails[user_id]
        if email is None or email.lower() != invitation.invitee.lower():
            raise _invalid("The accepted user must have the same email as the invitee.")
        if any(role.type != USERS.role_type for role in roles):
            raise Unprocessable("entity.db_constraint_violated")  # a user cannot hold a machine-to-machine role
        organization_id = invitation.organization_id
        # membership writes lock the organization first (see `MembershipService`)
        await self.organizations.get(conn, tenant_id, organization_id, lock=True)
        added = await self.members.add(conn, USERS, tenant_id, organization_id, [user_id])
        await self.members.grant(conn, USERS, tenant_id, organization_id, [(user_id, r.id) for r in roles])
        if added:
            event = membership_event(USERS, organization_id, added, [])
            await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
