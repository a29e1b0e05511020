"""Bodies of the Account center routes: Logto's `AccountCenters` row (`routes/account-center`)."""

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

Control = Literal["Off", "ReadOnly", "Edit"]


class FieldControls(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """Logto's `accountCenterFieldControlGuard`: every key optional (absent reads as `Off`); keys the contract
    does not list are dropped, as zod's object guard strips them."""

    name: Control | UnsetType = UNSET
    avatar: Control | UnsetType = UNSET
    profile: Control | UnsetType = UNSET
    email: Control | UnsetType = UNSET
    phone: Control | UnsetType = UNSET
    password: Control | UnsetType = UNSET
    username: Control | UnsetType = UNSET
    social: Control | UnsetType = UNSET
    custom_data: Control | UnsetType = UNSET
    mfa: Control | UnsetType = UNSET
    passkey: Control | UnsetType = UNSET
    session: Control | UnsetType = UNSET


class ProfileFieldRef(msgspec.Struct, kw_only=True):
    name: str


class AccountCenter(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    id: str
    enabled: bool
    fields: FieldControls
    webauthn_related_origins: list[str]
    delete_account_url: str | None
    custom_css: str | None
    profile_fields: list[ProfileFieldRef] | None


class UpdateAccountCenter(msgspec.Struct, kw_only=True, rename="camel"):
    enabled: bool | UnsetType = UNSET
    fields: FieldControls | UnsetType = UNSET
    webauthn_related_origins: list[str] | UnsetType = UNSET
    delete_account_url: Annotated[str, Meta(max_length=2048)] | UnsetType | None = UNSET
    custom_css: str | UnsetType | None = UNSET
    profile_fields: list[ProfileFieldRef] | UnsetType | None = UNSET
