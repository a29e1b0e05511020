"""Wires the management service."""

from gatehouse_connectors import FACTORIES
from gatehouse_platform.config import load_settings
from gatehouse_platform.consumer import EventConsumer
from gatehouse_platform.guards import management_api_guard
from gatehouse_platform.service import ServiceContext, component, create_service_app
from litestar import Litestar, Router

from gatehouse_management.api import (
    account_center,
    admin_console,
    application_secrets,
    application_settings,
    applications,
    captcha_provider,
    connector_factories,
    connectors,
    custom_phrases,
    custom_profile_fields,
    member_roles,
    resources,
    roles,
    sign_in_experience,
    sso_connectors,
)
from gatehouse_management.config import ManagementSettings
from gatehouse_management.events.user_roles import (
    CONSUMED_EVENT_TYPES,
    USER_ROLES_CONSUMER,
    UserRoleLinks,
    consumed_subject,
)
from gatehouse_management.persistence.account_center import AccountCenterStore
from gatehouse_management.persistence.application_secrets import SecretStore
from gatehouse_management.persistence.application_settings import ApplicationSettingsStore
from gatehouse_management.persistence.applications import ApplicationStore
from gatehouse_management.persistence.captcha_provider import CaptchaProviderStore
from gatehouse_management.persistence.connectors import ConnectorStore
from gatehouse_management.persistence.consent_scopes import ConsentScopeStore
from gatehouse_management.persistence.custom_phrases import CustomPhraseStore
from gatehouse_management.persistence.custom_profile_fields import CustomProfileFieldStore
from gatehouse_management.persistence.logto_configs import LogtoConfigStore
from gatehouse_management.persistence.resources import ResourceStore, ScopeStore
from gatehouse_management.persistence.role_members import RoleMemberStore
from gatehouse_management.persistence.roles import RoleStore
from gatehouse_management.persistence.sign_in_experience import SignInExperienceStore
from gatehouse_management.persistence.sso_connectors import SamlSigningKeyStore, SsoConnectorStore
from gatehouse_management.services.account_center import AccountCenterService
from gatehouse_management.services.admin_console import AdminConsoleService
from gatehouse_management.services.application_secrets import ApplicationSecretService
from gatehouse_management.services.application_settings import ApplicationSettingsService
from gatehouse_management.services.applications import ApplicationService
from gatehouse_management.services.captcha_provider import CaptchaProviderService
from gatehouse_management.services.connectors import ConnectorService
from gatehouse_management.services.consent_scopes import ConsentScopeService
from gatehouse_management.services.custom_phrases import CustomPhraseService
from gatehouse_management.services.custom_profile_fields import CustomProfileFieldService
from gatehouse_management.services.pwned_passwords import RangeApi
from gatehouse_management.services.resources import ResourceService
from gatehouse_management.services.role_assignments import RoleAssignmentService
from gatehouse_management.services.roles import RoleService
from gatehouse_management.services.sign_in_experience import SignInExperienceService
from gatehouse_management.services.sso_connectors import SsoConnectorService
from gatehouse_management.services.sso_signing_keys import SamlSigningKeyService

COMPONENTS = (
    *("applications", "secrets", "consent", "app_settings", "resources", "roles", "assignments"),
    *("sign_in_experience", "custom_phrases"),
    *("account_center", "captcha_provider", "custom_profile_fields", "admin_console", "connectors"),
    *("sso_connectors", "saml_signing_keys"),
)


