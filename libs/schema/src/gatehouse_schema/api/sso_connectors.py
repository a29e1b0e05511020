"""Logto's `SsoConnector` row as other contexts return it (the organization just-in-time provisioning routes list
the connectors linked to an organization). Management's own routes have their own Structs."""

from typing import Any

import msgspec


class SsoConnector(msgspec.Struct, kw_only=True, rename="camel"):
    """The stored connector (`createdAt` in epoch milliseconds). `config` is returned whole, as Logto returns it:
    it holds the IdP's client secret."""

    tenant_id: str
    id: str
    provider_name: str
    connector_name: str
    config: dict[str, Any]
    domains: list[str]
    branding: dict[str, Any]
    sync_profile: bool
    enable_token_storage: bool
    created_at: int
