"""Wires the organizations service: its schema's outbox relay, health and readiness; no API routes yet."""

from gatehouse_platform.config import load_settings
from gatehouse_platform.service import create_service_app
from litestar import Litestar

from gatehouse_organizations.config import OrganizationsSettings


def create_app(settings: OrganizationsSettings | None = None) -> Litestar:
    settings = settings or load_settings(OrganizationsSettings)
    return create_service_app(settings, route_handlers=[], schema="organizations", title="Gatehouse organizations")
