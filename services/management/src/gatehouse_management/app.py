"""Wires the management service."""

from gatehouse_platform.config import load_settings
from gatehouse_platform.guards import management_api_guard
from gatehouse_platform.service import ServiceContext, component, create_service_app
from litestar import Litestar, Router

from gatehouse_management.api import applications, resources
from gatehouse_management.config import ManagementSettings
from gatehouse_management.persistence.applications import ApplicationStore
from gatehouse_management.persistence.resources import ResourceStore, ScopeStore
from gatehouse_management.services.applications import ApplicationService
from gatehouse_management.services.resources import ResourceService


async def setup(ctx: ServiceContext) -> None:
    assert ctx.outbox is not None
    ctx.components["applications"] = ApplicationService(ctx.engine, ApplicationStore(), ctx.outbox)
    ctx.components["resources"] = ResourceService(ctx.engine, ResourceStore(), ScopeStore(), ctx.outbox)


def create_app(settings: ManagementSettings | None = None) -> Litestar:
    settings = settings or load_settings(ManagementSettings)
    management_api = Router(
        "/", route_handlers=[*applications.ROUTES, *resources.ROUTES], guards=[management_api_guard]
    )
    return create_service_app(
        settings,
        route_handlers=[management_api],
        schema="management",
        setup=setup,
        dependencies={"applications": component("applications"), "resources": component("resources")},
        title="Gatehouse management",
        description="Applications, API resources, scopes and roles.",
    )
