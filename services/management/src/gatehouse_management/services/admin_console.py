"""Use cases of the admin console config (Logto's `routes/logto-config`, key `adminConsole`): the Console's own
state (whether the sign-in experience was customized, an organization created, notifications read). Seeded
with a tenant; a tenant without it answers 404 as Logto does."""

from typing import Any

import msgspec
from gatehouse_platform.errors import NotFound
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_management.api.admin_console_bodies import AdminConsoleData, UpdateAdminConsoleData
from gatehouse_management.persistence.logto_configs import ADMIN_CONSOLE, LogtoConfigStore


def _decode(value: Any) -> AdminConsoleData:
    return msgspec.convert(value, AdminConsoleData)


class AdminConsoleService:
    def __init__(self, engine: AsyncEngine, store: LogtoConfigStore) -> None:
        self.engine = engine
        self.store = store

    async def get(self, tenant_id: str) -> AdminConsoleData:
        async with self.engine.connect() as conn:
            value = await self.store.get(conn, tenant_id, ADMIN_CONSOLE)
        if value is None:
            raise NotFound("entity.not_found")
        return _decode(value)

    async def update(self, tenant_id: str, patch: UpdateAdminConsoleData) -> AdminConsoleData:
        async with self.engine.begin() as conn:
            value = await self.store.get(conn, tenant_id, ADMIN_CONSOLE, lock=True)
            if value is None:
                raise NotFound("entity.not_found")
            merged = {**value, **msgspec.to_builtins(patch)}
            await self.store.put(conn, tenant_id, ADMIN_CONSOLE, merged)
        return _decode(merged)
