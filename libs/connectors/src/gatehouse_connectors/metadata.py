"""A connector factory's metadata: Logto's `ConnectorMetadata` as `GET /api/connector-factories` shows it."""

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

ConnectorType = Literal["Email", "Sms", "Social"]
ConnectorPlatform = Literal["Native", "Universal", "Web"]


class FormItem(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    type: Literal["Text", "Number", "MultilineText", "Switch", "Json", "Select", "MultiSelect"]
    key: str
    label: str
    placeholder: str | UnsetType = UNSET
    required: bool | UnsetType = UNSET
    default_value: Any = UNSET
    description: str | UnsetType = UNSET
    tooltip: str | UnsetType = UNSET
    is_confidential: bool | UnsetType = UNSET
    select_items: list[dict[str, str]] | UnsetType = UNSET


class FactoryMetadata(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    id: str
    target: str
    type: ConnectorType
    platform: ConnectorPlatform | None
    name: dict[str, str]
    description: dict[str, str]
    logo: str
    logo_dark: str | None
    readme: str
    config_template: str | UnsetType = UNSET
    form_items: list[FormItem] | UnsetType = UNSET
    is_standard: bool | UnsetType = UNSET
    is_token_storage_supported: bool | UnsetType = UNSET