async def setup(ctx: ServiceContext) -> None:
    assert ctx.outbox is not None
    apps = ApplicationStore()
    ctx.components["applications"] = ApplicationService(ctx.engine, apps, ctx.outbox)
    ctx.components["secrets"] = ApplicationSecretService(ctx.engine, apps, SecretStore(), ctx.outbox)
    ctx.components["consent"] = ConsentScopeService(ctx.engine, apps, ConsentScopeStore(), ctx.outbox)
    ctx.components["resources"] = ResourceService(ctx.engine, ResourceStore(), ScopeStore(), ctx.outbox)
    role_store, members = RoleStore(), RoleMemberStore()
    ctx.components["roles"] = RoleService(ctx.engine, role_store, members, ctx.outbox)
    ctx.components["assignments"] = RoleAssignmentService(ctx.engine, role_store, members, apps, ctx.outbox)
    ctx.components["app_settings"] = ApplicationSettingsService(
        ctx.engine, apps, ApplicationSettingsStore(), role_store, ctx.outbox
    )
    s = ctx.settings
    assert isinstance(s, ManagementSettings)
    experiences, phrases, connector_store = SignInExperienceStore(), CustomPhraseStore(), ConnectorStore()
    ctx.components["sign_in_experience"] = SignInExperienceService(
        ctx.engine, experiences, phrases, connector_store, RangeApi(s.pwned_passwords_url), ctx.outbox
    )
    ctx.components["connectors"] = ConnectorService(ctx.engine, connector_store, experiences, ctx.outbox, FACTORIES)
    ctx.components["custom_phrases"] = CustomPhraseService(ctx.engine, phrases, experiences, ctx.outbox)
    account_centers, profile_fields = AccountCenterStore(), CustomProfileFieldStore()
    ctx.components["account_center"] = AccountCenterService(ctx.engine, account_centers, profile_fields)
    ctx.components["captcha_provider"] = CaptchaProviderService(
        ctx.engine, CaptchaProviderStore(), experiences, ctx.outbox
    )
    ctx.components["custom_profile_fields"] = CustomProfileFieldService(
        ctx.engine, profile_fields, experiences, account_centers, ctx.outbox
    )
    ctx.components["admin_console"] = AdminConsoleService(ctx.engine, LogtoConfigStore())
    sso_store, signing_keys = SsoConnectorStore(), SamlSigningKeyStore()
    ctx.components["sso_connectors"] = SsoConnectorService(
        ctx.engine, sso_store, signing_keys, ctx.outbox, s.public_url
    )
    ctx.components["saml_signing_keys"] = SamlSigningKeyService(ctx.engine, sso_store, signing_keys, s.public_url)
    consumer = EventConsumer(
        js=ctx.js,
        engine=ctx.engine,
        stream=s.events_stream,
        inbox_schema="management",
        durable=USER_ROLES_CONSUMER,
        filter_subject=consumed_subject(s.subject_prefix),
        handler=UserRoleLinks(members, ctx.outbox),
        subject_prefix=s.subject_prefix,
        max_deliver=s.consumer_max_deliver,
        event_types=CONSUMED_EVENT_TYPES,
    )
    await consumer.ensure()
    ctx.spawn(consumer.run(), USER_ROLES_CONSUMER)


def create_app(settings: ManagementSettings | None = None) -> Litestar:
    settings = settings or load_settings(ManagementSettings)
    management_api = Router(
        "/",
        route_handlers=[
            *applications.ROUTES,
            *application_secrets.ROUTES,
            *application_settings.ROUTES,
            *resources.ROUTES,
            *roles.ROUTES,
            *member_roles.ROUTES,
            *sign_in_experience.ROUTES,
            *custom_phrases.ROUTES,
            *account_center.ROUTES,
            *captcha_provider.ROUTES,
            *custom_profile_fields.ROUTES,
            *admin_console.ROUTES,
            *connectors.ROUTES,
            *connector_factories.ROUTES,
            *sso_connectors.ROUTES,
        ],
        guards=[management_api_guard],
    )
    return create_service_app(
        settings,
        route_handlers=[management_api],
        schema="management",
        setup=setup,
        dependencies={name: component(name) for name in COMPONENTS},
        title="Gatehouse management",
        description=(
            "Applications, API resources, scopes, roles, the sign-in experience, custom phrases, the account "
            "center, the captcha provider, custom profile fields, the admin console config, connectors, "
            "connector factories and enterprise SSO connectors."
        ),
    )
