"""Organization role use cases: roles and their links to organization scopes and API resource scopes.

Each command is one transaction with its events. A link to an unknown scope (or from an unknown role) is
422 `entity.relation_foreign_key_not_found`, adding a link that exists is a no-op, as in Logto. API resource
scopes are management's: they are read (and held while linked) through `gatehouse_schema.queries.management`.
"""

from typing import Any

from gatehouse_platform.errors import NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.organization_template import (
    OrganizationRole,
    OrganizationRoleWithScopes,
    OrganizationScope,
    ResourceBrief,
    ResourceScopeBrief,
)
from gatehouse_schema.api.resources import Scope
from gatehouse_schema.events import (
    Actor,
    OrganizationRoleCreated,
    OrganizationRoleDataUpdated,
    OrganizationRoleDeleted,
    OrganizationRoleScopesUpdated,
)
from gatehouse_schema.ids import generate_id
from gatehouse_schema.queries.management import scopes_with_resources
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_organizations.api.organization_roles_bodies import CreateOrganizationRole, UpdateOrganizationRole
from gatehouse_organizations.persistence.organization_roles import (
    RESOURCE_SCOPE_LINKS,
    SCOPE_LINKS,
    OrganizationRoleStore,
    RoleLinks,
)
from gatehouse_organizations.persistence.organization_scopes import OrganizationScopeStore
from gatehouse_organizations.services.organization_scopes import NAME_TAKEN

UNKNOWN_RELATION = "entity.relation_foreign_key_not_found"


def scopes_updated(
    links: RoleLinks, role_id: str, added: list[str], removed: list[str]
) -> OrganizationRoleScopesUpdated:
    if links is SCOPE_LINKS:
        return OrganizationRoleScopesUpdated(
            organization_role_id=role_id, added_organization_scope_ids=added, removed_organization_scope_ids=removed
        )
    return OrganizationRoleScopesUpdated(
        organization_role_id=role_id, added_resource_scope_ids=added, removed_resource_scope_ids=removed
    )


def _plain_scope(scope: Scope) -> Scope:
    return Scope(**{f: getattr(scope, f) for f in Scope.__struct_fields__})


