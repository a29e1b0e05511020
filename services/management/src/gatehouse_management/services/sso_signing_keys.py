"""Use cases of a SAML connector's SP signing keys (Logto's `routes/sso-connector/signing-key.ts`): list, create
(inactive by default: the staged step of a rotation; an active one takes over from the current key), switch a
key on or off, delete an inactive one.

Every write holds the connector's row, as the connector's PATCH does, so the rules that tie the keys to the
config (`signAuthnRequest` needs an active key) hold under concurrency; the unique index on the active key is
the last word. The key routes never write the config. They publish no event (Logto has none either)."""

import asyncio
from typing import Any
from urllib.parse import urlsplit

from gatehouse_platform.errors import BadRequest, NotFound
from gatehouse_schema.ids import generate_id
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_management.api.sso_connector_bodies import SigningKey
from gatehouse_management.domain import sso_connectors as rules
from gatehouse_management.domain import sso_signing_keys as keys
from gatehouse_management.persistence.sso_connectors import SamlSigningKeyStore, SsoConnectorStore
from gatehouse_management.services.sso_connectors import not_found


def key_not_found() -> NotFound:
    return NotFound("entity.not_found")


class SamlSigningKeyService:
    def __init__(
        self, engine: AsyncEngine, connectors: SsoConnectorStore, store: SamlSigningKeyStore, public_url: str
    ) -> None:
        self.engine = engine
        self.connectors = connectors
        self.store = store
        self.common_name = urlsplit(public_url).hostname or "gatehouse"

    async def _saml_connector(self, conn: AsyncConnection, tenant_id: str, id: str, *, lock: bool = False) -> Any:
        """The connector, which must speak SAML (404 `connector.not_found` otherwise, as Logto)."""
        row = await self.connectors.get(conn, tenant_id, id, lock=lock)
        if row is None:
            raise not_found(id)
        if rules.provider(row).type != "saml":
            raise NotFound("connector.not_found", "Only SAML connectors have SP signing keys.")
        return row

    async def all(self, tenant_id: str, id: str) -> list[SigningKey]:
        async with self.engine.connect() as conn:
            await self._saml_connector(conn, tenant_id, id)
            rows = await self.store.all(conn, tenant_id, id)
        return [keys.to_signing_key(row) for row in rows]

    async def create(self, tenant_id: str, id: str, active: bool) -> SigningKey:
        async with self.engine.connect() as conn:
            await self._saml_connector(conn, tenant_id, id)
        material = await asyncio.to_thread(keys.generate, self.common_name)
        values = {
            "id": generate_id(),
            "private_key": material.private_key,
            "certificate": material.certificate,
            "created_at": material.created_at,
            "expires_at": material.expires_at,
            "active": active,
        }
        async with self.engine.begin() as conn:
            await self._saml_connector(conn, tenant_id, id, lock=True)
            if active:
                await self.store.deactivate_all(conn, tenant_id, id)
            row = await self.store.insert(conn, tenant_id, id, values)
        return keys.to_signing_key(row)

    async def set_active(self, tenant_id: str, id: str, key_id: str, active: bool) -> SigningKey:
        """Activating a key deactivates the current one; the active key cannot be turned off while the config
        signs AuthnRequests (400 `single_sign_on.can_not_deactivate_signing_key_in_use`)."""
        async with self.engine.begin() as conn:
            connector = await self._saml_connector(conn, tenant_id, id, lock=True)
            key = await self.store.get(conn, tenant_id, id, key_id)
            if key is None:
                raise key_not_found()
            if key.active and not active and rules.signs_requests(connector.config):
                raise BadRequest("single_sign_on.can_not_deactivate_signing_key_in_use")
            if key.active == active:
                return keys.to_signing_key(key)
            if active:
                await self.store.deactivate_all(conn, tenant_id, id)
            key = await self.store.set_active(conn, tenant_id, id, key_id, active)
        return keys.to_signing_key(key)

    async def delete(self, tenant_id: str, id: str, key_id: str) -> None:
        """Only an inactive key can go: the active one's certificate may be what the IdP trusts (400
        `single_sign_on.can_not_delete_active_signing_key`)."""
        async with self.engine.begin() as conn:
            await self._saml_connector(conn, tenant_id, id, lock=True)
            key = await self.store.get(conn, tenant_id, id, key_id)
            if key is None:
                raise key_not_found()
            if key.active:
                raise BadRequest("single_sign_on.can_not_delete_active_signing_key")
            await self.store.delete(conn, tenant_id, id, key_id)
