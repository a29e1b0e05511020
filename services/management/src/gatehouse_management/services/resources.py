"""API resource and scope use cases: one transaction each, with its event."""

from typing import Any

from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.resources import Resource, ResourceWithScopes, Scope
from gatehouse_schema.contexts import management_resource_indicator
from gatehouse_schema.events import (
    Actor,
    ResourceCreated,
    ResourceDataUpdated,
    ResourceDeleted,
    ScopeCreated,
    ScopeDataUpdated,
    ScopeDeleted,
)
from gatehouse_schema.ids import generate_id
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_management.api.resource_bodies import (
    CreateResource,
    CreateScope,
    UpdateResource,
    UpdateScope,
)
from gatehouse_management.persistence.resources import ResourceStore, ScopeStore


def _check_scope_name(name: str) -> None:
    if any(ch.isspace() for ch in name):
        raise BadRequest("scope.name_with_space")


class ResourceService:
    def __init__(self, engine: AsyncEngine, resources: ResourceStore, scopes: ScopeStore, outbox: Outbox) -> None:
        self.engine = engine
        self.resources = resources
        self.scopes = scopes
        self.outbox = outbox

    async def _resource(
        self, conn: AsyncConnection, tenant_id: str, resource_id: str, *, lock: bool = False
    ) -> Resource:
        found = await self.resources.get(conn, tenant_id, resource_id, lock=lock)
        if found is None:
            raise NotFound("entity.not_exists_with_id", name="resource", id=resource_id)
        return found

    async def create(self, tenant_id: str, body: CreateResource, actor: Actor | None) -> ResourceWithScopes:
        async with self.engine.begin() as conn:
            if await self.resources.indicator_taken(conn, tenant_id, body.indicator):
                raise Unprocessable("resource.resource_identifier_in_use", indicator=body.indicator)
            resource = await self.resources.insert(
                conn,
                {
                    "tenant_id": tenant_id,
                    "id": generate_id(),
                    "name": body.name,
                    "indicator": body.indicator,
                    "is_default": False,
                    "access_token_ttl": body.access_token_ttl,
                },
            )
            await self.outbox.append(conn, ResourceCreated(data=resource), tenant_id=tenant_id, actor=actor)
        return ResourceWithScopes(**_fields(resource), scopes=[])

    async def get(self, tenant_id: str, resource_id: str) -> Resource:
        async with self.engine.connect() as conn:
            return await self._resource(conn, tenant_id, resource_id)

    async def search(
        self, tenant_id: str, page: Page | None, include_scopes: bool
    ) -> tuple[int, list[Resource] | list[ResourceWithScopes]]:
        async with self.engine.connect() as conn:
            total, items = await self.resources.search(conn, tenant_id, page)
            if not include_scopes:
                return total, items
            _, all_scopes = await self.scopes.search(conn, tenant_id, [r.id for r in items], None, None)
        by_resource: dict[str, list[Scope]] = {}
        for scope in all_scopes:
            by_resource.setdefault(scope.resource_id, []).append(scope)
        return total, [ResourceWithScopes(**_fields(r), scopes=by_resource.get(r.id, [])) for r in items]

    async def update(self, tenant_id: str, resource_id: str, body: UpdateResource, actor: Actor | None) -> Resource:
        values: dict[str, Any] = {}
        if body.name is not UNSET:
            values["name"] = body.name
        if body.access_token_ttl is not UNSET:
            values["access_token_ttl"] = body.access_token_ttl
        async with self.engine.begin() as conn:
            current = await self._resource(conn, tenant_id, resource_id, lock=True)
            if not values:
                return current
            resource = await self.resources.update(conn, tenant_id, resource_id, values)
            await self.outbox.append(conn, ResourceDataUpdated(data=resource), tenant_id=tenant_id, actor=actor)
        return resource

    async def set_default(self, tenant_id: str, resource_id: str, is_default: bool, actor: Actor | None) -> Resource:
        """At most one default resource per tenant: making one default clears the others."""
        async with self.engine.begin() as conn:
            await self._resource(conn, tenant_id, resource_id, lock=True)
            if is_default:
                await self.resources.clear_default(conn, tenant_id)
            resource = await self.resources.update(conn, tenant_id, resource_id, {"is_default": is_default})
            await self.outbox.append(conn, ResourceDataUpdated(data=resource), tenant_id=tenant_id, actor=actor)
        return resource

    async def delete(self, tenant_id: str, resource_id: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            resource = await self._resource(conn, tenant_id, resource_id, lock=True)
            if resource.indicator == management_resource_indicator(tenant_id):
                raise BadRequest("resource.cannot_delete_management_api")
            await self.resources.delete(conn, tenant_id, resource_id)  # scopes and role links cascade
            await self.outbox.append(conn, ResourceDeleted(data=resource), tenant_id=tenant_id, actor=actor)

    async def list_scopes(
        self, tenant_id: str, resource_id: str, search: str | None, page: Page | None
    ) -> tuple[int, list[Scope]]:
        async with self.engine.connect() as conn:
            await self._resource(conn, tenant_id, resource_id)
            return await self.scopes.search(conn, tenant_id, [resource_id], search, page)

    async def create_scope(self, tenant_id: str, resource_id: str, body: CreateScope, actor: Actor | None) -> Scope:
        _check_scope_name(body.name)
        async with self.engine.begin() as conn:
            await self._resource(conn, tenant_id, resource_id, lock=True)
            if await self.scopes.name_taken(conn, tenant_id, resource_id, body.name):
                raise Unprocessable("scope.name_exists", name=body.name)
            scope = await self.scopes.insert(
                conn,
                {
                    "tenant_id": tenant_id,
                    "id": generate_id(),
                    "resource_id": resource_id,
                    "name": body.name,
                    "description": body.description,
                },
            )
            await self.outbox.append(conn, ScopeCreated(data=scope), tenant_id=tenant_id, actor=actor)
        return scope

    async def _scope(self, conn: AsyncConnection, tenant_id: str, resource_id: str, scope_id: str) -> Scope:
        await self._resource(conn, tenant_id, resource_id, lock=True)
        scope = await self.scopes.get(conn, tenant_id, resource_id, scope_id)
        if scope is None:
            raise NotFound("entity.not_exists_with_id", name="scope", id=scope_id)
        return scope

    async def update_scope(
        self, tenant_id: str, resource_id: str, scope_id: str, body: UpdateScope, actor: Actor | None
    ) -> Scope:
        values: dict[str, Any] = {}
        if body.name is not UNSET:
            _check_scope_name(body.name)
            values["name"] = body.name
        if body.description is not UNSET:
            values["description"] = body.description
        async with self.engine.begin() as conn:
            current = await self._scope(conn, tenant_id, resource_id, scope_id)
            if body.name is not UNSET and await self.scopes.name_taken(
                conn, tenant_id, resource_id, body.name, except_id=scope_id
            ):
                raise Unprocessable("scope.name_exists", name=body.name)
            if not values:
                return current
            scope = await self.scopes.update(conn, tenant_id, scope_id, values)
            await self.outbox.append(conn, ScopeDataUpdated(data=scope), tenant_id=tenant_id, actor=actor)
        return scope

    async def delete_scope(self, tenant_id: str, resource_id: str, scope_id: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            scope = await self._scope(conn, tenant_id, resource_id, scope_id)
            await self.scopes.delete(conn, tenant_id, scope_id)  # role links cascade
            await self.outbox.append(conn, ScopeDeleted(data=scope), tenant_id=tenant_id, actor=actor)


def _fields(resource: Resource) -> dict[str, Any]:
    return {f: getattr(resource, f) for f in resource.__struct_fields__}
