"""Events of the organizations context: organizations and their members (Logto's hook names)."""

from typing import ClassVar

import msgspec

from gatehouse_schema.api.organizations import Organization
from gatehouse_schema.events.envelope import EventData


class _OrganizationEvent(EventData, kw_only=True):
    context: ClassVar[str] = "organizations"


class OrganizationCreated(_OrganizationEvent, kw_only=True):
    event_type: ClassVar[str] = "Organization.Created"
    description: ClassVar[str] = "An organization was created."
    data: Organization

    def entity_id(self) -> str:
        return self.data.id


class OrganizationDataUpdated(_OrganizationEvent, kw_only=True):
    event_type: ClassVar[str] = "Organization.Data.Updated"
    description: ClassVar[str] = (
        "An organization's name, description, custom data, MFA requirement, colors, branding or CSS changed."
    )
    data: Organization

    def entity_id(self) -> str:
        return self.data.id


class OrganizationDeleted(_OrganizationEvent, kw_only=True):
    event_type: ClassVar[str] = "Organization.Deleted"
    description: ClassVar[str] = "An organization was deleted, with its memberships and their roles."
    data: Organization

    def entity_id(self) -> str:
        return self.data.id


class OrganizationMembershipUpdated(_OrganizationEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "Organization.Membership.Updated"
    description: ClassVar[str] = (
        "Users or machine-to-machine applications joined or left an organization (added, removed, replaced, a user "
        "who accepted an invitation, or dropped because the user or application was deleted; a member's roles go "
        "with its membership)."
    )
    organization_id: str
    added_user_ids: list[str] = msgspec.field(default_factory=list)
    removed_user_ids: list[str] = msgspec.field(default_factory=list)
    added_application_ids: list[str] = msgspec.field(default_factory=list)
    removed_application_ids: list[str] = msgspec.field(default_factory=list)

    def entity_id(self) -> str:
        return self.organization_id
