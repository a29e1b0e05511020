"""Wires the experience service: its schema's outbox relay, health and readiness; no API routes yet."""

from gatehouse_platform.config import load_settings
from gatehouse_platform.service import create_service_app
from litestar import Litestar

from gatehouse_experience.config import ExperienceSettings


def create_app(settings: ExperienceSettings | None = None) -> Litestar:
    settings = settings or load_settings(ExperienceSettings)
    return create_service_app(settings, route_handlers=[], schema="experience", title="Gatehouse experience")
