"""Wires the identity service: keyring, client cache, token endpoint, users, event subscriptions."""

from typing import Any

import msgspec
from gatehouse_platform.config import load_settings
from gatehouse_platform.consumer import EventConsumer
from gatehouse_platform.guards import management_api_guard
from gatehouse_platform.service import ServiceContext, component, create_service_app
from gatehouse_schema.events import CloudEvent
from litestar import Litestar, Router

from gatehouse_identity.account_rpc import register_account_security_rpc
from gatehouse_identity.api import (
    actions,
    authn,
    cimd_config,
    oidc,
    oidc_configs,
    oidc_device,
    personal_access_tokens,
    secrets,
    subject_tokens,
    token_configs,
    user_identities,
    user_mfa,
    user_sessions,
    users,
)
from gatehouse_identity.config import IdentitySettings
from gatehouse_identity.domain.secret_vault import SecretVault, parse_kek
from gatehouse_identity.events.connector_secrets import (
    CONNECTOR_SECRETS_CONSUMER,
    CONSUMED_EVENT_TYPES,
    ConnectorSecrets,
    consumed_subject,
)
from gatehouse_identity.events.sso_identities import (
    SSO_IDENTITIES_CONSUMER,
    SSO_IDENTITY_EVENT_TYPES,
    drop_sso_identities,
    sso_identities_subject,
)
from gatehouse_identity.keys.keyring import Keyring
from gatehouse_identity.keys.service import OidcKeyService
from gatehouse_identity.keys.session_config import OidcSessionConfig
from gatehouse_identity.oidc.authorization import AuthorizationService
from gatehouse_identity.oidc.backchannel import BackchannelLogout
from gatehouse_identity.oidc.clients import ClientCache
from gatehouse_identity.oidc.cookies import CookieSigner
from gatehouse_identity.oidc.cors import OidcCors
from gatehouse_identity.oidc.device import DeviceFlow
from gatehouse_identity.oidc.end_session import EndSession
from gatehouse_identity.oidc.grants.authorization_code import AuthorizationCodeGrant
from gatehouse_identity.oidc.grants.client_credentials import ClientCredentialsGrant
from gatehouse_identity.oidc.grants.device_code import DeviceCodeGrant
from gatehouse_identity.oidc.grants.refresh_token import RefreshTokenGrant
from gatehouse_identity.oidc.grants.token_exchange import TokenExchangeGrant
from gatehouse_identity.oidc.hasura import HasuraAuthn
from gatehouse_identity.oidc.interaction_rpc import register_interaction_rpc
from gatehouse_identity.oidc.introspection import TokenIntrospection
from gatehouse_identity.oidc.issuer import AccessTokenIssuer
from gatehouse_identity.oidc.minting import TokenMinter
from gatehouse_identity.oidc.sweeper import OidcSweeper
from gatehouse_identity.oidc.token_configs import TokenConfigs
from gatehouse_identity.oidc.token_endpoint import Grant, TokenEndpoint
from gatehouse_identity.oidc.user_sessions import UserSessionService
from gatehouse_identity.oidc.userinfo import UserinfoEndpoint
from gatehouse_identity.passwords import PasswordHasher
from gatehouse_identity.persistence.action_configs import ActionConfigStore
from gatehouse_identity.persistence.personal_access_tokens import PersonalAccessTokenStore
from gatehouse_identity.persistence.secrets import SecretStore
from gatehouse_identity.persistence.subject_tokens import SubjectTokenStore
from gatehouse_identity.persistence.user_identities import UserIdentityStore
from gatehouse_identity.persistence.users import UserStore
from gatehouse_identity.services.action_runs import ActionRuns
from gatehouse_identity.services.actions import ActionConfigService
from gatehouse_identity.services.cimd_config import CimdConfigService
from gatehouse_identity.services.personal_access_tokens import PersonalAccessTokenService
from gatehouse_identity.services.saml_sign_in import SamlSignIn
from gatehouse_identity.services.social_links import SocialLinkService
from gatehouse_identity.services.sso_identities import SsoIdentityService
from gatehouse_identity.services.subject_tokens import SubjectTokenService
from gatehouse_identity.services.user_identities import UserIdentityService
from gatehouse_identity.services.user_mfa import UserMfaService
from gatehouse_identity.services.users import UserService
from gatehouse_identity.user_rpc import register_user_rpc


