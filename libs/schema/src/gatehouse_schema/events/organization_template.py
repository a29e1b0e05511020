"""Events of the organization template (organization roles and scopes), in the organizations context."""

from typing import ClassVar

import msgspec

from gatehouse_schema.api.organization_template import OrganizationRole, OrganizationScope
from gatehouse_schema.events.envelope import EventData


class _TemplateEvent(EventData, kw_only=True):
    context: ClassVar[str] = "organizations"


class OrganizationScopeCreated(_TemplateEvent, kw_only=True):
    event_type: ClassVar[str] = "OrganizationScope.Created"
    description: ClassVar[str] = "An organization scope was added to the organization template."
    data: OrganizationScope

    def entity_id(self) -> str:
        return self.data.id


class OrganizationScopeDataUpdated(_TemplateEvent, kw_only=True):
    event_type: ClassVar[str] = "OrganizationScope.Data.Updated"
    description: ClassVar[str] = "An organization scope's name or description changed."
    data: OrganizationScope

    def entity_id(self) -> str:
        return self.data.id


class OrganizationScopeDeleted(_TemplateEvent, kw_only=True):
    event_type: ClassVar[str] = "OrganizationScope.Deleted"
    description: ClassVar[str] = "An organization scope was deleted (and removed from every organization role)."
    data: OrganizationScope

    def entity_id(self) -> str:
        return self.data.id


class OrganizationRoleCreated(_TemplateEvent, kw_only=True):
    event_type: ClassVar[str] = "OrganizationRole.Created"
    description: ClassVar[str] = (
        "An organization role was added to the organization template (its initial scopes, if any, follow as "
        "`OrganizationRole.Scopes.Updated`)."
    )
    data: OrganizationRole

    def entity_id(self) -> str:
        return self.data.id


class OrganizationRoleDataUpdated(_TemplateEvent, kw_only=True):
    event_type: ClassVar[str] = "OrganizationRole.Data.Updated"
    description: ClassVar[str] = "An organization role's name, description or type changed."
    data: OrganizationRole

    def entity_id(self) -> str:
        return self.data.id


class OrganizationRoleDeleted(_TemplateEvent, kw_only=True):
    event_type: ClassVar[str] = "OrganizationRole.Deleted"
    description: ClassVar[str] = (
        "An organization role was deleted (with its scope links, and removed from every organization member)."
    )
    data: OrganizationRole

    def entity_id(self) -> str:
        return self.data.id


class OrganizationRoleScopesUpdated(_TemplateEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "OrganizationRole.Scopes.Updated"
    description: ClassVar[str] = (
        "Organization scopes or API resource scopes were linked to or unlinked from an organization role "
        "(also when management deletes a linked resource scope)."
    )
    organization_role_id: str
    added_organization_scope_ids: list[str] = msgspec.field(default_factory=list)
    removed_organization_scope_ids: list[str] = msgspec.field(default_factory=list)
    added_resource_scope_ids: list[str] = msgspec.field(default_factory=list)
    removed_resource_scope_ids: list[str] = msgspec.field(default_factory=list)

    def entity_id(self) -> str:
        return self.organization_role_id
