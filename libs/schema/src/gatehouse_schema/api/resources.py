"""Logto's Resource and Scope objects."""

import msgspec


class Scope(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    id: str
    resource_id: str
    name: str
    description: str | None
    created_at: int


class Resource(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    id: str
    name: str
    indicator: str
    is_default: bool
    access_token_ttl: int


class ResourceWithScopes(Resource, kw_only=True):
    scopes: list[Scope]
