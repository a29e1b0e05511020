"""Wires the organizations service: the organization template (roles, scopes), organizations with their
members (users and applications), the organizations users consented third-party applications to, invitations
and just-in-time provisioning rules."""

from gatehouse_platform.config import load_settings
from gatehouse_platform.guards import management_api_guard
from gatehouse_platform.service import ServiceContext, component, create_service_app
from litestar import Litestar, Router

from gatehouse_organizations import membership_setup, template_setup
from gatehouse_organizations.api import organizations, template
from gatehouse_organizations.config import OrganizationsSettings

COMPONENTS = (*template_setup.COMPONENTS, *membership_setup.COMPONENTS)


async def setup(ctx: ServiceContext) -> None:
    await template_setup.setup(ctx)
    await membership_setup.setup(ctx)


def create_app(settings: OrganizationsSettings | None = None) -> Litestar:
    settings = settings or load_settings(OrganizationsSettings)
    management_api = Router(
        "/", route_handlers=[*template.ROUTES, *organizations.ROUTES], guards=[management_api_guard]
    )
    return create_service_app(
        settings,
        route_handlers=[management_api],
        schema="organizations",
        setup=setup,
        dependencies={name: component(name) for name in COMPONENTS},
        title="Gatehouse organizations",
        description=(
            "Organizations, the organization template (roles and scopes), memberships, invitations and "
            "just-in-time provisioning rules."
        ),
    )
