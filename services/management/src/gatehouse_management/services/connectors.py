"""Use cases of connectors and connector factories (Logto's `routes/connector`): the factories Gatehouse ships,
the tenant's connectors built from them, the authorization URI of a social connector and the test message of a
passwordless (Email) factory.

Every write takes the tenant's connector lock, checks Logto's rules against the other connectors and appends its
`Connector.*` event in the same transaction. Logto has no hook event for connectors; these are Gatehouse's own, and
carry no config: the config holds the provider's client secret, so it is returned to Management API callers (as
Logto returns it) but never logged or published."""

from collections.abc import Mapping
from typing import Any

import msgspec
from gatehouse_connectors import FACTORIES, ConnectorFactory
from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.events import (
    Actor,
    ConnectorCreated,
    ConnectorDeleted,
    ConnectorUpdated,
    SignInExperienceUpdated,
)
from gatehouse_schema.ids import generate_id
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_management.api.connector_bodies import (
    Connector,
    ConnectorFactoryInfo,
    ConnectorTestRequest,
    NewConnector,
    UpdateConnector,
)
from gatehouse_management.domain import connectors as rules
from gatehouse_management.persistence.connectors import ConnectorStore
from gatehouse_management.persistence.sign_in_experience import SignInExperienceStore

SHORT_ID = 12  # Logto's `generateStandardShortId`
TEST_CODE = "000000"  # the code of Logto's test message
# the body fields a PATCH may write, by their API names and columns
UPDATABLE = {
    "config": "config",
    "metadata": "metadata",
    "syncProfile": "sync_profile",
    "enableTokenStorage": "enable_token_storage",
}


def _columns(body: NewConnector | UpdateConnector) -> dict[str, Any]:
    """The columns the body sets: `config` and `metadata` cleaned as Logto stores them (clean-deep)."""
    values: dict[str, Any] = {}
    if body.config is not UNSET:
        values["config"] = rules.clean_deep(body.config)
    if body.metadata is not UNSET:
        values["metadata"] = rules.clean_deep(msgspec.to_builtins(body.metadata))
    if body.sync_profile is not UNSET:
        values["sync_profile"] = body.sync_profile
    if body.enable_token_storage is not UNSET:
        values["enable_token_storage"] = body.enable_token_storage
    return values


