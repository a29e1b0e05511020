"""Use cases of enterprise SSO connectors and their providers (Logto's `routes/sso-connector/index.ts`).

Writes check Logto's rules in Logto's order, take the tenant's connector-name lock (and the connector's row lock,
which the signing-key routes take too) and append their `SsoConnector.*` event in the same transaction. Logto has
no hook event for SSO connectors; these are Gatehouse's own and carry no config (it holds the IdP's client
secret, returned to Management API callers as Logto returns it but never logged or published)."""

from typing import Any

import msgspec
from gatehouse_platform.errors import BadRequest, Conflict, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_platform.pagination import Page
from gatehouse_schema.events import Actor, SsoConnectorCreated, SsoConnectorDeleted, SsoConnectorUpdated
from gatehouse_schema.ids import generate_id
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_management.api.sso_connector_bodies import (
    NewSsoConnector,
    SsoConnector,
    SsoConnectorProvider,
    SsoConnectorWithProviderConfig,
    UpdateSsoConnector,
)
from gatehouse_management.domain import sso_connectors as rules
from gatehouse_management.domain.sso_providers import PROVIDERS, Provider
from gatehouse_management.persistence.sso_connectors import SamlSigningKeyStore, SsoConnectorStore

SHORT_ID = 12  # Logto's `generateStandardShortId`
# the body fields a PATCH may write, by their API names and columns
UPDATABLE = {
    "config": "config",
    "domains": "domains",
    "branding": "branding",
    "syncProfile": "sync_profile",
    "connectorName": "connector_name",
    "enableTokenStorage": "enable_token_storage",
}


def _columns(body: NewSsoConnector | UpdateSsoConnector, config: dict[str, Any] | None) -> dict[str, Any]:
    values: dict[str, Any] = {} if config is None else {"config": config}
    if body.domains is not UNSET:
        values["domains"] = body.domains
    if body.branding is not UNSET:
        values["branding"] = msgspec.to_builtins(body.branding)
    if body.sync_profile is not UNSET:
        values["sync_profile"] = body.sync_profile
    if body.enable_token_storage is not UNSET:
        values["enable_token_storage"] = body.enable_token_storage
    if isinstance(body, UpdateSsoConnector) and body.connector_name is not UNSET:
        values["connector_name"] = body.connector_name
    return values


def check_token_storage(provider: Provider, body: NewSsoConnector | UpdateSsoConnector) -> None:
    """Only OIDC providers hand out token sets to keep (Logto: federated token storage for OIDC-based SSO)."""
    if body.enable_token_storage is True and provider.type != "oidc":
        raise Unprocessable("connector.token_storage_not_supported")


def not_found(id: str) -> NotFound:
    return NotFound("entity.not_exists_with_id", name="sso_connector", id=id)


