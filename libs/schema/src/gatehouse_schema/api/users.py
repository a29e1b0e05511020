"""Logto's user object as the Management API returns it (no password material)."""

from typing import Any

import msgspec


class User(msgspec.Struct, kw_only=True, rename="camel"):
    id: str
    username: str | None
    primary_email: str | None
    primary_phone: str | None
    name: str | None
    avatar: str | None
    custom_data: dict[str, Any]
    identities: dict[str, Any]
    last_sign_in_at: int | None
    created_at: int
    updated_at: int
    profile: dict[str, Any]
    application_id: str | None
    cimd_client_id: str | None = None
    is_suspended: bool
    has_password: bool


class FeaturedUser(msgspec.Struct, rename="camel"):
    id: str
    avatar: str | None
    name: str | None
