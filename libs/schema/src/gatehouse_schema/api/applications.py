"""Logto's Application object, as the Management API returns it and as application events carry it."""

from typing import Any, Literal

import msgspec

ApplicationType = Literal["Native", "SPA", "Traditional", "MachineToMachine", "Protected", "SAML"]


class OidcClientMetadata(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | msgspec.UnsetType = msgspec.UNSET
    backchannel_logout_session_required: bool | msgspec.UnsetType = msgspec.UNSET
    logo_uri: str | msgspec.UnsetType = msgspec.UNSET


class CustomClientMetadata(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    cors_allowed_origins: list[str] | msgspec.UnsetType = msgspec.UNSET
    id_token_ttl: float | msgspec.UnsetType = msgspec.UNSET
    refresh_token_ttl: float | msgspec.UnsetType = msgspec.UNSET
    refresh_token_ttl_in_days: float | msgspec.UnsetType = msgspec.UNSET
    tenant_id: str | msgspec.UnsetType = msgspec.UNSET
    always_issue_refresh_token: bool | msgspec.UnsetType = msgspec.UNSET
    rotate_refresh_token: bool | msgspec.UnsetType = msgspec.UNSET
    allow_token_exchange: bool | msgspec.UnsetType = msgspec.UNSET
    is_device_flow: bool | msgspec.UnsetType = msgspec.UNSET
    max_allowed_grants: float | msgspec.UnsetType = msgspec.UNSET


class Application(msgspec.Struct, kw_only=True, rename="camel"):
    """The application object. It never carries a secret (see the secrets routes)."""

    tenant_id: str
    id: str
    name: str
    description: str | None
    type: ApplicationType
    oidc_client_metadata: OidcClientMetadata
    custom_client_metadata: CustomClientMetadata
    protected_app_metadata: dict[str, Any] | None
    custom_data: dict[str, Any]
    is_third_party: bool
    app_level_access_control_enabled: bool
    created_at: int
    is_admin: bool = False
