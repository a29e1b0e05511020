"""Request and response bodies of the Organizations routes (Logto's field names)."""

from typing import Annotated, Any

import msgspec
from gatehouse_schema.api.organizations import Organization, OrganizationBranding, OrganizationColor
from msgspec import UNSET, Meta, UnsetType

Name = Annotated[str, Meta(min_length=1, max_length=128)]
Description = Annotated[str, Meta(max_length=256)]
Id = Annotated[str, Meta(min_length=1)]
SomeIds = Annotated[list[Id], Meta(min_length=1)]  # Logto's `.nonempty()`


class CreateOrganization(msgspec.Struct, kw_only=True, rename="camel"):
    name: Name
    description: Description | None = None
    custom_data: dict[str, Any] = msgspec.field(default_factory=dict)
    is_mfa_required: bool = False
    color: OrganizationColor = msgspec.field(default_factory=OrganizationColor)
    branding: OrganizationBranding = msgspec.field(default_factory=OrganizationBranding)
    custom_css: str | None = None
    created_at: float | UnsetType = UNSET  # epoch milliseconds, as Logto's create guard allows
    tenant_id: str | UnsetType = UNSET  # accepted and ignored: the tenant is the request's


class UpdateOrganization(msgspec.Struct, kw_only=True, rename="camel"):
    """Absent fields stay; `customData`, `color` and `branding` are replaced whole (Logto's PATCH)."""

    name: Name | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    custom_data: dict[str, Any] | UnsetType = UNSET
    is_mfa_required: bool | UnsetType = UNSET
    color: OrganizationColor | UnsetType = UNSET
    branding: OrganizationBranding | UnsetType = UNSET
    custom_css: str | UnsetType | None = UNSET
    created_at: float | UnsetType = UNSET
    tenant_id: str | UnsetType = UNSET


class AddUsers(msgspec.Struct, rename="camel"):
    user_ids: SomeIds


class ReplaceUsers(msgspec.Struct, rename="camel"):
    user_ids: list[Id]


class AddedUsers(msgspec.Struct, rename="camel"):
    user_ids: list[str]


class AddApplications(msgspec.Struct, rename="camel"):
    application_ids: SomeIds


class ReplaceApplications(msgspec.Struct, rename="camel"):
    application_ids: list[Id]


class UsersRoles(msgspec.Struct, rename="camel"):
    user_ids: SomeIds
    organization_role_ids: SomeIds


class ApplicationsRoles(msgspec.Struct, rename="camel"):
    application_ids: SomeIds
    organization_role_ids: SomeIds


class UserRoles(msgspec.Struct, kw_only=True, rename="camel"):
    """Roles by id, by name, or both."""

    organization_role_ids: list[Id] = msgspec.field(default_factory=list)
    organization_role_names: list[Id] = msgspec.field(default_factory=list)


class AssignedUserRoles(msgspec.Struct, rename="camel"):
    organization_role_ids: list[str]


class ApplicationRoles(msgspec.Struct, rename="camel"):
    organization_role_ids: SomeIds


class ConsentOrganizationIds(msgspec.Struct, rename="camel"):
    """POST and PUT of an application's user consent organizations. POST needs at least one id, checked after
    the application and the user (Logto's order), so the type takes an empty list too."""

    organization_ids: list[Id]


class ConsentOrganizations(msgspec.Struct):
    organizations: list[Organization]


EmailDomain = Annotated[str, Meta(min_length=1, max_length=128)]


class JitEmailDomain(msgspec.Struct, rename="camel"):
    email_domain: EmailDomain


class JitEmailDomains(msgspec.Struct, rename="camel"):
    email_domains: list[EmailDomain]


class JitRoles(msgspec.Struct, rename="camel"):
    organization_role_ids: SomeIds


class ReplaceJitRoles(msgspec.Struct, rename="camel"):
    organization_role_ids: list[Id]


class JitSsoConnectors(msgspec.Struct, rename="camel"):
    sso_connector_ids: SomeIds


class ReplaceJitSsoConnectors(msgspec.Struct, rename="camel"):
    sso_connector_ids: list[Id]
