"""Request bodies of the Organization roles routes."""

from typing import Annotated

import msgspec
from gatehouse_schema.api.organization_template import OrganizationRoleType
from msgspec import UNSET, Meta, UnsetType

from gatehouse_organizations.api.organization_scopes_bodies import Description, TenantId

RoleName = Annotated[str, Meta(min_length=1, max_length=128)]
Id = Annotated[str, Meta(min_length=1)]


class CreateOrganizationRole(msgspec.Struct, kw_only=True, rename="camel"):
    name: RoleName
    description: Description | None = None
    type: OrganizationRoleType = "User"
    organization_scope_ids: list[str] = msgspec.field(default_factory=list)
    resource_scope_ids: list[str] = msgspec.field(default_factory=list)
    tenant_id: TenantId | UnsetType = UNSET  # accepted and ignored: the tenant comes from the request


class UpdateOrganizationRole(msgspec.Struct, kw_only=True, rename="camel"):
    name: RoleName | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    type: OrganizationRoleType | UnsetType = UNSET
    tenant_id: TenantId | UnsetType = UNSET


class AddOrganizationScopes(msgspec.Struct, rename="camel"):
    organization_scope_ids: Annotated[list[Id], Meta(min_length=1)]


class ReplaceOrganizationScopes(msgspec.Struct, rename="camel"):
    """An empty list unlinks every organization scope."""

    organization_scope_ids: list[Id]


class AddResourceScopes(msgspec.Struct, rename="camel"):
    scope_ids: Annotated[list[Id], Meta(min_length=1)]


class ReplaceResourceScopes(msgspec.Struct, rename="camel"):
    """An empty list unlinks every resource scope."""

    scope_ids: list[Id]
