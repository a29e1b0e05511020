"""Request bodies of the Resources routes."""

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

NonEmpty = Annotated[str, Meta(min_length=1)]
ScopeName = Annotated[str, Meta(min_length=1, max_length=256)]
Ttl = Annotated[int, Meta(ge=1)]


class CreateResource(msgspec.Struct, kw_only=True, rename="camel"):
    name: NonEmpty
    indicator: NonEmpty
    access_token_ttl: Ttl = 3600
    tenant_id: str | UnsetType = UNSET  # accepted and ignored, as Logto does: the tenant comes from the request


class UpdateResource(msgspec.Struct, kw_only=True, rename="camel"):
    name: NonEmpty | UnsetType = UNSET
    access_token_ttl: Ttl | UnsetType = UNSET
    tenant_id: str | UnsetType = UNSET


class UpdateResourceIsDefault(msgspec.Struct, kw_only=True, rename="camel"):
    is_default: bool


class CreateScope(msgspec.Struct, kw_only=True):
    name: ScopeName
    description: str | None = None


class UpdateScope(msgspec.Struct, kw_only=True):
    name: ScopeName | UnsetType = UNSET
    description: str | UnsetType | None = UNSET
