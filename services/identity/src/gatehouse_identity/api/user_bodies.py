"""Request and response bodies of the Users routes (Logto's field names; UNSET keeps "absent" apart
from null). Formats Logto checks with its own error codes (email, phone) are checked in the domain."""

from typing import Annotated, Any

import msgspec
from gatehouse_schema.api.users import User
from msgspec import UNSET, Meta, UnsetType

from gatehouse_identity.passwords import PasswordAlgorithm

Identifier = Annotated[str, Meta(max_length=128)]
Name = Annotated[str, Meta(max_length=128)]
Avatar = Annotated[str, Meta(max_length=2048)]
Password = Annotated[str, Meta(min_length=1)]
PasswordDigest = Annotated[str, Meta(max_length=256)]


class Address(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    formatted: str | UnsetType = UNSET
    street_address: str | UnsetType = UNSET
    locality: str | UnsetType = UNSET
    region: str | UnsetType = UNSET
    postal_code: str | UnsetType = UNSET
    country: str | UnsetType = UNSET


class Profile(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """OIDC standard claims Logto keeps in `profile`; other keys are dropped, as Logto's guard does."""

    family_name: str | UnsetType = UNSET
    given_name: str | UnsetType = UNSET
    middle_name: str | UnsetType = UNSET
    nickname: str | UnsetType = UNSET
    preferred_username: str | UnsetType = UNSET
    profile: str | UnsetType = UNSET
    website: str | UnsetType = UNSET
    gender: str | UnsetType = UNSET
    birthdate: str | UnsetType = UNSET
    zoneinfo: str | UnsetType = UNSET
    locale: str | UnsetType = UNSET
    address: Address | UnsetType = UNSET


class CreateUser(msgspec.Struct, kw_only=True, rename="camel"):
    primary_phone: Identifier | UnsetType = UNSET
    primary_email: Identifier | UnsetType = UNSET
    username: Identifier | UnsetType = UNSET
    password: Password | UnsetType = UNSET
    password_digest: PasswordDigest | UnsetType = UNSET
    password_algorithm: PasswordAlgorithm | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    avatar: Avatar | UnsetType | None = UNSET
    custom_data: dict[str, Any] | UnsetType = UNSET
    profile: Profile | UnsetType = UNSET


class UpdateUser(msgspec.Struct, kw_only=True, rename="camel"):
    """`""` clears a field like null does; `customData` and `profile` replace the stored objects."""

    username: Identifier | UnsetType | None = UNSET
    primary_email: Identifier | UnsetType | None = UNSET
    primary_phone: Identifier | UnsetType | None = UNSET
    name: Name | UnsetType | None = UNSET
    avatar: Avatar | UnsetType | None = UNSET
    custom_data: dict[str, Any] | UnsetType = UNSET
    profile: Profile | UnsetType = UNSET


class CustomDataPatch(msgspec.Struct, rename="camel"):
    custom_data: dict[str, Any]


class ProfilePatch(msgspec.Struct, rename="camel"):
    profile: Profile


class PasswordBody(msgspec.Struct, rename="camel"):
    password: Password


class PasswordExpiration(msgspec.Struct, rename="camel"):
    is_expired: bool


class Suspension(msgspec.Struct, rename="camel"):
    is_suspended: bool


class HasPassword(msgspec.Struct, rename="camel"):
    has_password: bool


class MfaPatch(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    enabled: bool | UnsetType = UNSET
    skipped: bool | UnsetType = UNSET
    additional_binding_suggestion_skipped: bool | UnsetType = UNSET
    skip_mfa_on_sign_in: bool | UnsetType = UNSET


class PasskeySignInPatch(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    skipped: bool | UnsetType = UNSET


class LogtoConfigPatch(msgspec.Struct, kw_only=True, rename="camel"):
    mfa: MfaPatch | UnsetType = UNSET
    passkey_sign_in: PasskeySignInPatch | UnsetType = UNSET


class MfaState(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    enabled: bool | UnsetType = UNSET
    skipped: bool
    skip_mfa_on_sign_in: bool


class PasskeySignInState(msgspec.Struct, kw_only=True, rename="camel"):
    skipped: bool


class LogtoConfigs(msgspec.Struct, kw_only=True, rename="camel"):
    """The part of a user's `logto_config` the Management API exposes."""

    mfa: MfaState
    passkey_sign_in: PasskeySignInState


class UserDetail(User):
    """GetUser with `includeSsoIdentities` (the Struct config, camelCase keys, is inherited)."""

    sso_identities: list[dict[str, Any]]
