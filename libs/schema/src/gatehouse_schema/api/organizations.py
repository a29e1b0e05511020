"""Logto's Organization object, the membership shapes the Organizations routes return, invitations and the
just-in-time provisioning email domains."""

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from gatehouse_schema.api.applications import Application
from gatehouse_schema.api.users import FeaturedUser, User

#: Logto's `/^#[\da-f]{3}([\da-f]{3})?$/i`
HexColor = Annotated[str, Meta(pattern=r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")]


class OrganizationColor(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    primary_color: HexColor | UnsetType = UNSET
    is_dark_mode_enabled: bool | UnsetType = UNSET
    dark_primary_color: HexColor | UnsetType = UNSET


class OrganizationBranding(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """URLs of the organization's logos and favicons (each checked to be a URL on write)."""

    logo_url: str | UnsetType = UNSET
    dark_logo_url: str | UnsetType = UNSET
    favicon: str | UnsetType = UNSET
    dark_favicon: str | UnsetType = UNSET


class Organization(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    id: str
    name: str
    description: str | None
    custom_data: dict[str, Any]
    is_mfa_required: bool
    color: OrganizationColor
    branding: OrganizationBranding
    custom_css: str | None
    created_at: int


class OrganizationWithFeatured(Organization, kw_only=True):
    """An item of `GET /api/organizations`; the two counts only with `showFeatured`."""

    users_count: int | UnsetType = UNSET
    featured_users: list[FeaturedUser] | UnsetType = UNSET


class OrganizationRoleBrief(msgspec.Struct, rename="camel"):
    id: str
    name: str


class OrganizationWithRoles(Organization, kw_only=True):
    """An organization a user or an application belongs to, with the roles it holds there."""

    organization_roles: list[OrganizationRoleBrief]


class UserWithOrganizationRoles(User, kw_only=True):
    organization_roles: list[OrganizationRoleBrief]


class ApplicationWithOrganizationRoles(Application, kw_only=True):
    organization_roles: list[OrganizationRoleBrief]


class OrganizationInvitation(msgspec.Struct, kw_only=True, rename="camel"):
    """Logto's invitation entity: times in epoch milliseconds, and the organization roles (by name) the invitee
    gets on accepting. A Pending invitation past `expiresAt` is reported as Expired."""

    tenant_id: str
    id: str
    inviter_id: str | None
    invitee: str
    accepted_user_id: str | None
    organization_id: str
    status: str
    created_at: int
    updated_at: int
    expires_at: int
    organization_roles: list[OrganizationRoleBrief]


class OrganizationJitEmailDomain(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    organization_id: str
    email_domain: str
