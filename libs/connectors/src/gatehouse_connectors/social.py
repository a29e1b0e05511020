"""What a social connector hands back after the provider's round trip."""

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType


class SocialUserInfo(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Logto's `SocialUserInfo`: stored whole as the identity's `details`."""

    id: str
    email: str | UnsetType = UNSET
    phone: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    avatar: str | UnsetType = UNSET
    raw_data: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="rawData")


class TokenSet(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The provider's tokens, kept in the secret vault when the connector stores them."""

    access_token: str
    token_type: str | UnsetType = UNSET
    scope: str | UnsetType = UNSET
    refresh_token: str | UnsetType = UNSET
    id_token: str | UnsetType = UNSET
    expires_at: int | UnsetType = UNSET
    """Seconds since the epoch."""


class SocialResult(msgspec.Struct, kw_only=True):
    user_info: SocialUserInfo
    tokens: TokenSet
