"""Role use cases: roles and their scopes. Each command is one transaction with its event."""

from typing import Any

from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.roles import Role, RoleWithStats, ScopeWithResource
from gatehouse_schema.contexts import management_resource_indicator
from gatehouse_schema.events import Actor, RoleCreated, RoleDataUpdated, RoleDeleted, RoleScopesUpdated
from gatehouse_schema.ids import generate_id
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_management.api.role_bodies import CreateRole, UpdateRole
from gatehouse_management.persistence.role_members import RoleMemberStore
from gatehouse_management.persistence.roles import RoleFilter, RoleStore


def role_fields(role: Role) -> dict[str, Any]:
    return {f: getattr(role, f) for f in role.__struct_fields__}


async def find_role(
    store: RoleStore, conn: AsyncConnection, tenant_id: str, role_id: str, *, lock: bool = False
) -> Role:
    role = await store.get(conn, tenant_id, role_id, lock=lock)
    if role is None:
        raise NotFound("entity.not_exists_with_id", name="role", id=role_id)
    return role


class RoleService:
    def __init__(self, engine: AsyncEngine, roles: RoleStore, members: RoleMemberStore, outbox: Outbox) -> None:
        self.engine = engine
        self.roles = roles
        self.members = members
        self.outbox = outbox

    async def _check_scopes(self, conn: AsyncConnection, tenant_id: str, role: Role, scope_ids: list[str]) -> None:
        found = await self.roles.existing_scopes(conn, tenant_id, scope_ids)
        missing = [s for s in scope_ids if s not in found]
        if missing:
            raise NotFound("entity.not_exists_with_id", name="scope", id=missing[0])
        if role.type == "User" and management_resource_indicator(tenant_id) in found.values():
            raise BadRequest("role.management_api_scopes_not_assignable_to_user_role")

    async def create(self, tenant_id: str, body: CreateRole, actor: Actor | None) -> Role:
        scope_ids = list(dict.fromkeys(body.scope_ids))
        async with self.engine.begin() as conn:
            if await self.roles.name_taken(conn, tenant_id, body.name):
                raise Unprocessable("role.name_in_use", name=body.name)
            role = await self.roles.insert(
                conn,
                {
                    "tenant_id": tenant_id,
                    "id": generate_id(),
                    "name": body.name,
                    "description": body.description,
                    "type": body.type,
                    "is_default": body.is_default and body.type == "User",
                },
            )
            if scope_ids:
                await self._check_scopes(conn, tenant_id, role, scope_ids)
                await self.roles.link_scopes(conn, tenant_id, role.id, scope_ids)
            await self.outbox.append(conn, RoleCreated(data=role), tenant_id=tenant_id, actor=actor)
            if scope_ids:
                await self.outbox.append(
                    conn,
                    RoleScopesUpdated(role_id=role.id, added_scope_ids=scope_ids, removed_scope_ids=[]),
                    tenant_id=tenant_id,
                    actor=actor,
                )
        return role

    async def get(self, tenant_id: str, role_id: str) -> Role:
        async with self.engine.connect() as conn:
            return await find_role(self.roles, conn, tenant_id, role_id)

    async def search(self, tenant_id: str, where: RoleFilter, page: Page | None) -> tuple[int, list[RoleWithStats]]:
        async with self.engine.connect() as conn:
            total, items = await self.roles.search(conn, tenant_id, where, page)
            user_counts, users, app_counts, apps = await self.members.stats(conn, tenant_id, [r.id for r in items])
        return total, [
            RoleWithStats(
                **role_fields(r),
                users_count=user_counts.get(r.id, 0),
                featured_users=users.get(r.id, []),
                applications_count=app_counts.get(r.id, 0),
                featured_applications=apps.get(r.id, []),
            )
            for r in items
        ]

    async def update(self, tenant_id: str, role_id: str, body: UpdateRole, actor: Actor | None) -> Role:
        async with self.engine.begin() as conn:
            current = await find_role(self.roles, conn, tenant_id, role_id, lock=True)
            values: dict[str, Any] = {}
            if body.name is not UNSET:
                if await self.roles.name_taken(conn, tenant_id, body.name, except_id=role_id):
                    raise Unprocessable("role.name_in_use", name=body.name)
                values["name"] = body.name
            if body.description is not UNSET:
                values["description"] = body.description
            if body.is_default is not UNSET:
                values["is_default"] = body.is_default and current.type == "User"
            if not values:
                return current
            role = await self.roles.update(conn, tenant_id, role_id, values)
            await self.outbox.append(conn, RoleDataUpdated(data=role), tenant_id=tenant_id, actor=actor)
        return role

    async def delete(self, tenant_id: str, role_id: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            role = await find_role(self.roles, conn, tenant_id, role_id, lock=True)
            await self.roles.delete(conn, tenant_id, role_id)  # scope, user and application links cascade
            await self.outbox.append(conn, RoleDeleted(data=role), tenant_id=tenant_id, actor=actor)

    async def scopes(
        self, tenant_id: str, role_id: str, term: str | None, page: Page | None
    ) -> tuple[int, list[ScopeWithResource]]:
        async with self.engine.connect() as conn:
            await find_role(self.roles, conn, tenant_id, role_id)
            return await self.roles.scopes_page(conn, tenant_id, role_id, term, page)

    async def add_scopes(
        self, tenant_id: str, role_id: str, scope_ids: list[str], actor: Actor | None
    ) -> list[ScopeWithResource]:
        wanted = list(dict.fromkeys(scope_ids))
        async with self.engine.begin() as conn:
            role = await find_role(self.roles, conn, tenant_id, role_id, lock=True)
            await self._check_scopes(conn, tenant_id, role, wanted)
            linked = await self.roles.scope_ids(conn, tenant_id, role_id)
            already = [s for s in wanted if s in linked]
            if already:
                raise Unprocessable("role.scope_exists", scopeId=already[0])
            await self.roles.link_scopes(conn, tenant_id, role_id, wanted)
            await self.outbox.append(
                conn,
                RoleScopesUpdated(role_id=role_id, added_scope_ids=wanted, removed_scope_ids=[]),
                tenant_id=tenant_id,
                actor=actor,
            )
            _, items = await self.roles.scopes_page(conn, tenant_id, role_id, None, None)
        return items

    async def remove_scope(self, tenant_id: str, role_id: str, scope_id: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            await find_role(self.roles, conn, tenant_id, role_id, lock=True)
            if not await self.roles.unlink_scope(conn, tenant_id, role_id, scope_id):
                raise NotFound("entity.not_exists_with_id", name="scope", id=scope_id)
            await self.outbox.append(
                conn,
                RoleScopesUpdated(role_id=role_id, added_scope_ids=[], removed_scope_ids=[scope_id]),
                tenant_id=tenant_id,
                actor=actor,
            )