async def setup(ctx: ServiceContext) -> None:
    settings = ctx.settings
    assert isinstance(settings, IdentitySettings)
    assert ctx.outbox is not None
    keyring = Keyring(ctx.engine, settings.default_tenant_id)
    await keyring.ensure_key()
    await keyring.load()
    clients = ClientCache(ctx.engine, ttl=settings.client_cache_ttl)
    issuer = AccessTokenIssuer(keyring, settings.issuer)
    passwords = PasswordHasher(
        memory_kib=settings.password_hash_memory_kib,
        time_cost=settings.password_hash_time_cost,
        parallelism=settings.password_hash_parallelism,
        concurrency=settings.password_hash_concurrency,
    )
    cookies = CookieSigner(ctx.engine, settings.default_tenant_id)
    await cookies.load()
    claims = TokenConfigs(ctx.engine, ctx.outbox)
    minter = TokenMinter(keyring, issuer, settings.issuer, claims)
    backchannel = BackchannelLogout(keyring, clients, settings.issuer)
    authorization = AuthorizationService(ctx.engine, clients, cookies, settings.issuer, settings.public_url)
    grants: list[Grant] = [
        ClientCredentialsGrant(ctx.engine, issuer, claims),
        AuthorizationCodeGrant(ctx.engine, minter),
        RefreshTokenGrant(ctx.engine, minter),
        TokenExchangeGrant(
            ctx.engine, issuer, keyring, settings.issuer, SubjectTokenStore(), PersonalAccessTokenStore()
        ),
        DeviceCodeGrant(ctx.engine, minter),
    ]
    hasura_authn = HasuraAuthn(ctx.engine, keyring, settings.issuer)
    register_interaction_rpc(ctx, authorization)
    users = UserService(ctx.engine, UserStore(), passwords, ctx.outbox)
    user_mfa = UserMfaService(ctx.engine, UserStore(), ctx.outbox)
    action_configs = ActionConfigService(ctx.engine, ActionConfigStore())
    action_runs = ActionRuns(ctx.engine, action_configs, users, UserStore(), UserIdentityStore())
    session_service = UserSessionService(ctx.engine, UserStore())
    register_account_security_rpc(ctx, users, user_mfa, UserStore())
    identities = UserIdentityService(ctx.engine, UserStore(), UserIdentityStore(), ctx.outbox)
    kek = parse_kek(settings.secret_vault_kek)
    vault = SecretVault(kek) if kek is not None else None
    social_links = SocialLinkService(ctx.engine, identities, SecretStore(), vault)
    sso_identities = SsoIdentityService(identities, SecretStore(), vault)
    register_user_rpc(ctx, users, UserStore(), user_mfa, action_runs, social_links, sso_identities)
    sso_identities.register_rpc(ctx)
    ctx.components.update(
        keyring=keyring,
        clients=clients,
        authorization=authorization,
        device_flow=DeviceFlow(ctx.engine, clients, cookies, settings.issuer, settings.public_url),
        userinfo=UserinfoEndpoint(ctx.engine, clients),
        token_tools=TokenIntrospection(ctx.engine, clients, settings.issuer),
        end_session=EndSession(ctx.engine, clients, cookies, keyring, settings.issuer, backchannel),
        backchannel=backchannel,
        token_configs=claims,
        hasura_authn=hasura_authn,
        user_sessions=session_service,
        token_endpoint=TokenEndpoint(clients, grants),
        users=users,
        user_identities=identities,
        social_links=social_links,
        sso_identities=sso_identities,
        user_mfa=user_mfa,
        personal_access_tokens=PersonalAccessTokenService(ctx.engine, PersonalAccessTokenStore(), UserStore()),
        subject_tokens=SubjectTokenService(ctx.engine, SubjectTokenStore()),
        oidc_keys=OidcKeyService(ctx.engine, ctx.outbox, keyring),
        session_config=OidcSessionConfig(ctx.engine),
        cimd_config=CimdConfigService(ctx.engine),
        action_configs=action_configs,
        saml_sign_in=SamlSignIn(ctx.engine, settings.public_url),
        oidc_sweeper=OidcSweeper(
            ctx.engine, interval=settings.oidc_sweep_interval, batch_size=settings.oidc_sweep_batch_size
        ),
    )

    async def on_application_event(msg: Any) -> None:
        try:
            event = msgspec.json.decode(msg.data, type=CloudEvent)
        except msgspec.DecodeError:
            return
        clients.invalidate(event.tenantid, event.subject)

    async def on_key_event(_: Any) -> None:  # signing or cookie keys rotated (here or in another replica)
        await keyring.load()
        await cookies.load()
        hasura_authn.invalidate_keys()

    prefix = settings.subject_prefix
    await ctx.nc.subscribe(f"{prefix}.evt.*.management.Application.>", cb=on_application_event)
    await ctx.nc.subscribe(f"{prefix}.evt.*.identity.SigningKey.Rotated", cb=on_key_event)

    async def on_token_config_event(msg: Any) -> None:
        try:
            claims.invalidate(msgspec.json.decode(msg.data, type=CloudEvent).tenantid)
        except msgspec.DecodeError:
            claims.invalidate(None)

    await ctx.nc.subscribe(f"{prefix}.evt.*.identity.TokenConfig.Updated", cb=on_token_config_event)

    async def on_reconnect() -> None:  # invalidations may have been missed while disconnected
        clients.clear()
        claims.invalidate(None)
        await keyring.load()
        await cookies.load()
        hasura_authn.invalidate_keys()

    ctx.on_reconnect.append(on_reconnect)
    ctx.components["social_links"].register_rpc(ctx)
    ctx.components["saml_sign_in"].register_rpc(ctx)
    connector_secrets = EventConsumer(
        js=ctx.js,
        engine=ctx.engine,
        stream=settings.events_stream,
        inbox_schema="identity",
        durable=CONNECTOR_SECRETS_CONSUMER,
        filter_subject=consumed_subject(prefix),
        handler=ConnectorSecrets(SecretStore()),
        subject_prefix=prefix,
        max_deliver=settings.consumer_max_deliver,
        event_types=CONSUMED_EVENT_TYPES,
    )
    await connector_secrets.ensure()
    ctx.spawn(connector_secrets.run(), CONNECTOR_SECRETS_CONSUMER)
    sso_identity_cleanup = EventConsumer(
        js=ctx.js,
        engine=ctx.engine,
        stream=settings.events_stream,
        inbox_schema="identity",
        durable=SSO_IDENTITIES_CONSUMER,
        filter_subject=sso_identities_subject(prefix),
        handler=drop_sso_identities,
        subject_prefix=prefix,
        max_deliver=settings.consumer_max_deliver,
        event_types=SSO_IDENTITY_EVENT_TYPES,
    )
    await sso_identity_cleanup.ensure()
    ctx.spawn(sso_identity_cleanup.run(), SSO_IDENTITIES_CONSUMER)
    ctx.spawn(ctx.components["oidc_keys"].run_promotions(), "oidc-key-promotion")
    ctx.spawn(ctx.components["oidc_sweeper"].run(), "oidc-sweeper")  # cancelled at shutdown with the other tasks


