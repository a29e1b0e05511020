"""Named application secrets (with expiry) and the legacy secret. Every change is an
`Application.Data.Updated` event (naming the change, never the value), which is how identity's
client cache learns that a secret stopped working."""

from collections.abc import Callable
from datetime import UTC, datetime

from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.api.applications import Application
from gatehouse_schema.events import Actor, ApplicationDataUpdated
from gatehouse_schema.ids import generate_secret
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_management.persistence.application_secrets import SecretStore
from gatehouse_management.persistence.applications import ApplicationStore, SecretRow


class ApplicationSecretService:
    def __init__(
        self,
        engine: AsyncEngine,
        applications: ApplicationStore,
        secrets: SecretStore,
        outbox: Outbox,
        new_secret: Callable[[], str] = generate_secret,
    ) -> None:
        self.engine = engine
        self.applications = applications
        self.secrets = secrets
        self.outbox = outbox
        self.new_secret = new_secret

    async def _app(self, conn: AsyncConnection, tenant_id: str, app_id: str) -> Application:
        app = await self.applications.get(conn, tenant_id, app_id, lock=True)
        if app is None:
            raise NotFound("entity.not_exists_with_id", name="application", id=app_id)
        return app

    async def _changed(self, conn: AsyncConnection, tenant_id: str, app: Application, actor: Actor | None) -> None:
        await self.outbox.append(
            conn, ApplicationDataUpdated(data=app, changed=["secrets"]), tenant_id=tenant_id, actor=actor
        )

    async def create(
        self, tenant_id: str, app_id: str, name: str, expires_at_ms: int | None, actor: Actor | None
    ) -> SecretRow:
        expires_at = None
        if expires_at_ms is not None:
            expires_at = datetime.fromtimestamp(expires_at_ms / 1000, tz=UTC)
            if expires_at <= datetime.now(UTC):
                raise BadRequest(
                    "guard.invalid_input", "The request body is invalid: `expiresAt` must be in the future."
                )
        async with self.engine.begin() as conn:
            app = await self._app(conn, tenant_id, app_id)
            if await self.secrets.exists(conn, tenant_id, app_id, name):
                raise Unprocessable("application.secret_name_exists")
            secret = await self.secrets.insert(conn, tenant_id, app_id, name, self.new_secret(), expires_at)
            await self._changed(conn, tenant_id, app, actor)
        return secret

    async def rename(self, tenant_id: str, app_id: str, name: str, new_name: str, actor: Actor | None) -> SecretRow:
        async with self.engine.begin() as conn:
            app = await self._app(conn, tenant_id, app_id)
            if new_name != name and await self.secrets.exists(conn, tenant_id, app_id, new_name):
                raise Unprocessable("application.secret_name_exists")
            secret = await self.secrets.rename(conn, tenant_id, app_id, name, new_name)
            if secret is None:
                raise NotFound("entity.not_exists_with_id", name="application secret", id=name)
            await self._changed(conn, tenant_id, app, actor)
        return secret

    async def delete(self, tenant_id: str, app_id: str, name: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            app = await self._app(conn, tenant_id, app_id)
            if not await self.secrets.delete(conn, tenant_id, app_id, name):
                raise NotFound("entity.not_exists_with_id", name="application secret", id=name)
            await self._changed(conn, tenant_id, app, actor)

    async def delete_legacy(self, tenant_id: str, app_id: str, actor: Actor | None) -> Application:
        async with self.engine.begin() as conn:
            app = await self._app(conn, tenant_id, app_id)
            if not await self.secrets.has_legacy_secret(conn, tenant_id, app_id):
                raise BadRequest("application.no_legacy_secret_found")
            await self.secrets.clear_legacy_secret(conn, tenant_id, app_id)
            await self._changed(conn, tenant_id, app, actor)
        return app
