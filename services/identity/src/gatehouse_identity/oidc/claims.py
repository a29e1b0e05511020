"""Logto's user claims per scope.

Standard claims (profile, email, phone, address) go into ID tokens and userinfo. Logto's extended
claims (custom_data, identities, roles, organizations, organization_data, organization_roles) are served
by userinfo, and go into ID tokens only when the tenant's ID token config (`/api/configs/id-token`)
enables them and their scope was granted, as in Logto. Timestamps are Logto's epoch milliseconds.
Organization claims come from the organizations context's membership tables (schema library reads); for a
third-party application they name only the organizations the user consented it to (Logto's docs: a
third-party app gets access only to the selected organizations' data).
"""

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.queries.management import user_role_names
from gatehouse_schema.queries.organizations import user_organizations
from gatehouse_schema.tables.identity import user_sso_identities
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_identity.oidc.store import Account

STANDARD_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "picture", "username", "created_at", "updated_at"),
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "address": ("address",),
}
ORGANIZATIONS_SCOPE = "urn:logto:scope:organizations"
ORGANIZATION_ROLES_SCOPE = "urn:logto:scope:organization_roles"
EXTENDED_CLAIMS: dict[str, tuple[str, ...]] = {
    "custom_data": ("custom_data",),
    "identities": ("identities", "sso_identities"),
    "roles": ("roles",),
    ORGANIZATIONS_SCOPE: ("organizations", "organization_data"),
    ORGANIZATION_ROLES_SCOPE: ("organization_roles",),
}
CLAIMS_SUPPORTED = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    *(c for claims in STANDARD_CLAIMS.values() for c in claims),
    *(c for claims in EXTENDED_CLAIMS.values() for c in claims),
]


def _ms(value: Any) -> int:
    return int(value.timestamp() * 1000)


def standard_claims(account: Account, scopes: list[str]) -> dict[str, Any]:
    claims: dict[str, Any] = {}
    if "profile" in scopes:
        claims.update(
            name=account.name,
            picture=account.avatar,
            username=account.username,
            created_at=_ms(account.created_at),
            updated_at=_ms(account.updated_at),
        )
    if "email" in scopes:
        claims.update(email=account.primary_email, email_verified=account.primary_email is not None)
    if "phone" in scopes:
        claims.update(phone_number=account.primary_phone, phone_number_verified=account.primary_phone is not None)
    if "address" in scopes and account.profile.get("address"):
        claims["address"] = account.profile["address"]
    return claims


async def userinfo_claims(
    conn: AsyncConnection, tenant_id: str, account: Account, scopes: list[str], *, consented_to: str | None = None
) -> dict[str, Any]:
    """`consented_to`: the id of the third-party application asking, whose organization claims are limited to
    the organizations the user consented it to."""
    claims: dict[str, Any] = {"sub": account.id, **standard_claims(account, scopes)}
    if "custom_data" in scopes:
        claims["custom_data"] = account.custom_data
    if "identities" in scopes:
        claims["identities"] = account.identities
        claims["sso_identities"] = await _sso_identities(conn, tenant_id, account.id)
    if "roles" in scopes:
        claims["roles"] = await user_role_names(conn, tenant_id, account.id)
    if ORGANIZATIONS_SCOPE in scopes or ORGANIZATION_ROLES_SCOPE in scopes:
        claims.update(await organization_claims(conn, tenant_id, account.id, scopes, None, consented_to))
    return claims


async def organization_claims(
    conn: AsyncConnection,
    tenant_id: str,
    user_id: str,
    scopes: list[str],
    enabled: Collection[str] | None,
    consented_to: str | None = None,
) -> dict[str, Any]:
    """`organizations` (ids) and `organization_data` (id, name, description) under the organizations scope,
    `organization_roles` (`<organization id>:<role name>`) under the organization roles scope; for an ID
    token only those `enabled` names; for a third-party application (`consented_to`) only the organizations
    the user consented it to."""
    wanted = {
        claim
        for scope in (ORGANIZATIONS_SCOPE, ORGANIZATION_ROLES_SCOPE)
        if scope in scopes
        for claim in EXTENDED_CLAIMS[scope]
        if enabled is None or claim in enabled
    }
    if not wanted:
        return {}
    memberships = await user_organizations(conn, tenant_id, user_id, consented_to=consented_to)
    claims: dict[str, Any] = {}
    if "organizations" in wanted:
        claims["organizations"] = [m.id for m in memberships]
    if "organization_data" in wanted:
        claims["organization_data"] = [{"id": m.id, "name": m.name, "description": m.description} for m in memberships]
    if "organization_roles" in wanted:
        claims["organization_roles"] = [f"{m.id}:{role}" for m in memberships for role in m.role_names]
    return claims


async def _sso_identities(conn: AsyncConnection, tenant_id: str, user_id: str) -> list[dict[str, Any]]:
    t = user_sso_identities
    rows = await conn.execute(
        sa.select(t.c.issuer, t.c.identity_id, t.c.detail)
        .where(t.c.tenant_id == tenant_id, t.c.user_id == user_id)
        .order_by(t.c.created_at)
    )
    return [{"issuer": r.issuer, "identityId": r.identity_id, "detail": r.detail} for r in rows]


async def id_token_extended_claims(
    conn: AsyncConnection,
    tenant_id: str,
    account: Account,
    scopes: list[str],
    enabled: Collection[str],
    *,
    consented_to: str | None = None,
) -> dict[str, Any]:
    """The extended claims the tenant enabled for ID tokens, each only under its granted scope (organization
    claims of a third-party application `consented_to`: see `organization_claims`)."""
    claims = account_extended_claims(account, scopes, enabled)
    if not enabled:
        return claims
    if "identities" in scopes and "sso_identities" in enabled:
        claims["sso_identities"] = await _sso_identities(conn, tenant_id, account.id)
    if "roles" in enabled and "roles" in scopes:
        claims["roles"] = await user_role_names(conn, tenant_id, account.id)
    claims.update(await organization_claims(conn, tenant_id, account.id, scopes, enabled, consented_to))
    return claims


# extended claims read from other tables than `users` (the rest come with the account)
QUERIED_EXTENDED_CLAIMS = frozenset(
    {"sso_identities", "roles", "organizations", "organization_data", "organization_roles"}
)


def account_extended_claims(account: Account, scopes: list[str], enabled: Collection[str]) -> dict[str, Any]:
    """The enabled extended claims that come with the account itself (`custom_data`, `identities`), each
    only under its granted scope; `id_token_extended_claims` adds the queried ones."""
    claims: dict[str, Any] = {}
    if not enabled:
        return claims
    if "custom_data" in enabled and "custom_data" in scopes:
        claims["custom_data"] = account.custom_data
    if "identities" in enabled and "identities" in scopes:
        claims["identities"] = account.identities
    return claims
