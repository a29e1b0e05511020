"""Bodies of the per-application settings routes: sign-in experience and access control."""

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

HexColor = Annotated[str, Meta(pattern=r"^#[\da-fA-F]{3}([\da-fA-F]{3})?$")]
Url = Annotated[str, Meta(max_length=2048, pattern=r"^https?://\S+$")]


class Color(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    primary_color: HexColor | UnsetType = UNSET
    is_dark_mode_enabled: bool | UnsetType = UNSET
    dark_primary_color: HexColor | UnsetType = UNSET


class Branding(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    logo_url: Url | UnsetType = UNSET
    dark_logo_url: Url | UnsetType = UNSET
    favicon: Url | UnsetType = UNSET
    dark_favicon: Url | UnsetType = UNSET


class ReplaceSignInExperience(msgspec.Struct, kw_only=True, rename="camel"):
    terms_of_use_url: Annotated[str, Meta(max_length=2048)] | None  # a URL, or "" for none
    privacy_policy_url: Annotated[str, Meta(max_length=2048)] | None
    color: Color = msgspec.field(default_factory=Color)
    branding: Branding = msgspec.field(default_factory=Branding)
    custom_css: str | None = None
    display_name: Annotated[str, Meta(max_length=256)] | None = None


class ApplicationSignInExperience(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    application_id: str
    color: dict[str, Any]
    branding: dict[str, Any]
    custom_css: str | None
    terms_of_use_url: str | None
    privacy_policy_url: str | None
    display_name: str | None


class OrganizationRoleRule(msgspec.Struct, kw_only=True, rename="camel"):
    organization_id: str
    organization_role_ids: list[str]


class AccessControl(msgspec.Struct, kw_only=True, rename="camel"):
    user_ids: list[str]
    user_role_ids: list[str]
    organization_ids: list[str]
    organization_role_rules: list[OrganizationRoleRule]


EMPTY_ACCESS_CONTROL = AccessControl(user_ids=[], user_role_ids=[], organization_ids=[], organization_role_rules=[])
