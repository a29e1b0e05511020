"""Wires the experience service: the sign-in and registration flows of Logto's Experience API (password,
social, enterprise SSO and email verification codes) and the core of its Account API (identity answers their
RPCs)."""

from gatehouse_platform.config import load_settings
from gatehouse_platform.service import ServiceContext, component, create_service_app
from litestar import Litestar

from gatehouse_experience.account import AccountApi
from gatehouse_experience.account_identities import AccountIdentities
from gatehouse_experience.account_security import AccountSecurity
from gatehouse_experience.api import (
    account,
    account_identities,
    account_security,
    experience,
    profile,
    social,
    sso,
    verifications,
)
from gatehouse_experience.config import ExperienceSettings
from gatehouse_experience.forgot_password import ForgotPasswordFlow
from gatehouse_experience.interactions import InteractionStore
from gatehouse_experience.registration import RegistrationFlow
from gatehouse_experience.sign_in import SignInFlow
from gatehouse_experience.social import SocialVerifications
from gatehouse_experience.sso import SsoVerifications
from gatehouse_experience.verification_codes import CodeVerifications
from gatehouse_experience.verifications import SqlVerificationRecords, Verifications

COMPONENTS = (
    "sign_in",
    "registration",
    "forgot_password",
    "social",
    "sso",
    "codes",
    "account",
    "account_security",
    "account_identities",
    "verifications",
)


async def setup(ctx: ServiceContext) -> None:
    assert ctx.outbox is not None
    socials = SocialVerifications(ctx.engine, ctx.rpc, InteractionStore())
    ctx.components["social"] = socials
    ssos = SsoVerifications(ctx.engine, ctx.rpc, InteractionStore())
    ctx.components["sso"] = ssos
    codes = CodeVerifications(ctx.engine, ctx.rpc, InteractionStore())
    ctx.components["codes"] = codes
    forgot = ForgotPasswordFlow(ctx.engine, ctx.rpc, InteractionStore(), ctx.outbox, codes)
    ctx.components["forgot_password"] = forgot
    ctx.components["sign_in"] = SignInFlow(
        ctx.engine, ctx.rpc, InteractionStore(), ctx.outbox, socials, ssos, codes, forgot
    )
    ctx.components["registration"] = RegistrationFlow(ctx.engine, ctx.rpc, InteractionStore(), socials, ssos, codes)
    checks = Verifications(ctx.engine, ctx.rpc, SqlVerificationRecords())
    ctx.components["verifications"] = checks
    ctx.components["account"] = AccountApi(ctx.engine, ctx.rpc, checks)
    ctx.components["account_security"] = AccountSecurity(ctx.engine, ctx.rpc, checks)
    ctx.components["account_identities"] = AccountIdentities(ctx.rpc, checks)


def create_app(settings: ExperienceSettings | None = None) -> Litestar:
    settings = settings or load_settings(ExperienceSettings)
    return create_service_app(
        settings,
        route_handlers=[
            *experience.ROUTES,
            *profile.ROUTES,
            *social.ROUTES,
            *sso.ROUTES,
            *account.ROUTES,
            *account_security.ROUTES,
            *account_identities.ROUTES,
            *verifications.ROUTES,
        ],
        schema="experience",
        setup=setup,
        dependencies={name: component(name) for name in COMPONENTS},
        title="Gatehouse experience",
        description="The sign-in, registration and password reset flows of Logto's Experience API and its Account API.",
    )
