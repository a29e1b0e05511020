"""Application use cases: each is one transaction that changes state and appends its event."""

from collections.abc import Callable
from typing import Any

import msgspec
from gatehouse_platform.db import read_connection
from gatehouse_platform.errors import BadRequest, NotFound
from gatehouse_platform.outbox import Outbox
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.applications import Application, OidcClientMetadata
from gatehouse_schema.events import (
    Actor,
    ApplicationCreated,
    ApplicationDataUpdated,
    ApplicationDeleted,
)
from gatehouse_schema.ids import generate_id, generate_secret
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_management.api.application_bodies import CreateApplication, UpdateApplication
from gatehouse_management.domain.applications import (
    CONFIDENTIAL_TYPES,
    DEFAULT_SECRET_NAME,
    check_client_metadata,
    check_creatable,
    merge_json,
)
from gatehouse_management.persistence.applications import (
    ApplicationFilter,
    ApplicationStore,
    SecretRow,
)


def _json(struct: Any) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(struct)
    return out


class ApplicationService:
    def __init__(
        self,
        engine: AsyncEngine,
        store: ApplicationStore,
        outbox: Outbox,
        new_id: Callable[[], str] = generate_id,
        new_secret: Callable[[], str] = generate_secret,
    ) -> None:
        self.engine = engine
        self.store = store
        self.outbox = outbox
        self.new_id = new_id
        self.new_secret = new_secret

    async def _get_or_404(
        self, conn: AsyncConnection, tenant_id: str, app_id: str, *, lock: bool = False
    ) -> Application:
        app = await self.store.get(conn, tenant_id, app_id, lock=lock)
        if app is None:
            raise NotFound("entity.not_exists_with_id", name="application", id=app_id)
        return app

    async def create(self, tenant_id: str, body: CreateApplication, actor: Actor | None) -> Application:
        check_creatable(body.type, body.is_third_party)
        metadata = body.oidc_client_metadata or OidcClientMetadata(redirect_uris=[], post_logout_redirect_uris=[])
        check_client_metadata(body.type, metadata)
        app_id = self.new_id()
        async with self.engine.begin() as conn:
            app = await self.store.insert(
                conn,
                {
                    "tenant_id": tenant_id,
                    "id": app_id,
                    "name": body.name,
                    "secret": self.new_secret(),
                    "description": body.description,
                    "type": body.type,
                    "oidc_client_metadata": _json(metadata),
                    "custom_client_metadata": _json(body.custom_client_metadata) if body.custom_client_metadata else {},
                    "custom_data": body.custom_data or {},
                    "is_third_party": body.is_third_party,
                    "app_level_access_control_enabled": False,
                },
            )
            if body.type in CONFIDENTIAL_TYPES:
                await self.store.insert_secret(conn, tenant_id, app_id, DEFAULT_SECRET_NAME, self.new_secret(), None)
            await self.outbox.append(conn, ApplicationCreated(data=app), tenant_id=tenant_id, actor=actor)
        return app

    async def get(self, tenant_id: str, app_id: str) -> Application:
        async with self.engine.connect() as conn:
            return await self._get_or_404(conn, tenant_id, app_id)

    async def search(
        self, tenant_id: str, where: ApplicationFilter, page: Page | None
    ) -> tuple[int, list[Application]]:
        async with read_connection(self.engine) as conn:
            return await self.store.search(conn, tenant_id, where, page)

    async def update(self, tenant_id: str, app_id: str, body: UpdateApplication, actor: Actor | None) -> Application:
        if body.is_admin is True:  # admin-tenant access is a Logto Cloud feature; nothing here grants it
            raise BadRequest("guard.invalid_input", "The request body is invalid: `isAdmin` can only be false here.")
        async with self.engine.begin() as conn:
            current = await self._get_or_404(conn, tenant_id, app_id, lock=True)
            values: dict[str, Any] = {}
            if body.name is not UNSET:
                values["name"] = body.name
            if body.description is not UNSET:
                values["description"] = body.description
            if body.oidc_client_metadata is not UNSET:
                check_client_metadata(current.type, body.oidc_client_metadata)
                values["oidc_client_metadata"] = merge_json(
                    _json(current.oidc_client_metadata), _json(body.oidc_client_metadata)
                )
            if body.custom_client_metadata is not UNSET:
                values["custom_client_metadata"] = merge_json(
                    _json(current.custom_client_metadata), _json(body.custom_client_metadata)
                )
            if body.custom_data is not UNSET:
                values["custom_data"] = merge_json(current.custom_data, body.custom_data)
            if body.app_level_access_control_enabled is not UNSET:
                values["app_level_access_control_enabled"] = body.app_level_access_control_enabled
            if body.protected_app_metadata is not UNSET:
                values["protected_app_metadata"] = body.protected_app_metadata
            if not values:
                return current
            app = await self.store.update(conn, tenant_id, app_id, values)
            changed = sorted(k for k in values)
            await self.outbox.append(
                conn, ApplicationDataUpdated(data=app, changed=changed), tenant_id=tenant_id, actor=actor
            )
        return app

    async def delete(self, tenant_id: str, app_id: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            app = await self._get_or_404(conn, tenant_id, app_id, lock=True)
            await self.store.delete(conn, tenant_id, app_id)
            await self.outbox.append(conn, ApplicationDeleted(data=app), tenant_id=tenant_id, actor=actor)

    async def list_secrets(self, tenant_id: str, app_id: str) -> list[SecretRow]:
        async with self.engine.connect() as conn:
            await self._get_or_404(conn, tenant_id, app_id)
            return await self.store.list_secrets(conn, tenant_id, app_id)