class OrganizationRoleService:
    def __init__(
        self, engine: AsyncEngine, roles: OrganizationRoleStore, scopes: OrganizationScopeStore, outbox: Outbox
    ) -> None:
        self.engine = engine
        self.roles = roles
        self.scopes = scopes
        self.outbox = outbox

    async def _find(
        self, conn: AsyncConnection, tenant_id: str, role_id: str, *, lock: bool = False, missing: str = ""
    ) -> OrganizationRole:
        role = await self.roles.get(conn, tenant_id, role_id, lock=lock)
        if role is None:
            if missing:
                raise Unprocessable(missing)
            raise NotFound("entity.not_exists_with_id", name="organization role", id=role_id)
        return role

    async def _check_targets(self, conn: AsyncConnection, links: RoleLinks, tenant_id: str, ids: list[str]) -> None:
        """Every id names an existing scope; resource scopes stay locked until the transaction ends."""
        if not ids:
            return
        if links is SCOPE_LINKS:
            found = await self.scopes.existing_ids(conn, tenant_id, ids)
        else:
            found = {s.id for s in await scopes_with_resources(conn, tenant_id, ids, lock=True)}
        if any(i not in found for i in ids):
            raise Unprocessable(UNKNOWN_RELATION)

    async def create(self, tenant_id: str, body: CreateOrganizationRole, actor: Actor | None) -> OrganizationRole:
        scope_ids = list(dict.fromkeys(body.organization_scope_ids))
        resource_scope_ids = list(dict.fromkeys(body.resource_scope_ids))
        values = {
            "tenant_id": tenant_id,
            "id": generate_id(),
            "name": body.name,
            "description": body.description,
            "type": body.type,
        }
        async with self.engine.begin() as conn:
            role = await self.roles.insert(conn, values)
            if role is None:
                raise Unprocessable(NAME_TAKEN, name=body.name)
            await self._check_targets(conn, SCOPE_LINKS, tenant_id, scope_ids)
            await self._check_targets(conn, RESOURCE_SCOPE_LINKS, tenant_id, resource_scope_ids)
            await self.roles.link(conn, SCOPE_LINKS, tenant_id, role.id, scope_ids)
            await self.roles.link(conn, RESOURCE_SCOPE_LINKS, tenant_id, role.id, resource_scope_ids)
            await self.outbox.append(conn, OrganizationRoleCreated(data=role), tenant_id=tenant_id, actor=actor)
            if scope_ids or resource_scope_ids:
                event = OrganizationRoleScopesUpdated(
                    organization_role_id=role.id,
                    added_organization_scope_ids=scope_ids,
                    added_resource_scope_ids=resource_scope_ids,
                )
                await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
        return role

    async def get(self, tenant_id: str, role_id: str) -> OrganizationRole:
        async with self.engine.connect() as conn:
            return await self._find(conn, tenant_id, role_id)

    async def search(
        self, tenant_id: str, term: str | None, page: Page
    ) -> tuple[int, list[OrganizationRoleWithScopes]]:
        async with self.engine.connect() as conn:
            total, items = await self.roles.search(conn, tenant_id, term, page)
            ids = [r.id for r in items]
            scopes = await self.roles.scope_briefs(conn, tenant_id, ids)
            links = await self.roles.links_of_roles(conn, RESOURCE_SCOPE_LINKS, tenant_id, ids)
            linked = [s for scope_ids in links.values() for s in scope_ids]
            resource_scopes = {s.id: s for s in await scopes_with_resources(conn, tenant_id, linked)}
        out = []
        for role in items:
            briefs = [
                ResourceScopeBrief(id=s.id, name=s.name, resource=ResourceBrief(id=s.resource.id, name=s.resource.name))
                for s in (resource_scopes.get(i) for i in links.get(role.id, []))
                if s is not None  # deleted by management, its link not dropped yet
            ]
            briefs.sort(key=lambda b: (b.name, b.id))
            fields = {f: getattr(role, f) for f in OrganizationRole.__struct_fields__}
            out.append(OrganizationRoleWithScopes(**fields, scopes=scopes.get(role.id, []), resource_scopes=briefs))
        return total, out

    async def update(
        self, tenant_id: str, role_id: str, body: UpdateOrganizationRole, actor: Actor | None
    ) -> OrganizationRole:
        values: dict[str, Any] = {}
        for name in ("name", "description", "type"):
            if getattr(body, name) is not UNSET:
                values[name] = getattr(body, name)
        async with self.engine.begin() as conn:
            current = await self._find(conn, tenant_id, role_id, lock=True)
            if body.name is not UNSET and await self.roles.name_taken(conn, tenant_id, body.name, role_id):
                raise Unprocessable(NAME_TAKEN, name=body.name)
            if not values:
                return current
            role = await self.roles.update(conn, tenant_id, role_id, values)
            await self.outbox.append(conn, OrganizationRoleDataUpdated(data=role), tenant_id=tenant_id, actor=actor)
        return role

    async def delete(self, tenant_id: str, role_id: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            role = await self._find(conn, tenant_id, role_id, lock=True)
            await self.roles.delete(conn, tenant_id, role_id)  # its scope links and member assignments cascade
            await self.outbox.append(conn, OrganizationRoleDeleted(data=role), tenant_id=tenant_id, actor=actor)

    # the role's links

    async def role_scopes(self, tenant_id: str, role_id: str, page: Page) -> tuple[int, list[OrganizationScope]]:
        async with self.engine.connect() as conn:
            await self._find(conn, tenant_id, role_id)
            return await self.roles.scopes_page(conn, tenant_id, role_id, page)

    async def role_resource_scopes(self, tenant_id: str, role_id: str, page: Page) -> tuple[int, list[Scope]]:
        """Oldest first. A role links a handful of scopes, so the page is cut here rather than in SQL (the
        scopes are management's, read through its query function)."""
        async with self.engine.connect() as conn:
            await self._find(conn, tenant_id, role_id)
            linked = await self.roles.linked(conn, RESOURCE_SCOPE_LINKS, tenant_id, role_id)
            found = await scopes_with_resources(conn, tenant_id, linked)
        return len(found), [_plain_scope(s) for s in found[page.offset : page.offset + page.limit]]

    async def add_links(
        self, tenant_id: str, role_id: str, links: RoleLinks, ids: list[str], actor: Actor | None
    ) -> None:
        wanted = list(dict.fromkeys(ids))
        async with self.engine.begin() as conn:
            await self._find(conn, tenant_id, role_id, lock=True, missing=UNKNOWN_RELATION)
            await self._check_targets(conn, links, tenant_id, wanted)
            added = await self.roles.link(conn, links, tenant_id, role_id, wanted)
            await self._announce(conn, tenant_id, links, role_id, added, [], actor)

    async def replace_links(
        self, tenant_id: str, role_id: str, links: RoleLinks, ids: list[str], actor: Actor | None
    ) -> None:
        wanted = list(dict.fromkeys(ids))
        async with self.engine.begin() as conn:
            await self._find(conn, tenant_id, role_id, lock=True, missing=UNKNOWN_RELATION)
            await self._check_targets(conn, links, tenant_id, wanted)
            removed = await self.roles.unlink(conn, links, tenant_id, role_id, keep=wanted)
            added = await self.roles.link(conn, links, tenant_id, role_id, wanted)
            await self._announce(conn, tenant_id, links, role_id, added, removed, actor)

    async def remove_link(
        self, tenant_id: str, role_id: str, links: RoleLinks, target_id: str, actor: Actor | None
    ) -> None:
        async with self.engine.begin() as conn:
            await self._find(conn, tenant_id, role_id, lock=True)
            if not await self.roles.unlink_one(conn, links, tenant_id, role_id, target_id):
                raise NotFound("entity.not_found")  # Logto: the relation to delete does not exist
            await self._announce(conn, tenant_id, links, role_id, [], [target_id], actor)

    async def _announce(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        links: RoleLinks,
        role_id: str,
        added: list[str],
        removed: list[str],
        actor: Actor | None,
    ) -> None:
        """`OrganizationRole.Scopes.Updated` when the links changed (re-adding a linked scope changes nothing)."""
        if added or removed:
            event = scopes_updated(links, role_id, added, removed)
            await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