class SsoConnectorService:
    def __init__(
        self,
        engine: AsyncEngine,
        store: SsoConnectorStore,
        keys: SamlSigningKeyStore,
        outbox: Outbox,
        public_url: str,
    ) -> None:
        self.engine = engine
        self.store = store
        self.keys = keys
        self.outbox = outbox
        self.public_url = public_url

    def providers(self) -> list[SsoConnectorProvider]:
        return [provider.detail() for provider in PROVIDERS.values()]

    async def page(self, tenant_id: str, page: Page | None) -> tuple[int, list[SsoConnectorWithProviderConfig]]:
        """The tenant's connectors in creation order (one of a provider Gatehouse does not know is left out, as
        Logto leaves out unsupported ones; the total counts it)."""
        async with self.engine.connect() as conn:
            total, rows = await self.store.page(conn, tenant_id, page)
        return total, [self._full(row) for row in rows if row.provider_name in PROVIDERS]

    async def get(self, tenant_id: str, id: str) -> SsoConnectorWithProviderConfig:
        async with self.engine.connect() as conn:
            row = await self.store.get(conn, tenant_id, id)
        if row is None:
            raise not_found(id)
        return self._full(row)

    def _full(self, row: Any) -> SsoConnectorWithProviderConfig:
        return rules.with_provider(row, rules.provider(row), self.public_url)

    async def create(self, tenant_id: str, body: NewSsoConnector, actor: Actor | None) -> SsoConnector:
        provider = PROVIDERS.get(body.provider_name)
        if provider is None:
            raise Unprocessable("connector.not_found", type=body.provider_name)
        if body.domains is not UNSET:
            rules.check_domains(body.domains)
        check_token_storage(provider, body)
        config = None if body.config is UNSET else rules.clean_config(provider, body.config)
        if config is not None and rules.signs_requests(config):  # a new connector has no signing key yet
            raise BadRequest("single_sign_on.active_signing_key_required")
        async with self.engine.begin() as conn:
            await self.store.lock(conn, tenant_id)
            await self._check_name(conn, tenant_id, body.connector_name, None)
            if config is not None:
                rules.check_connection(provider, config)
            values = {"id": generate_id(SHORT_ID), "provider_name": provider.name}
            values |= {"connector_name": body.connector_name, **_columns(body, config)}
            row = await self.store.insert(conn, tenant_id, values)
            event = SsoConnectorCreated(data=rules.brief(row, provider))
            await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
        return rules.to_connector(row)

    async def _check_name(self, conn: AsyncConnection, tenant_id: str, name: str, own_id: str | None) -> None:
        other = await self.store.named(conn, tenant_id, name)
        if other is not None and other.id != own_id:
            raise Conflict("single_sign_on.duplicate_connector_name")

    async def update(
        self, tenant_id: str, id: str, body: UpdateSsoConnector, actor: Actor | None
    ) -> SsoConnectorWithProviderConfig:
        """Logto's PATCH: `config`, `domains` and `branding` are replaced whole. (Logto leaves a PATCH naming only
        `domains` unwritten, a slip of its `hasValidUpdate`; Gatehouse writes it.)"""
        async with self.engine.begin() as conn:
            await self.store.lock(conn, tenant_id)
            row = await self.store.get(conn, tenant_id, id, lock=True)
            if row is None:
                raise not_found(id)
            provider = rules.provider(row)
            check_token_storage(provider, body)
            if body.domains is not UNSET:
                rules.check_domains(body.domains)
            if body.connector_name is not UNSET:
                await self._check_name(conn, tenant_id, body.connector_name, id)
            config = await self._config(conn, tenant_id, id, provider, body)
            values = _columns(body, config)
            if not values:
                return rules.with_provider(row, provider, self.public_url)
            row = await self.store.update(conn, tenant_id, id, values)
            changed = [name for name, column in UPDATABLE.items() if column in values]
            event = SsoConnectorUpdated(data=rules.brief(row, provider), changed=changed)
            await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
        return rules.with_provider(row, provider, self.public_url)

    async def _config(
        self, conn: AsyncConnection, tenant_id: str, id: str, provider: Provider, body: UpdateSsoConnector
    ) -> dict[str, Any] | None:
        """The new config, checked: signed AuthnRequests need an active signing key (the config never creates
        one), and a SAML IdP's metadata must read."""
        if body.config is UNSET:
            return None
        config = rules.clean_config(provider, body.config)
        if rules.signs_requests(config) and not await self.keys.has_active(conn, tenant_id, id):
            raise BadRequest("single_sign_on.active_signing_key_required")
        rules.check_connection(provider, config)
        return config

    async def delete(self, tenant_id: str, id: str, actor: Actor | None) -> None:
        """Deletes the connector with its signing keys. (Logto's foreign keys also drop the users' SSO identities
        through it: identity's, on `SsoConnector.Deleted`.)"""
        async with self.engine.begin() as conn:
            row = await self.store.delete(conn, tenant_id, id)
            if row is None:
                raise not_found(id)
            provider = PROVIDERS.get(row.provider_name)
            if provider is not None:
                event = SsoConnectorDeleted(data=rules.brief(row, provider))
                await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
