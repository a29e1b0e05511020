"""Logto's connector rules (`routes/connector/index.ts`, `utils/connectors`): the record a stored connector and its
factory make, and the checks of a create and of an update, in Logto's order.

Gatehouse ships standard Social factories (`oidc`, `oauth2`, `saml`) and one Email factory (SMTP). The rules of
each type are where Logto applies them (the checks of a create are Social-only, `syncProfile` needs a Social
connector, a new Email or Sms connector replaces the others of its type: `PASSWORDLESS_TYPES`)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from gatehouse_connectors import ConnectorFactory
from gatehouse_platform.errors import BadRequest, Unprocessable
from gatehouse_schema.events import ConnectorBrief
from msgspec import UNSET

from gatehouse_management.api.connector_bodies import Connector, ConnectorMetadata, NewConnector, UpdateConnector
from gatehouse_management.domain.languages import LANGUAGE_TAGS

PASSWORDLESS_TYPES = frozenset({"Email", "Sms"})
_OVERRIDABLE = ("target", "name", "logo", "logo_dark")


@dataclass(frozen=True)
class Installed:
    """A stored connector whose factory Gatehouse ships (Logto's `LogtoConnector`); the others are left out of
    every listing, as Logto skips connectors whose factory is not loaded."""

    row: Any
    factory: ConnectorFactory

    @property
    def type(self) -> str:
        return self.factory.metadata.type

    @property
    def target(self) -> str:
        return str(self.row.metadata.get("target", self.factory.metadata.target))

    @property
    def is_standard(self) -> bool:
        return self.factory.metadata.is_standard is True


def installed(rows: Iterable[Any], factories: Mapping[str, ConnectorFactory]) -> list[Installed]:
    return [Installed(row, factories[row.connector_id]) for row in rows if row.connector_id in factories]


def social_targets(connectors: Iterable[Installed]) -> set[str]:
    """The targets the tenant's social connectors provide: what the sign-in experience may offer."""
    return {c.target for c in connectors if c.type == "Social"}


def to_connector(connector: Installed) -> Connector:
    overrides = msgspec.convert(connector.row.metadata, ConnectorMetadata)
    fields = msgspec.structs.asdict(connector.factory.metadata)
    for name in _OVERRIDABLE:
        if getattr(overrides, name) is not UNSET:
            fields[name] = getattr(overrides, name)
    row = connector.row
    fields |= {
        "id": row.id,
        "connector_id": row.connector_id,
        "sync_profile": row.sync_profile,
        "enable_token_storage": row.enable_token_storage,
        "metadata": overrides,
        "config": row.config,
        "is_demo": False,
        "extra_info": {},
    }
    return Connector(**fields)


def brief(row: Any, factory: ConnectorFactory | None) -> ConnectorBrief:
    """What the connector's events carry (never its config)."""
    target = row.metadata.get("target", factory.metadata.target if factory else row.connector_id)
    return ConnectorBrief(
        id=row.id,
        connector_id=row.connector_id,
        target=str(target),
        type=factory.metadata.type if factory else None,
        enable_token_storage=row.enable_token_storage,
    )


def clean_deep(value: Any) -> Any:
    """clean-deep's defaults, as Logto stores a connector's config and metadata: `null`, `""` and empty objects and
    arrays are dropped, at every depth."""
    if isinstance(value, dict):
        cleaned = {key: clean_deep(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if not _empty(item)}
    if isinstance(value, list):
        return [item for item in map(clean_deep, value) if not _empty(item)]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | dict | list) and not value)


def check_metadata(metadata: ConnectorMetadata) -> None:
    """Logto's i18n guard of `metadata.name`: an `en` phrase, and language tags as keys (400 `guard.invalid_input`)."""
    if metadata.name is UNSET:
        return
    if "en" not in metadata.name or any(tag not in LANGUAGE_TAGS for tag in metadata.name):
        raise BadRequest(
            "guard.invalid_input", "The request body is invalid: `metadata.name` needs `en` and language tags as keys."
        )


def check_new(body: NewConnector, factory: ConnectorFactory, existing: list[Installed]) -> None:
    """Logto's checks of `POST /api/connectors` once the factory is found (it has no social connector quota)."""
    if factory.metadata.type == "Social":
        _check_social(body, factory, existing)
    if body.config is not UNSET:
        factory.parse_config(body.config)
    if body.enable_token_storage is True:
        check_token_storage(factory)


def _check_social(body: NewConnector, factory: ConnectorFactory, existing: list[Installed]) -> None:
    standard = factory.metadata.is_standard is True
    target = body.metadata.target if body.metadata is not UNSET else UNSET
    if standard and not target:
        raise BadRequest("connector.should_specify_target")
    if not standard and body.metadata is not UNSET:
        raise BadRequest("connector.cannot_overwrite_metadata_for_non_standard_connector")
    if not standard and any(c.factory.id == factory.id for c in existing):
        raise Unprocessable("connector.multiple_instances_not_supported")
    target = target or factory.metadata.target
    platform = factory.metadata.platform
    for c in existing:
        if c.type == "Social" and c.target == target and c.factory.metadata.platform == platform:
            name = c.row.metadata.get("name", c.factory.metadata.name)
            data = {"connectorId": c.factory.id, "connectorName": name}  # Logto names the factory's id
            raise Unprocessable("connector.multiple_target_with_same_platform", data=data)


def check_update(body: UpdateConnector, connector: Installed) -> None:
    """Logto's checks of `PATCH /api/connectors/{id}`: a standard connector keeps its target (given metadata must
    repeat it), a non-standard one has no metadata of its own."""
    if body.metadata is not UNSET:
        if connector.is_standard and body.metadata.target != connector.target:
            raise BadRequest("connector.can_not_modify_target")
        if not connector.is_standard:
            raise BadRequest("connector.cannot_overwrite_metadata_for_non_standard_connector")
    if body.sync_profile is True and connector.type != "Social":
        raise Unprocessable("connector.invalid_type_for_syncing_profile")
    if body.enable_token_storage is True:
        check_token_storage(connector.factory)
    if body.config is not UNSET:
        connector.factory.parse_config(body.config)


def check_token_storage(factory: ConnectorFactory) -> None:
    """Token sets are kept only for a Social factory that supports it. (Logto also needs its secret vault key;
    Gatehouse always has one, so there is no `request.feature_not_supported` here.)"""
    if factory.metadata.type != "Social" or factory.metadata.is_token_storage_supported is not True:
        raise Unprocessable("connector.token_storage_not_supported")
