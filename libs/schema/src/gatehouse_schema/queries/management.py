"""Reads of the management context's tables that other services may run (identity mints tokens with them)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_schema.api.applications import Application, CustomClientMetadata, OidcClientMetadata
from gatehouse_schema.api.resources import Resource
from gatehouse_schema.api.roles import ScopeWithResource
from gatehouse_schema.api.sso_connectors import SsoConnector
from gatehouse_schema.sso import PROVIDER_TYPES, ProviderType
from gatehouse_schema.tables import management as t


class ClientSecret(msgspec.Struct, frozen=True):
    name: str
    value: str
    expires_at: datetime | None


class ClientRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the token endpoint needs to know about an application."""

    id: str
    type: str
    legacy_secret: str | None
    secrets: tuple[ClientSecret, ...]
    oidc_client_metadata: dict[str, Any]
    custom_client_metadata: dict[str, Any]
    is_third_party: bool
    name: str = ""
    custom_data: dict[str, Any] = msgspec.field(default_factory=dict)  # JWT customizer context


class ResourceRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    indicator: str
    access_token_ttl: int


async def get_client(conn: AsyncConnection, tenant_id: str, client_id: str) -> ClientRecord | None:
    row = (
        await conn.execute(
            sa.select(
                t.applications.c.id,
                t.applications.c.type,
                t.applications.c.secret,
                t.applications.c.oidc_client_metadata,
                t.applications.c.custom_client_metadata,
                t.applications.c.is_third_party,
                t.applications.c.name,
                t.applications.c.custom_data,
            ).where(t.applications.c.tenant_id == tenant_id, t.applications.c.id == client_id)
        )
    ).one_or_none()
    if row is None:
        return None
    secret_rows = await conn.execute(
        sa.select(
            t.application_secrets.c.name, t.application_secrets.c.value, t.application_secrets.c.expires_at
        ).where(
            t.application_secrets.c.tenant_id == tenant_id,
            t.application_secrets.c.application_id == client_id,
        )
    )
    return ClientRecord(
        id=row.id,
        type=row.type,
        legacy_secret=row.secret,
        secrets=tuple(ClientSecret(r.name, r.value, r.expires_at) for r in secret_rows),
        oidc_client_metadata=row.oidc_client_metadata,
        custom_client_metadata=row.custom_client_metadata,
        is_third_party=row.is_third_party,
        name=row.name,
        custom_data=row.custom_data or {},
    )


async def get_resource_by_indicator(conn: AsyncConnection, tenant_id: str, indicator: str) -> ResourceRecord | None:
    row = (
        await conn.execute(
            sa.select(t.resources.c.id, t.resources.c.indicator, t.resources.c.access_token_ttl).where(
                t.resources.c.tenant_id == tenant_id, t.resources.c.indicator == indicator
            )
        )
    ).one_or_none()
    return (
        None
        if row is None
        else ResourceRecord(id=row.id, indicator=row.indicator, access_token_ttl=row.access_token_ttl)
    )


def _scopes_of_roles(links: sa.Table) -> sa.Join:
    """`links` (users_roles or applications_roles) joined to the scopes their roles grant."""
    return links.join(
        t.roles_scopes,
        sa.and_(t.roles_scopes.c.tenant_id == links.c.tenant_id, t.roles_scopes.c.role_id == links.c.role_id),
    ).join(
        t.scopes,
        sa.and_(t.scopes.c.tenant_id == t.roles_scopes.c.tenant_id, t.scopes.c.id == t.roles_scopes.c.scope_id),
    )


async def user_resource_scopes(conn: AsyncConnection, tenant_id: str, user_id: str, resource_id: str) -> set[str]:
    """Names of the resource's scopes granted to the user through their roles."""
    query = (
        sa.select(t.scopes.c.name)
        .distinct()
        .select_from(_scopes_of_roles(t.users_roles))
        .where(
            t.users_roles.c.tenant_id == tenant_id,
            t.users_roles.c.user_id == user_id,
            t.scopes.c.resource_id == resource_id,
        )
    )
    return set((await conn.execute(query)).scalars())


async def user_role_names(conn: AsyncConnection, tenant_id: str, user_id: str) -> list[str]:
    """Names of the user's roles (the `roles` claim), sorted."""
    query = (
        sa.select(t.roles.c.name)
        .select_from(
            t.users_roles.join(
                t.roles,
                sa.and_(t.roles.c.tenant_id == t.users_roles.c.tenant_id, t.roles.c.id == t.users_roles.c.role_id),
            )
        )
        .where(t.users_roles.c.tenant_id == tenant_id, t.users_roles.c.user_id == user_id)
        .order_by(t.roles.c.name)
    )
    return list((await conn.execute(query)).scalars())


