"""Logto's organization template objects: organization scopes, organization roles and the role list's shape."""

from typing import Literal

import msgspec

OrganizationRoleType = Literal["User", "MachineToMachine"]


class OrganizationScope(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    id: str
    name: str
    description: str | None


class OrganizationRole(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    id: str
    name: str
    description: str | None
    type: OrganizationRoleType


class OrganizationScopeBrief(msgspec.Struct, kw_only=True):
    """An organization scope as a role in `GET /api/organization-roles` lists it."""

    id: str
    name: str


class ResourceBrief(msgspec.Struct, kw_only=True):
    id: str
    name: str


class ResourceScopeBrief(msgspec.Struct, kw_only=True):
    """An API resource scope as a role in `GET /api/organization-roles` lists it, with its resource."""

    id: str
    name: str
    resource: ResourceBrief


class OrganizationRoleWithScopes(OrganizationRole, kw_only=True):
    scopes: list[OrganizationScopeBrief]
    resource_scopes: list[ResourceScopeBrief]