USER_RESOURCE_ROUTES = [
    *user_identities.ROUTES,
    *user_mfa.ROUTES,
    *personal_access_tokens.ROUTES,
    *subject_tokens.ROUTES,
    *user_sessions.ROUTES,
]


def create_app(settings: IdentitySettings | None = None) -> Litestar:
    settings = settings or load_settings(IdentitySettings)
    management_api = Router(
        "/",
        route_handlers=[
            *users.ROUTES,
            *USER_RESOURCE_ROUTES,
            *oidc_configs.ROUTES,
            *cimd_config.ROUTES,
            *actions.ROUTES,
            *token_configs.ROUTES,
            *secrets.ROUTES,
        ],
        guards=[management_api_guard],
    )
    return create_service_app(
        settings,
        http_middleware=OidcCors,
        # `/oidc` and `/api/authn` stay unguarded
        route_handlers=[*oidc.ROUTES, *oidc_device.ROUTES, *authn.ROUTES, management_api],
        schema="identity",
        setup=setup,
        dependencies={
            "keyring": component("keyring"),
            "endpoint": component("token_endpoint"),
            "authorization": component("authorization"),
            "device_flow": component("device_flow"),
            "userinfo": component("userinfo"),
            "tokens": component("token_tools"),
            "logout": component("end_session"),
            "users": component("users"),
            "user_identities": component("user_identities"),
            "social_links": component("social_links"),
            "sso_identities": component("sso_identities"),
            "saml_sign_in": component("saml_sign_in"),
            "user_mfa": component("user_mfa"),
            "personal_access_tokens": component("personal_access_tokens"),
            "subject_tokens": component("subject_tokens"),
            "oidc_keys": component("oidc_keys"),
            "session_config": component("session_config"),
            "cimd_config": component("cimd_config"),
            "action_configs": component("action_configs"),
            "token_configs": component("token_configs"),
            "user_sessions": component("user_sessions"),
            "hasura_authn": component("hasura_authn"),
        },
        title="Gatehouse identity",
        description="OpenID Provider and users.",
    )
