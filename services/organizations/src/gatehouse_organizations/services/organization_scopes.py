"""Organization scope use cases. Each command is one transaction with its event."""

from typing import Any

from gatehouse_platform.errors import NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.organization_template import OrganizationScope
from gatehouse_schema.events import (
    Actor,
    OrganizationScopeCreated,
    OrganizationScopeDataUpdated,
    OrganizationScopeDeleted,
)
from gatehouse_schema.ids import generate_id
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_organizations.api.organization_scopes_bodies import CreateOrganizationScope, UpdateOrganizationScope
from gatehouse_organizations.persistence.organization_scopes import OrganizationScopeStore

NAME_TAKEN = "entity.unique_integrity_violation"  # Logto's code for a name the template already has


class OrganizationScopeService:
    def __init__(self, engine: AsyncEngine, scopes: OrganizationScopeStore, outbox: Outbox) -> None:
        self.engine = engine
        self.scopes = scopes
        self.outbox = outbox

    async def _find(
        self, conn: AsyncConnection, tenant_id: str, scope_id: str, *, lock: bool = False
    ) -> OrganizationScope:
        scope = await self.scopes.get(conn, tenant_id, scope_id, lock=lock)
        if scope is None:
            raise NotFound("entity.not_exists_with_id", name="organization scope", id=scope_id)
        return scope

    async def create(self, tenant_id: str, body: CreateOrganizationScope, actor: Actor | None) -> OrganizationScope:
        async with self.engine.begin() as conn:
            scope = await self.scopes.insert(
                conn, {"tenant_id": tenant_id, "id": generate_id(), "name": body.name, "description": body.description}
            )
            if scope is None:
                raise Unprocessable(NAME_TAKEN, name=body.name)
            await self.outbox.append(conn, OrganizationScopeCreated(data=scope), tenant_id=tenant_id, actor=actor)
        return scope

    async def get(self, tenant_id: str, scope_id: str) -> OrganizationScope:
        async with self.engine.connect() as conn:
            return await self._find(conn, tenant_id, scope_id)

    async def search(self, tenant_id: str, term: str | None, page: Page | None) -> tuple[int, list[OrganizationScope]]:
        async with self.engine.connect() as conn:
            return await self.scopes.search(conn, tenant_id, term, page)

    async def update(
        self, tenant_id: str, scope_id: str, body: UpdateOrganizationScope, actor: Actor | None
    ) -> OrganizationScope:
        values: dict[str, Any] = {}
        if body.name is not UNSET:
            values["name"] = body.name
        if body.description is not UNSET:
            values["description"] = body.description
        async with self.engine.begin() as conn:
            current = await self._find(conn, tenant_id, scope_id, lock=True)
            if body.name is not UNSET and await self.scopes.name_taken(conn, tenant_id, body.name, scope_id):
                raise Unprocessable(NAME_TAKEN, name=body.name)
            if not values:
                return current
            scope = await self.scopes.update(conn, tenant_id, scope_id, values)
            await self.outbox.append(conn, OrganizationScopeDataUpdated(data=scope), tenant_id=tenant_id, actor=actor)
        return scope

    async def delete(self, tenant_id: str, scope_id: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            scope = await self._find(conn, tenant_id, scope_id, lock=True)
            await self.scopes.delete(conn, tenant_id, scope_id)  # its role links cascade
            await self.outbox.append(conn, OrganizationScopeDeleted(data=scope), tenant_id=tenant_id, actor=actor)
