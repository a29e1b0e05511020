"""Logto's user claims per scope.

Standard claims (profile, email, phone, address) go into ID tokens and userinfo. Logto's extended
claims (custom_data, identities, roles) are served by userinfo, and go into ID tokens only when the
tenant's ID token config (`/api/configs/id-token`) enables them and their scope was granted, as in
Logto. Timestamps are Logto's epoch milliseconds.
"""

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.queries.management import user_role_names
from gatehouse_schema.tables.identity import user_sso_identities
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_identity.oidc.store import Account

STANDARD_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "picture", "username", "created_at", "updated_at"),
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "address": ("address",),
}
EXTENDED_CLAIMS: dict[str, tuple[str, ...]] = {
    "custom_data": ("custom_data",),
    "identities": ("identities",),
    "roles": ("roles",),
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


async def userinfo_claims(conn: AsyncConnection, tenant_id: str, account: Account, scopes: list[str]) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": account.id, **standard_claims(account, scopes)}
    if "custom_data" in scopes:
        claims["custom_data"] = account.custom_data
    if "identities" in scopes:
        claims["identities"] = account.identities
    if "roles" in scopes:
        claims["roles"] = await user_role_names(conn, tenant_id, account.id)
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
    conn: AsyncConnection, tenant_id: str, account: Account, scopes: list[str], enabled: Collection[str]
) -> dict[str, Any]:
    """The extended claims the tenant enabled for ID tokens, each only under its granted scope.
    Organization claims wait for the organizations context's membership reads: none are added yet."""
    claims = account_extended_claims(account, scopes, enabled)
    if not enabled:
        return claims
    if "identities" in scopes and "sso_identities" in enabled:
        claims["sso_identities"] = await _sso_identities(conn, tenant_id, account.id)
    if "roles" in enabled and "roles" in scopes:
        claims["roles"] = await user_role_names(conn, tenant_id, account.id)
    return claims


# extended claims read from other tables than `users` (the rest come with the account)
QUERIED_EXTENDED_CLAIMS = frozenset({"sso_identities", "roles"})


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
