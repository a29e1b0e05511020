"""Bodies of the Connectors and Connector factories routes: Logto's `connectorResponseGuard` (a factory's metadata
merged with the stored connector), `connectorFactoryResponseGuard`, and the create/update guards of
`routes/connector/index.ts`. Unknown keys are dropped, as zod's object guards drop them."""

from typing import Annotated, Any

import msgspec
from gatehouse_connectors.metadata import FactoryMetadata
from msgspec import UNSET, Meta, UnsetType

ConnectorInstanceId = Annotated[str, Meta(min_length=1, max_length=128)]  # the column is varchar(128)


class ConnectorMetadata(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """Logto's `ConfigurableConnectorMetadata`: what a standard connector overrides of its factory's metadata.
    `name` is an i18n object (`{"en": ..., "<language tag>": ...}`, `en` required)."""

    target: str | UnsetType = UNSET
    name: dict[str, str] | UnsetType = UNSET
    logo: str | UnsetType = UNSET
    logo_dark: str | UnsetType | None = UNSET


class NewConnector(msgspec.Struct, kw_only=True, rename="camel"):
    """`POST /api/connectors`: `connectorId` is the factory's id; `id` a proposed id for the new connector."""

    connector_id: str
    config: dict[str, Any] | UnsetType = UNSET
    metadata: ConnectorMetadata | UnsetType = UNSET
    sync_profile: bool | UnsetType = UNSET
    enable_token_storage: bool | UnsetType = UNSET
    id: ConnectorInstanceId | UnsetType = UNSET


class UpdateConnector(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """`PATCH /api/connectors/{id}`: `config` and `metadata` replace the stored ones whole."""

    config: dict[str, Any] | UnsetType = UNSET
    metadata: ConnectorMetadata | UnsetType = UNSET
    sync_profile: bool | UnsetType = UNSET
    enable_token_storage: bool | UnsetType = UNSET


class ConnectorFactoryInfo(FactoryMetadata, kw_only=True):
    """Logto's `transpileConnectorFactory`: the factory's metadata (`id` is the factory's id) and `isDemo`."""

    is_demo: bool


class Connector(FactoryMetadata, kw_only=True):
    """Logto's `transpileLogtoConnector`: the factory's metadata with the connector's overrides (`target`, `name`,
    `logo`, `logoDark`), then the connector's own fields: `id` is the connector's id, `connectorId` its factory's,
    `metadata` the stored overrides. `config` is returned whole, as Logto returns it (it holds client secrets)."""

    connector_id: str
    sync_profile: bool
    enable_token_storage: bool
    metadata: ConnectorMetadata
    config: dict[str, Any]
    is_demo: bool
    extra_info: dict[str, Any]


class ConnectorTestRequest(msgspec.Struct, kw_only=True):
    """`POST /api/connectors/{factoryId}/test`: where the test message goes (`phone` wins over `email`; Logto's
    `phoneRegEx` and `emailRegEx`) and the config to send it with (not a stored connector's)."""

    config: dict[str, Any]
    phone: Annotated[str, Meta(pattern=r"^\d+$")] | UnsetType = UNSET
    email: Annotated[str, Meta(pattern=r"^\S+@\S+\.\S+$")] | UnsetType = UNSET
    locale: str | UnsetType = UNSET


class AuthorizationUriRequest(msgspec.Struct, kw_only=True, rename="camel"):
    state: str
    redirect_uri: str


class AuthorizationUri(msgspec.Struct, kw_only=True, rename="camel"):
    redirect_to: str
