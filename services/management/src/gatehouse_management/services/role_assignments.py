"""Who holds which role, from either side: `/roles/{id}/users|applications`, `/users/{id}/roles`,
`/applications/{id}/roles`. Users live in identity's tables and are read through the schema library."""

from collections.abc import Sequence
from datetime import datetime

from gatehouse_platform.db import read_connection
from gatehouse_platform.errors import NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.applications import Application
from gatehouse_schema.api.roles import Role
from gatehouse_schema.api.users import User
from gatehouse_schema.events import Actor, RoleApplicationsUpdated, RoleUsersUpdated
from gatehouse_schema.queries.identity import user_created_at
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_management.persistence.applications import ApplicationStore
from gatehouse_management.persistence.role_members import RoleMemberStore
from gatehouse_management.persistence.roles import RoleFilter, RoleStore
from gatehouse_management.services.roles import find_role


class RoleAssignmentService:
    def __init__(
        self,
        engine: AsyncEngine,
        roles: RoleStore,
        members: RoleMemberStore,
        applications: ApplicationStore,
        outbox: Outbox,
    ) -> None:
        self.engine = engine
        self.roles = roles
        self.members = members
        self.applications = applications
        self.outbox = outbox

    # checks

    async def _require_users(
        self, conn: AsyncConnection, tenant_id: str, user_ids: Sequence[str]
    ) -> dict[str, datetime]:
        """Each user's `created_at` (a new role link keeps it); 404 for a user that does not exist."""
        found = await user_created_at(conn, tenant_id, user_ids)
        for user_id in user_ids:
            if user_id not in found:
                raise NotFound("entity.not_exists_with_id", name="user", id=user_id)
        return found

    async def _require_m2m_app(self, conn: AsyncConnection, tenant_id: str, app_id: str) -> Application:
        app = await self.applications.get(conn, tenant_id, app_id)
        if app is None:
            raise NotFound("entity.not_exists_with_id", name="application", id=app_id)
        if app.type != "MachineToMachine":
            raise Unprocessable("application.invalid_type")
        return app

    async def _roles_of_type(
        self, conn: AsyncConnection, tenant_id: str, role_ids: Sequence[str], role_type: str
    ) -> dict[str, Role]:
        found = await self.roles.get_many(conn, tenant_id, role_ids)
        for role_id in role_ids:
            role = found.get(role_id)
            if role is None:
                raise NotFound("entity.not_exists_with_id", name="role", id=role_id)
            if role.type != role_type:
                code = "user.invalid_role_type" if role_type == "User" else "application.invalid_role_type"
                raise Unprocessable(code)
        return found

    # from the role's side

    async def role_users(
        self, tenant_id: str, role_id: str, term: str | None, page: Page | None
    ) -> tuple[int, list[User]]:
        async with read_connection(self.engine) as conn:
            found = await self.members.role_users(conn, tenant_id, role_id, term, page)
        if found is None:
            raise NotFound("entity.not_exists_with_id", name="role", id=role_id)
        return found

    async def add_role_users(self, tenant_id: str, role_id: str, user_ids: list[str], actor: Actor | None) -> None:
        wanted = list(dict.fromkeys(user_ids))
        async with self.engine.begin() as conn:
            role = await find_role(self.roles, conn, tenant_id, role_id, lock=True)
            if role.type != "User":
                raise Unprocessable("user.invalid_role_type")
            created = await self._require_users(conn, tenant_id, wanted)
            holders = await self.members.role_user_ids(conn, tenant_id, role_id)
            for user_id in wanted:
                if user_id in holders:
                    raise Unprocessable("role.user_exists", userId=user_id)
            await self.members.add_user_roles(conn, tenant_id, [(u, role_id) for u in wanted], created)
            await self._users_event(conn, tenant_id, role_id, wanted, [], actor)

    async def remove_role_user(self, tenant_id: str, role_id: str, user_id: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            await find_role(self.roles, conn, tenant_id, role_id, lock=True)
            if not await self.members.remove_user_roles(conn, tenant_id, [(user_id, role_id)]):
                raise NotFound("entity.not_exists_with_id", name="user", id=user_id)
            await self._users_event(conn, tenant_id, role_id, [], [user_id], actor)

    async def role_applications(
        self, tenant_id: str, role_id: str, term: str | None, page: Page | None
    ) -> tuple[int, list[Application]]:
        async with self.engine.connect() as conn:
            await find_role(self.roles, conn, tenant_id, role_id)
            return await self.members.applications_page(conn, tenant_id, role_id, term, page)

    async def add_role_applications(
        self, tenant_id: str, role_id: str, application_ids: list[str], actor: Actor | None
    ) -> None:
        wanted = list(dict.fromkeys(application_ids))
        async with self.engine.begin() as conn:
            role = await find_role(self.roles, conn, tenant_id, role_id, lock=True)
            if role.type != "MachineToMachine":
                raise Unprocessable("application.invalid_role_type")
            for app_id in wanted:
                await self._require_m2m_app(conn, tenant_id, app_id)
            holders = await self.members.role_application_ids(conn, tenant_id, role_id)
            for app_id in wanted:
                if app_id in holders:
                    raise Unprocessable("role.application_exists", applicationId=app_id)
            await self.members.add_application_roles(conn, tenant_id, [(a, role_id) for a in wanted])
            await self._apps_event(conn, tenant_id, role_id, wanted, [], actor)

    async def remove_role_application(
        self, tenant_id: str, role_id: str, application_id: str, actor: Actor | None
    ) -> None:
        async with self.engine.begin() as conn:
            await find_role(self.roles, conn, tenant_id, role_id, lock=True)
            if not await self.members.remove_application_roles(conn, tenant_id, [(application_id, role_id)]):
                raise NotFound("entity.not_exists_with_id", name="application", id=application_id)
            await self._apps_event(conn, tenant_id, role_id, [], [application_id], actor)

    # from the user's side

    async def user_roles(
        self, tenant_id: str, user_id: str, term: str | None, page: Page | None
    ) -> tuple[int, list[Role]]:
        async with self.engine.connect() as conn:
            await self._require_users(conn, tenant_id, [user_id])
            held = await self.members.user_role_ids(conn, tenant_id, user_id)
            return await self.roles.search(conn, tenant_id, RoleFilter(search=term, only_ids=sorted(held)), page)

    async def assign_user_roles(
        self, tenant_id: str, user_id: str, role_ids: list[str], actor: Actor | None, *, replace: bool = False
    ) -> list[str]:
        """Adds the roles (or, with `replace`, makes them the user's exact set); returns the roles added."""
        wanted = list(dict.fromkeys(role_ids))
        async with self.engine.begin() as conn:
            created = await self._require_users(conn, tenant_id, [user_id])
            await self._roles_of_type(conn, tenant_id, wanted, "User")
            held = await self.members.user_role_ids(conn, tenant_id, user_id)
            added = [r for r in wanted if r not in held]
            removed = sorted(held - set(wanted)) if replace else []
            await self.members.add_user_roles(conn, tenant_id, [(user_id, r) for r in added], created)
            await self.members.remove_user_roles(conn, tenant_id, [(user_id, r) for r in removed])
            for role_id in added:
                await self._users_event(conn, tenant_id, role_id, [user_id], [], actor)
            for role_id in removed:
                await self._users_event(conn, tenant_id, role_id, [], [user_id], actor)
        return added

    async def remove_user_role(self, tenant_id: str, user_id: str, role_id: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            await self._require_users(conn, tenant_id, [user_id])
            await find_role(self.roles, conn, tenant_id, role_id)
            if not await self.members.remove_user_roles(conn, tenant_id, [(user_id, role_id)]):
                raise NotFound("entity.not_exists_with_id", name="role", id=role_id)
            await self._users_event(conn, tenant_id, role_id, [], [user_id], actor)

    # from the application's side

    async def application_roles(
        self, tenant_id: str, application_id: str, term: str | None, page: Page | None
    ) -> tuple[int, list[Role]]:
        async with self.engine.connect() as conn:
            app = await self.applications.get(conn, tenant_id, application_id)
            if app is None:
                raise NotFound("entity.not_exists_with_id", name="application", id=application_id)
            held = await self.members.application_role_ids(conn, tenant_id, application_id)
            return await self.roles.search(conn, tenant_id, RoleFilter(search=term, only_ids=sorted(held)), page)

    async def assign_application_roles(
        self, tenant_id: str, application_id: str, role_ids: list[str], actor: Actor | None, *, replace: bool = False
    ) -> list[str]:
        wanted = list(dict.fromkeys(role_ids))
        async with self.engine.begin() as conn:
            await self._require_m2m_app(conn, tenant_id, application_id)
            await self._roles_of_type(conn, tenant_id, wanted, "MachineToMachine")
            held = await self.members.application_role_ids(conn, tenant_id, application_id)
            if not replace:
                for role_id in wanted:
                    if role_id in held:
                        raise Unprocessable("application.role_exists", roleId=role_id)
            added = [r for r in wanted if r not in held]
            removed = sorted(held - set(wanted)) if replace else []
            await self.members.add_application_roles(conn, tenant_id, [(application_id, r) for r in added])
            await self.members.remove_application_roles(conn, tenant_id, [(application_id, r) for r in removed])
            for role_id in added:
                await self._apps_event(conn, tenant_id, role_id, [application_id], [], actor)
            for role_id in removed:
                await self._apps_event(conn, tenant_id, role_id, [], [application_id], actor)
        return added

    async def remove_application_role(
        self, tenant_id: str, application_id: str, role_id: str, actor: Actor | None
    ) -> None:
        async with self.engine.begin() as conn:
            await find_role(self.roles, conn, tenant_id, role_id)
            if not await self.members.remove_application_roles(conn, tenant_id, [(application_id, role_id)]):
                raise NotFound("entity.not_exists_with_id", name="role", id=role_id)
            await self._apps_event(conn, tenant_id, role_id, [], [application_id], actor)

    # events

    async def _users_event(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        role_id: str,
        added: list[str],
        removed: list[str],
        actor: Actor | None,
    ) -> None:
        event = RoleUsersUpdated(role_id=role_id, added_user_ids=added, removed_user_ids=removed)
        await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)

    async def _apps_event(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        role_id: str,
        added: list[str],
        removed: list[str],
        actor: Actor | None,
    ) -> None:
        event = RoleApplicationsUpdated(role_id=role_id, added_application_ids=added, removed_application_ids=removed)
        await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)
