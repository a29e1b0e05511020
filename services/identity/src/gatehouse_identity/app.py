"""Wires the identity service: keyring, client cache, token endpoint, users, event subscriptions."""

from typing import Any

import msgspec
from gatehouse_platform.config import load_settings
from gatehouse_platform.guards import management_api_guard
from gatehouse_platform.service import ServiceContext, component, create_service_app
from gatehouse_schema.events import CloudEvent
from litestar import Litestar, Router

from gatehouse_identity.api import oidc, users
from gatehouse_identity.config import IdentitySettings
from gatehouse_identity.keys.keyring import Keyring
from gatehouse_identity.oidc.clients import ClientCache
from gatehouse_identity.oidc.grants.client_credentials import ClientCredentialsGrant
from gatehouse_identity.oidc.issuer import AccessTokenIssuer
from gatehouse_identity.oidc.token_endpoint import TokenEndpoint
from gatehouse_identity.passwords import PasswordHasher
from gatehouse_identity.persistence.users import UserStore
from gatehouse_identity.services.users import UserService


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
    ctx.components.update(
        keyring=keyring,
        clients=clients,
        token_endpoint=TokenEndpoint(clients, [ClientCredentialsGrant(ctx.engine, issuer)]),
        users=UserService(ctx.engine, UserStore(), passwords, ctx.outbox),
    )

    async def on_application_event(msg: Any) -> None:
        try:
            event = msgspec.json.decode(msg.data, type=CloudEvent)
        except msgspec.DecodeError:
            return
        clients.invalidate(event.tenantid, event.subject)

    async def on_key_event(_: Any) -> None:
        await keyring.load()

    prefix = settings.subject_prefix
    await ctx.nc.subscribe(f"{prefix}.evt.*.management.Application.>", cb=on_application_event)
    await ctx.nc.subscribe(f"{prefix}.evt.*.identity.SigningKey.Rotated", cb=on_key_event)

    async def on_reconnect() -> None:  # invalidations may have been missed while disconnected
        clients.clear()
        await keyring.load()

    ctx.on_reconnect.append(on_reconnect)


def create_app(settings: IdentitySettings | None = None) -> Litestar:
    settings = settings or load_settings(IdentitySettings)
    management_api = Router("/", route_handlers=users.ROUTES, guards=[management_api_guard])
    return create_service_app(
        settings,
        route_handlers=[*oidc.ROUTES, management_api],  # `/oidc` stays unguarded
        schema="identity",
        setup=setup,
        dependencies={
            "keyring": component("keyring"),
            "endpoint": component("token_endpoint"),
            "users": component("users"),
        },
        title="Gatehouse identity",
        description="OpenID Provider and users.",
    )