class ApplicationBrief(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    is_third_party: bool


async def application_briefs(conn: AsyncConnection, tenant_id: str, ids: list[str]) -> dict[str, ApplicationBrief]:
    """Name and party of the given applications (those that still exist), for listing a user's grants."""
    if not ids:
        return {}
    rows = await conn.execute(
        sa.select(t.applications.c.id, t.applications.c.name, t.applications.c.is_third_party).where(
            t.applications.c.tenant_id == tenant_id, t.applications.c.id.in_(ids)
        )
    )
    return {r.id: ApplicationBrief(id=r.id, name=r.name, is_third_party=r.is_third_party) for r in rows}


def resource_and_application_scopes_select() -> sa.Select[Any]:
    """A statement (not run) for `client_credentials`, in one round trip: the resource with the
    indicator (`id`, `indicator`, `access_token_ttl`; no row when unknown) and `granted`, the names of
    its scopes the application's roles grant (NULL when none). Bind parameters `tenant_id`, `application_id` and
    `indicator`, so the caller compiles it once."""
    tenant_id, application_id = (
        sa.bindparam("tenant_id", type_=sa.String),
        sa.bindparam("application_id", type_=sa.String),
    )
    granted = (
        sa.select(sa.func.array_agg(sa.distinct(t.scopes.c.name)))
        .select_from(_scopes_of_roles(t.applications_roles))
        .where(
            t.applications_roles.c.tenant_id == tenant_id,
            t.applications_roles.c.application_id == application_id,
            t.scopes.c.resource_id == t.resources.c.id,
        )
        .scalar_subquery()
    )
    return sa.select(
        t.resources.c.id, t.resources.c.indicator, t.resources.c.access_token_ttl, granted.label("granted")
    ).where(t.resources.c.tenant_id == tenant_id, t.resources.c.indicator == sa.bindparam("indicator", type_=sa.String))


def application_from_row(row: Any) -> Application:
    """An application (no secret) from a row of `management.applications` (its metadata as JSONB values)."""
    return Application(
        tenant_id=row.tenant_id,
        id=row.id,
        name=row.name,
        description=row.description,
        type=row.type,
        oidc_client_metadata=msgspec.convert(row.oidc_client_metadata, OidcClientMetadata),
        custom_client_metadata=msgspec.convert(row.custom_client_metadata, CustomClientMetadata),
        protected_app_metadata=row.protected_app_metadata,
        custom_data=row.custom_data,
        is_third_party=row.is_third_party,
        app_level_access_control_enabled=row.app_level_access_control_enabled,
        created_at=int(row.created_at.timestamp() * 1000),
    )


APPLICATION_COLUMNS = [c for c in t.applications.c if c.name != "secret"]
APPLICATION_SEARCH_FIELDS = ("id", "name", "description")


async def application_types(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> dict[str, str]:
    """id -> type of the given applications that exist (organizations admits MachineToMachine apps only)."""
    if not ids:
        return {}
    rows = await conn.execute(
        sa.select(t.applications.c.id, t.applications.c.type).where(
            t.applications.c.tenant_id == tenant_id, t.applications.c.id.in_(list(ids))
        )
    )
    return {r.id: r.type for r in rows}


def linked_applications_select(tenant_id: Any, link_application_id: Any, search_pattern: Any | None) -> sa.Select[Any]:
    """A statement (not run): the applications (columns `application_from_row` reads) a link table's rows name,
    joined on `link_application_id` (a column of the link table). The caller adds its conditions on the link
    table, its order and LIMIT. `search_pattern` (ILIKE, `%term%`) matches Logto's application search fields."""
    apps = t.applications
    on = sa.and_(apps.c.tenant_id == tenant_id, apps.c.id == link_application_id)
    query = sa.select(*APPLICATION_COLUMNS).join_from(link_application_id.table, apps, on)
    if search_pattern is not None:
        query = query.where(sa.or_(*(apps.c[name].ilike(search_pattern) for name in APPLICATION_SEARCH_FIELDS)))
    return query


async def scopes_with_resources(
    conn: AsyncConnection, tenant_id: str, ids: Sequence[str], *, lock: bool = False
) -> list[ScopeWithResource]:
    """The API resource scopes among `ids` that exist, each with its resource, oldest first.

    `lock` holds the scope rows (FOR KEY SHARE) until the caller's transaction ends: a context that stores
    these ids without a foreign key (organization roles) cannot then link a scope that management is deleting,
    whose `Scope.Deleted` would already have been handled. (PostgreSQL allows the lock with UPDATE privilege on
    one column of `management.scopes`.)"""
    if not ids:
        return []
    query = (
        sa.select(t.scopes, *[c.label(f"r_{c.name}") for c in t.resources.c])
        .select_from(
            t.scopes.join(
                t.resources,
                sa.and_(t.resources.c.tenant_id == t.scopes.c.tenant_id, t.resources.c.id == t.scopes.c.resource_id),
            )
        )
        .where(t.scopes.c.tenant_id == tenant_id, t.scopes.c.id.in_(list(dict.fromkeys(ids))))
        .order_by(t.scopes.c.created_at, t.scopes.c.id)
    )
    if lock:
        query = query.with_for_update(read=True, key_share=True, of=t.scopes)
    return [
        ScopeWithResource(
            tenant_id=r.tenant_id,
            id=r.id,
            resource_id=r.resource_id,
            name=r.name,
            description=r.description,
            created_at=int(r.created_at.timestamp() * 1000),
            resource=Resource(
                tenant_id=r.r_tenant_id,
                id=r.r_id,
                name=r.r_name,
                indicator=r.r_indicator,
                is_default=r.r_is_default,
                access_token_ttl=r.r_access_token_ttl,
            ),
        )
        for r in await conn.execute(query)
    ]


async def existing_scope_ids(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> set[str]:
    """Which of these API resource scope ids still exist."""
    if not ids:
        return set()
    rows = await conn.execute(
        sa.select(t.scopes.c.id).where(t.scopes.c.tenant_id == tenant_id, t.scopes.c.id.in_(list(ids)))
    )
    return set(rows.scalars())


async def sign_in_settings(conn: AsyncConnection, tenant_id: str) -> dict[str, Any] | None:
    """The tenant's sign-in experience settings (Logto's camelCase document), None before the seed wrote them:
    experience enforces the sign-in mode and methods with them."""
    query = sa.select(t.sign_in_experiences.c.settings).where(t.sign_in_experiences.c.tenant_id == tenant_id)
    settings: dict[str, Any] | None = (await conn.execute(query)).scalar_one_or_none()
    return settings


class AccountCenterSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What the Account API obeys: whether it is on, and each field's `Off`, `ReadOnly` or `Edit`."""

    enabled: bool = False
    fields: dict[str, str] = msgspec.field(default_factory=dict)


async def account_center(conn: AsyncConnection, tenant_id: str) -> AccountCenterSettings:
    """The tenant's account center, or Logto's seeded one (`enabled: false`, no fields) before the first PATCH
    wrote a row, as management's `GET /api/account-center` answers: experience's Account API obeys it."""
    query = sa.select(t.account_centers.c.enabled, t.account_centers.c.fields).where(
        t.account_centers.c.tenant_id == tenant_id
    )
    row = (await conn.execute(query)).one_or_none()
    if row is None:
        return AccountCenterSettings()
    fields = row.fields if isinstance(row.fields, dict) else {}
    return AccountCenterSettings(enabled=row.enabled, fields={k: str(v) for k, v in fields.items()})


class ConnectorRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A connector as identity and experience need it: which factory, its config, the target it links under."""

    id: str
    connector_id: str
    config: dict[str, Any]
    metadata: dict[str, Any]
    sync_profile: bool
    enable_token_storage: bool


def connector_from_row(row: Any) -> ConnectorRecord:
    return ConnectorRecord(
        id=row.id,
        connector_id=row.connector_id,
        config=row.config,
        metadata=row.metadata,
        sync_profile=row.sync_profile,
        enable_token_storage=row.enable_token_storage,
    )


async def connector(conn: AsyncConnection, tenant_id: str, connector_id: str) -> ConnectorRecord | None:
    """The connector with this (instance) id."""
    query = sa.select(t.connectors).where(t.connectors.c.tenant_id == tenant_id, t.connectors.c.id == connector_id)
    row = (await conn.execute(query)).one_or_none()
    return None if row is None else connector_from_row(row)


async def message_connector(
    conn: AsyncConnection, tenant_id: str, factory_ids: Sequence[str]
) -> ConnectorRecord | None:
    """The tenant's connector built from one of these factories (the shipped Email, or Sms, ones): the one that
    sends its messages (Logto's `getMessageConnector`). Management keeps one per type; the oldest wins."""
    if not factory_ids:
        return None
    c = t.connectors
    query = (
        sa.select(c)
        .where(c.c.tenant_id == tenant_id, c.c.connector_id.in_(list(factory_ids)))
        .order_by(c.c.created_at, c.c.id)
        .limit(1)
    )
    row = (await conn.execute(query)).one_or_none()
    return None if row is None else connector_from_row(row)


class SsoConnectorRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An enterprise SSO connector as identity and experience need it: its provider and protocol, its config
    (as management stored it: Logto's fields for the provider, client secret included), its email domains."""

    id: str
    provider_name: str
    provider_type: ProviderType | None  # None: a provider Gatehouse does not know (never written by management)
    connector_name: str
    config: dict[str, Any]
    domains: tuple[str, ...]
    branding: dict[str, Any]
    sync_profile: bool
    enable_token_storage: bool


def _sso_connector_from_row(row: Any) -> SsoConnectorRecord:
    return SsoConnectorRecord(
        id=row.id,
        provider_name=row.provider_name,
        provider_type=PROVIDER_TYPES.get(row.provider_name),
        connector_name=row.connector_name,
        config=row.config,
        domains=tuple(row.domains),
        branding=row.branding,
        sync_profile=row.sync_profile,
        enable_token_storage=row.enable_token_storage,
    )


async def sso_connector(conn: AsyncConnection, tenant_id: str, id: str) -> SsoConnectorRecord | None:
    """The enterprise SSO connector with this id."""
    s = t.sso_connectors
    row = (await conn.execute(sa.select(s).where(s.c.tenant_id == tenant_id, s.c.id == id))).one_or_none()
    return None if row is None else _sso_connector_from_row(row)


async def sso_connectors(conn: AsyncConnection, tenant_id: str) -> list[SsoConnectorRecord]:
    """The tenant's enterprise SSO connectors in creation order (to find the one serving an email domain)."""
    s = t.sso_connectors
    query = sa.select(s).where(s.c.tenant_id == tenant_id).order_by(s.c.created_at, s.c.id)
    return [_sso_connector_from_row(row) for row in await conn.execute(query)]


async def existing_sso_connector_ids(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> set[str]:
    """Which of these enterprise SSO connector ids exist."""
    if not ids:
        return set()
    s = t.sso_connectors
    rows = await conn.execute(sa.select(s.c.id).where(s.c.tenant_id == tenant_id, s.c.id.in_(list(ids))))
    return set(rows.scalars())


def linked_sso_connectors_select(tenant_id: Any, link_sso_connector_id: Any) -> sa.Select[Any]:
    """A statement (not run): the enterprise SSO connectors (columns `sso_connector_from_row` reads) a link
    table's rows name, joined on `link_sso_connector_id` (a column of the link table). The caller adds its
    conditions on the link table, its order and LIMIT. A link whose connector no longer exists gives no row."""
    s = t.sso_connectors
    on = sa.and_(s.c.tenant_id == tenant_id, s.c.id == link_sso_connector_id)
    return sa.select(s).join_from(link_sso_connector_id.table, s, on)


def sso_connector_from_row(row: Any) -> SsoConnector:
    """Logto's `SsoConnector` row (config included, as Logto returns it)."""
    return SsoConnector(
        tenant_id=row.tenant_id,
        id=row.id,
        provider_name=row.provider_name,
        connector_name=row.connector_name,
        config=row.config,
        domains=list(row.domains),
        branding=row.branding,
        sync_profile=row.sync_profile,
        enable_token_storage=row.enable_token_storage,
        created_at=int(row.created_at.timestamp() * 1000),
    )


class SamlSigningKeyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The SP key pair a SAML connector signs its AuthnRequests with (PEM private key and certificate)."""

    id: str
    private_key: str
    certificate: str
    expires_at: datetime


async def active_saml_signing_key(
    conn: AsyncConnection, tenant_id: str, connector_id: str
) -> SamlSigningKeyRecord | None:
    """The connector's active SP signing key, if any (the connector's `config.signAuthnRequest` says whether to
    sign; management refuses to turn it on, or to deactivate the key, while no key would be active)."""
    k = t.saml_sso_connector_signing_keys
    query = sa.select(k.c.id, k.c.private_key, k.c.certificate, k.c.expires_at).where(
        k.c.tenant_id == tenant_id, k.c.sso_connector_id == connector_id, k.c.active
    )
    row = (await conn.execute(query)).one_or_none()
    if row is None:
        return None
    return SamlSigningKeyRecord(
        id=row.id, private_key=row.private_key, certificate=row.certificate, expires_at=row.expires_at
    )