class ConnectorService:
    def __init__(
        self,
        engine: AsyncEngine,
        store: ConnectorStore,
        experiences: SignInExperienceStore,
        outbox: Outbox,
        factories: Mapping[str, ConnectorFactory] = FACTORIES,
    ) -> None:
        self.engine = engine
        self.store = store
        self.experiences = experiences
        self.outbox = outbox
        self.factories = factories

    def factory_list(self) -> list[ConnectorFactoryInfo]:
        return [_factory_info(factory) for factory in self.factories.values()]

    def factory(self, factory_id: str) -> ConnectorFactoryInfo:
        factory = self.factories.get(factory_id)
        if factory is None:
            raise NotFound("entity.not_found")
        return _factory_info(factory)

    async def all(self, tenant_id: str, target: str | None) -> list[Connector]:
        async with self.engine.connect() as conn:
            connectors = rules.installed(await self.store.all(conn, tenant_id), self.factories)
        return [rules.to_connector(c) for c in connectors if not target or c.target == target]

    async def get(self, tenant_id: str, id: str) -> Connector:
        async with self.engine.connect() as conn:
            return rules.to_connector(await self._installed(conn, tenant_id, id))

    async def _installed(self, conn: AsyncConnection, tenant_id: str, id: str) -> rules.Installed:
        row = await self.store.get(conn, tenant_id, id)
        factory = self.factories.get(row.connector_id) if row is not None else None
        if factory is None:  # no such connector, or its factory is no longer shipped (Logto skips those)
            raise NotFound("entity.not_found")
        return rules.Installed(row, factory)

    async def create(self, tenant_id: str, body: NewConnector, actor: Actor | None) -> Connector:
        if body.metadata is not UNSET:
            rules.check_metadata(body.metadata)
        factory = self.factories.get(body.connector_id)
        if factory is None:
            raise Unprocessable("connector.not_found_with_connector_id")
        async with self.engine.begin() as conn:
            await self.store.lock(conn, tenant_id)
            rows = await self.store.all(conn, tenant_id)
            rules.check_new(body, factory, rules.installed(rows, self.factories))
            new_id = body.id if body.id is not UNSET else generate_id(SHORT_ID)
            if any(row.id == new_id for row in rows):
                raise Unprocessable("entity.unique_integrity_violation")
            values = {"config": {}, "metadata": {}, "sync_profile": False, "enable_token_storage": False}
            values |= {**_columns(body), "id": new_id, "connector_id": factory.id}
            row = await self.store.insert(conn, tenant_id, values)
            await self.outbox.append(
                conn, ConnectorCreated(data=rules.brief(row, factory)), tenant_id=tenant_id, actor=actor
            )
            if factory.metadata.type in rules.PASSWORDLESS_TYPES:
                await self._replace(conn, tenant_id, rules.installed(rows, self.factories), factory, actor)
        return rules.to_connector(rules.Installed(row, factory))

    async def _replace(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        others: list[rules.Installed],
        factory: ConnectorFactory,
        actor: Actor | None,
    ) -> None:
        """Logto keeps one Email and one Sms connector: a new one replaces the others of its type."""
        for other in others:
            if other.type == factory.metadata.type:
                await self.store.delete(conn, tenant_id, other.row.id)
                event = ConnectorDeleted(data=rules.brief(other.row, other.factory))
                await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)

    async def update(self, tenant_id: str, id: str, body: UpdateConnector, actor: Actor | None) -> Connector:
        if body.metadata is not UNSET:
            rules.check_metadata(body.metadata)
        async with self.engine.begin() as conn:
            await self.store.lock(conn, tenant_id)
            connector = await self._installed(conn, tenant_id, id)
            rules.check_update(body, connector)
            values = _columns(body)
            if not values:
                return rules.to_connector(connector)
            row = await self.store.update(conn, tenant_id, id, values)
            changed = [name for name, column in UPDATABLE.items() if column in values]
            event = ConnectorUpdated(data=rules.brief(row, connector.factory), changed=changed)
            await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
        return rules.to_connector(rules.Installed(row, connector.factory))

    async def delete(self, tenant_id: str, id: str, actor: Actor | None) -> None:
        """Deletes the connector (one whose factory is no longer shipped too, as Logto deletes by row); a social
        connector's target leaves the sign-in experience unless another social connector still provides it."""
        async with self.engine.begin() as conn:
            await self.store.lock(conn, tenant_id)
            row = await self.store.delete(conn, tenant_id, id)
            if row is None:
                raise NotFound("entity.not_found")
            factory = self.factories.get(row.connector_id)
            await self.outbox.append(
                conn, ConnectorDeleted(data=rules.brief(row, factory)), tenant_id=tenant_id, actor=actor
            )
            if factory is not None and factory.metadata.type == "Social":
                await self._remove_unavailable_targets(conn, tenant_id, actor)

    async def _remove_unavailable_targets(self, conn: AsyncConnection, tenant_id: str, actor: Actor | None) -> None:
        """Logto's `removeUnavailableSocialConnectorTargets`."""
        settings = await self.experiences.get(conn, tenant_id, lock=True)
        if settings is None:
            return
        available = rules.social_targets(rules.installed(await self.store.all(conn, tenant_id), self.factories))
        targets = settings.get("socialSignInConnectorTargets") or []
        kept = [target for target in targets if target in available]
        if kept != targets:
            await self.experiences.replace_fields(conn, tenant_id, {"socialSignInConnectorTargets": kept})
            event = SignInExperienceUpdated(changed=["socialSignInConnectorTargets"])
            await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)

    async def authorization_uri(self, tenant_id: str, id: str, state: str, redirect_uri: str) -> str:
        """The provider's authorization URI built with the stored config. Logto answers 501 for `oidc` and
        `oauth2` here (their nonce lives in the sign-in session); Gatehouse's OIDC connector derives the nonce
        from the state, so both work."""
        if not state or not redirect_uri:
            raise BadRequest("session.insufficient_info")
        async with self.engine.connect() as conn:
            connector = await self._installed(conn, tenant_id, id)
        if connector.type != "Social":
            raise BadRequest("connector.unexpected_type")
        return connector.factory.authorization_uri(connector.row.config, state, redirect_uri)

    async def send_test(self, factory_id: str, body: ConnectorTestRequest) -> None:
        """Logto's `routes/connector/config-testing.ts`: the factory's `Generic` message with the code `000000`,
        sent with the given config (no connector needs to exist). A factory that sends no messages is 400
        `connector.not_found` (Logto sets no status on it), one of the other passwordless type 400
        `connector.unexpected_type`; the config is checked as on create, the send fails as the connector's do."""
        to = body.phone if body.phone is not UNSET else body.email
        if to is UNSET:
            raise BadRequest("guard.invalid_input", type="body")
        expected = "Sms" if body.phone is not UNSET else "Email"
        factory = self.factories.get(factory_id)
        if factory is None or factory.metadata.type not in rules.PASSWORDLESS_TYPES:
            raise BadRequest("connector.not_found", type=expected)
        if factory.metadata.type != expected:
            raise BadRequest("connector.unexpected_type")
        payload = {"code": TEST_CODE} | ({"locale": body.locale} if body.locale is not UNSET else {})
        await factory.send_message(body.config, to, "Generic", payload)


def _factory_info(factory: ConnectorFactory) -> ConnectorFactoryInfo:
    """Logto's `transpileConnectorFactory`: `{type, ...metadata, isDemo}`; Gatehouse ships no demo factory."""
    return ConnectorFactoryInfo(**msgspec.structs.asdict(factory.metadata), is_demo=False)
