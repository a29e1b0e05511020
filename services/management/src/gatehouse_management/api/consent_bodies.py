"""Bodies and answers of the user-consent-scopes routes."""

from typing import Literal

import msgspec

UserScope = Literal[
    "profile",
    "email",
    "phone",
    "address",
    "custom_data",
    "identities",
    "roles",
    "urn:logto:scope:organizations",
    "urn:logto:scope:organization_roles",
    "urn:logto:scope:sessions",
    "urn:logto:scope:trusted_devices",
]
ScopeType = Literal["organization-scopes", "resource-scopes", "organization-resource-scopes", "user-scopes"]


class AssignConsentScopes(msgspec.Struct, kw_only=True, rename="camel"):
    organization_scopes: list[str] = msgspec.field(default_factory=list)
    resource_scopes: list[str] = msgspec.field(default_factory=list)
    organization_resource_scopes: list[str] = msgspec.field(default_factory=list)
    user_scopes: list[UserScope] = msgspec.field(default_factory=list)


class ScopeSummary(msgspec.Struct):
    id: str
    name: str
    description: str | None


class ResourceSummary(msgspec.Struct):
    id: str
    name: str
    indicator: str


class ResourceScopes(msgspec.Struct):
    resource: ResourceSummary
    scopes: list[ScopeSummary]


class ConsentScopes(msgspec.Struct, rename="camel"):
    organization_scopes: list[ScopeSummary]
    resource_scopes: list[ResourceScopes]
    organization_resource_scopes: list[ResourceScopes]
    user_scopes: list[str]
