"""Wires the experience service: the sign-in and registration flows of Logto's Experience API (identity
answers their RPCs)."""

from gatehouse_platform.config import load_settings
from gatehouse_platform.service import ServiceContext, component, create_service_app
from litestar import Litestar

from gatehouse_experience.api import experience, profile
from gatehouse_experience.config import ExperienceSettings
from gatehouse_experience.interactions import InteractionStore
from gatehouse_experience.registration import RegistrationFlow
from gatehouse_experience.sign_in import SignInFlow

COMPONENTS = ("sign_in", "registration")


async def setup(ctx: ServiceContext) -> None:
    assert ctx.outbox is not None
    ctx.components["sign_in"] = SignInFlow(ctx.engine, ctx.rpc, InteractionStore(), ctx.outbox)
    ctx.components["registration"] = RegistrationFlow(ctx.engine, ctx.rpc, InteractionStore())


def create_app(settings: ExperienceSettings | None = None) -> Litestar:
    settings = settings or load_settings(ExperienceSettings)
    return create_service_app(
        settings,
        route_handlers=[*experience.ROUTES, *profile.ROUTES],
        schema="experience",
        setup=setup,
        dependencies={name: component(name) for name in COMPONENTS},
        title="Gatehouse experience",
        description="The sign-in and registration flows of Logto's Experience API.",
    )
