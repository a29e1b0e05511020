"""Request bodies of the Applications routes (Logto's field names; UNSET keeps "absent" apart from null)."""

from typing import Annotated, Any

import msgspec
from gatehouse_schema.api.applications import ApplicationType, CustomClientMetadata, OidcClientMetadata
from msgspec import UNSET, Meta, UnsetType

Name = Annotated[str, Meta(min_length=1, max_length=256)]


class CreateApplication(msgspec.Struct, kw_only=True, rename="camel"):
    name: Name
    type: ApplicationType
    description: str | None = None
    oidc_client_metadata: OidcClientMetadata | UnsetType = UNSET
    custom_client_metadata: CustomClientMetadata | UnsetType = UNSET
    custom_data: dict[str, Any] | UnsetType = UNSET
    is_third_party: bool = False
    protected_app_metadata: dict[str, Any] | UnsetType = UNSET


class UpdateApplication(msgspec.Struct, kw_only=True, rename="camel"):
    name: Name | UnsetType = UNSET
    description: str | UnsetType | None = UNSET
    oidc_client_metadata: OidcClientMetadata | UnsetType = UNSET
    custom_client_metadata: CustomClientMetadata | UnsetType = UNSET
    custom_data: dict[str, Any] | UnsetType = UNSET
    app_level_access_control_enabled: bool | UnsetType = UNSET
    protected_app_metadata: dict[str, Any] | UnsetType = UNSET
    is_admin: bool | UnsetType = UNSET
