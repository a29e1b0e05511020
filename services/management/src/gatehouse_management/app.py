"""Wires the management service."""

from gatehouse_platform.config import load_settings
from gatehouse_platform.guards import management_api_guard
from gatehouse_platform.service import ServiceContext, component, create_service_app
from litestar import Litestar, Router

from gatehouse_management.api import applications, member_roles, resources, roles
from gatehouse_management.config import ManagementSettings
from gatehouse_management.persistence.applications import ApplicationStore
from gatehouse_management.persistence.resources import ResourceStore, ScopeStore
from gatehouse_management.persistence.role_members import RoleMemberStore
from gatehouse_management.persistence.roles import RoleStore
from gatehouse_management.services.applications import ApplicationService
from gatehouse_management.services.resources import ResourceService
from gatehouse_management.services.role_assignments import RoleAssignmentService
from gatehouse_management.services.roles import RoleService


async def setup(ctx: ServiceContext) -> None:
    assert ctx.outbox is not None
    ctx.components["applications"] = ApplicationService(ctx.engine, ApplicationStore(), ctx.outbox)
    ctx.components["resources"] = ResourceService(ctx.engine, ResourceStore(), ScopeStore(), ctx.outbox)
    role_store, members = RoleStore(), RoleMemberStore()
    ctx.components["roles"] = RoleService(ctx.engine, role_store, members, ctx.outbox)
    ctx.components["assignments"] = RoleAssignmentService(
        ctx.engine, role_store, members, ApplicationStore(), ctx.outbox
    )


def create_app(settings: ManagementSettings | None = None) -> Litestar:
    settings = settings or load_settings(ManagementSettings)
    management_api = Router(
        "/",
        route_handlers=[*applications.ROUTES, *resources.ROUTES, *roles.ROUTES, *member_roles.ROUTES],
        guards=[management_api_guard],
    )
    return create_service_app(
        settings,
        route_handlers=[management_api],
        schema="management",
        setup=setup,
        dependencies={name: component(name) for name in ("applications", "resources", "roles", "assignments")},
        title="Gatehouse management",
        description="Applications, API resources, scopes and roles.",
    )
