"""Reads of the management context's tables that other services may run (identity mints tokens with them)."""

from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

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
