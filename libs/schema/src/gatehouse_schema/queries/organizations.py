"""Reads of the organizations context that other contexts may run: management validates ids it stores,
identity reads memberships, roles and scopes to mint organization tokens and organization claims."""

from collections.abc import Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_schema.tables import management as mt
from gatehouse_schema.tables.organizations import (
    application_user_consent_organizations,
    organization_application_relations,
    organization_role_application_relations,
    organization_role_resource_scope_relations,
    organization_role_scope_relations,
    organization_role_user_relations,
    organization_roles,
    organization_scopes,
    organization_user_relations,
    organizations,
)


async def _existing(conn: AsyncConnection, table: sa.Table, tenant_id: str, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    rows = await conn.execute(sa.select(table.c.id).where(table.c.tenant_id == tenant_id, table.c.id.in_(list(ids))))
    return set(rows.scalars())


async def existing_organization_ids(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> set[str]:
    return await _existing(conn, organizations, tenant_id, ids)


async def existing_organization_role_ids(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> set[str]:
    return await _existing(conn, organization_roles, tenant_id, ids)


async def organization_scopes_by_id(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> dict[str, Any]:
    """id -> row (id, name, description) of the organization scopes that exist."""
    if not ids:
        return {}
    rows = await conn.execute(
        sa.select(organization_scopes.c.id, organization_scopes.c.name, organization_scopes.c.description).where(
            organization_scopes.c.tenant_id == tenant_id, organization_scopes.c.id.in_(list(ids))
        )
    )
    return {r.id: r for r in rows}


# ---------------------------------------------------------------- memberships, read by identity to mint tokens

#: the reserved resource under which organization scopes are requested at `/oidc/auth` (Logto's)
ORGANIZATION_RESOURCE = "urn:logto:resource:organizations"


def organization_audience(organization_id: str) -> str:
    """The `aud` of an organization token (Logto's)."""
    return f"urn:logto:organization:{organization_id}"


class OrganizationAccess(msgspec.Struct, frozen=True, kw_only=True):
    """A member's standing in one organization: the organization scopes its roles there grant."""

    is_mfa_required: bool
    scopes: frozenset[str]


def _member_access_query(member: sa.Table, member_roles: sa.Table, member_column: str) -> sa.Select[Any]:
    o, rs, s = organizations, organization_role_scope_relations, organization_scopes
    m_id, r_id = member.c[member_column], member_roles.c[member_column]
    scope_names = (
        sa.select(sa.func.coalesce(sa.func.array_agg(sa.distinct(s.c.name)), sa.text("'{}'::varchar[]")))
        .select_from(
            member_roles.join(
                rs,
                sa.and_(
                    rs.c.tenant_id == member_roles.c.tenant_id,
                    rs.c.organization_role_id == member_roles.c.organization_role_id,
                ),
            ).join(s, sa.and_(s.c.tenant_id == rs.c.tenant_id, s.c.id == rs.c.organization_scope_id))
        )
        .where(
            member_roles.c.tenant_id == member.c.tenant_id,
            member_roles.c.organization_id == member.c.organization_id,
            r_id == m_id,
        )
        .scalar_subquery()
    )
    return (
        sa.select(o.c.is_mfa_required, scope_names.label("scopes"))
        .select_from(member.join(o, sa.and_(o.c.tenant_id == member.c.tenant_id, o.c.id == member.c.organization_id)))
        .where(
            member.c.tenant_id == sa.bindparam("tenant_id"),
            member.c.organization_id == sa.bindparam("organization_id"),
            m_id == sa.bindparam("member_id"),
        )
    )


_USER_ACCESS = _member_access_query(organization_user_relations, organization_role_user_relations, "user_id")
_APPLICATION_ACCESS = _member_access_query(
    organization_application_relations, organization_role_application_relations, "application_id"
)


async def _access(
    conn: AsyncConnection, query: sa.Select[Any], tenant_id: str, organization_id: str, member_id: str
) -> OrganizationAccess | None:
    row = (
        await conn.execute(query, {"tenant_id": tenant_id, "organization_id": organization_id, "member_id": member_id})
    ).one_or_none()
    if row is None:
        return None
    return OrganizationAccess(is_mfa_required=row.is_mfa_required, scopes=frozenset(row.scopes or ()))


async def user_organization_access(
    conn: AsyncConnection, tenant_id: str, organization_id: str, user_id: str
) -> OrganizationAccess | None:
    """None when the user is not a member of the organization (or it does not exist)."""
    return await _access(conn, _USER_ACCESS, tenant_id, organization_id, user_id)


async def application_organization_access(
    conn: AsyncConnection, tenant_id: str, organization_id: str, application_id: str
) -> OrganizationAccess | None:
    """None when the application is not a member of the organization (or it does not exist)."""
    return await _access(conn, _APPLICATION_ACCESS, tenant_id, organization_id, application_id)


def _member_resource_scopes_query(member_roles: sa.Table, member_column: str) -> sa.Select[Any]:
    rr, sc = organization_role_resource_scope_relations, mt.scopes
    return (
        sa.select(sc.c.name)
        .distinct()
        .select_from(
            member_roles.join(
                rr,
                sa.and_(
                    rr.c.tenant_id == member_roles.c.tenant_id,
                    rr.c.organization_role_id == member_roles.c.organization_role_id,
                ),
            ).join(sc, sa.and_(sc.c.tenant_id == rr.c.tenant_id, sc.c.id == rr.c.scope_id))
        )
        .where(
            member_roles.c.tenant_id == sa.bindparam("tenant_id"),
            member_roles.c.organization_id == sa.bindparam("organization_id"),
            member_roles.c[member_column] == sa.bindparam("member_id"),
            sc.c.resource_id == sa.bindparam("resource_id"),
        )
    )


_USER_RESOURCE_SCOPES = _member_resource_scopes_query(organization_role_user_relations, "user_id")
_APPLICATION_RESOURCE_SCOPES = _member_resource_scopes_query(organization_role_application_relations, "application_id")


async def user_organization_resource_scopes(
    conn: AsyncConnection, tenant_id: str, organization_id: str, user_id: str, resource_id: str
) -> set[str]:
    """Names of the API resource's scopes the user's roles in the organization grant (organization-level
    API access)."""
    params = {
        "tenant_id": tenant_id,
        "organization_id": organization_id,
        "member_id": user_id,
        "resource_id": resource_id,
    }
    return set((await conn.execute(_USER_RESOURCE_SCOPES, params)).scalars())


async def application_organization_resource_scopes(
    conn: AsyncConnection, tenant_id: str, organization_id: str, application_id: str, resource_id: str
) -> set[str]:
    params = {
        "tenant_id": tenant_id,
        "organization_id": organization_id,
        "member_id": application_id,
        "resource_id": resource_id,
    }
    return set((await conn.execute(_APPLICATION_RESOURCE_SCOPES, params)).scalars())


class UserOrganization(msgspec.Struct, frozen=True, kw_only=True):
    """One of a user's organizations with the names of the user's roles in it (for the ID token and
    userinfo claims `organizations`, `organization_data` and `organization_roles`)."""

    id: str
    name: str
    description: str | None
    role_names: list[str]


async def user_organizations(
    conn: AsyncConnection, tenant_id: str, user_id: str, *, consented_to: str | None = None
) -> list[UserOrganization]:
    """The user's organizations, oldest membership first; with `consented_to` (a third-party application's
    id) only those the user consented that application to."""
    o, m, ru, r = organizations, organization_user_relations, organization_role_user_relations, organization_roles
    role_names = (
        sa.select(sa.func.coalesce(sa.func.array_agg(sa.distinct(r.c.name)), sa.text("'{}'::varchar[]")))
        .select_from(ru.join(r, sa.and_(r.c.tenant_id == ru.c.tenant_id, r.c.id == ru.c.organization_role_id)))
        .where(
            ru.c.tenant_id == m.c.tenant_id, ru.c.organization_id == m.c.organization_id, ru.c.user_id == m.c.user_id
        )
        .scalar_subquery()
    )
    query = (
        sa.select(o.c.id, o.c.name, o.c.description, role_names.label("role_names"))
        .select_from(m.join(o, sa.and_(o.c.tenant_id == m.c.tenant_id, o.c.id == m.c.organization_id)))
        .where(m.c.tenant_id == tenant_id, m.c.user_id == user_id)
        .order_by(m.c.created_at, o.c.id)
    )
    if consented_to is not None:
        c = application_user_consent_organizations
        query = query.where(
            sa.exists().where(
                c.c.tenant_id == m.c.tenant_id,
                c.c.application_id == consented_to,
                c.c.user_id == m.c.user_id,
                c.c.organization_id == m.c.organization_id,
            )
        )
    rows = await conn.execute(query)
    return [
        UserOrganization(id=row.id, name=row.name, description=row.description, role_names=sorted(row.role_names or ()))
        for row in rows
    ]


async def is_organization_consented(
    conn: AsyncConnection, tenant_id: str, application_id: str, user_id: str, organization_id: str
) -> bool:
    """Whether the user consented the (third-party) application to the organization (Logto's
    `application_user_consent_organizations`; a consent lasts only as long as the membership)."""
    c = application_user_consent_organizations
    query = sa.select(
        sa.exists().where(
            c.c.tenant_id == tenant_id,
            c.c.application_id == application_id,
            c.c.user_id == user_id,
            c.c.organization_id == organization_id,
        )
    )
    return bool((await conn.execute(query)).scalar())
