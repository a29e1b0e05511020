"""Logto's organization tokens: an access token for one organization (`aud` urn:logto:organization:<id>,
the organization scopes the member's organization roles grant) or, with a `resource` too, for an API resource
in the context of an organization (the resource scopes of those roles, and an `organization_id` claim).

Members are users (refresh_token and token exchange) or machine-to-machine applications
(client_credentials). Memberships, roles and scopes are the organizations context's tables, read through the
schema library on every request: a removed membership or role takes effect on the next token. A third-party
application gets a user's organization token only for an organization the user consented it to (Logto's
`checkOrganizationAccess`: membership, then that consent, then the organization's MFA requirement).
"""

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from gatehouse_platform.oauth_errors import OAuthError
from gatehouse_schema.queries.management import get_resource_by_indicator
from gatehouse_schema.queries.organizations import (
    OrganizationAccess,
    application_organization_access,
    application_organization_resource_scopes,
    is_organization_consented,
    organization_audience,
    user_organization_access,
    user_organization_resource_scopes,
)
from gatehouse_schema.tables.identity import users
from sqlalchemy.ext.asyncio import AsyncConnection

ORGANIZATIONS_SCOPE = "urn:logto:scope:organizations"
ORGANIZATION_TOKEN_TTL = 3600


@dataclass(frozen=True)
class OrganizationTarget:
    """Where an organization token goes and what the member may have in it."""

    audience: str
    allowed: frozenset[str]
    ttl: int
    claims: dict[str, object] = field(default_factory=dict)


async def _user_has_mfa(conn: AsyncConnection, tenant_id: str, user_id: str) -> bool:
    count = (
        await conn.execute(
            sa.select(sa.func.jsonb_array_length(users.c.mfa_verifications)).where(
                users.c.tenant_id == tenant_id, users.c.id == user_id
            )
        )
    ).scalar()
    return bool(count)


async def _target(
    conn: AsyncConnection,
    tenant_id: str,
    organization_id: str,
    access: OrganizationAccess,
    resource: str | None,
    resource_scopes: Callable[[str], Awaitable[set[str]]],
) -> OrganizationTarget:
    if resource is None:
        return OrganizationTarget(organization_audience(organization_id), access.scopes, ORGANIZATION_TOKEN_TTL)
    record = await get_resource_by_indicator(conn, tenant_id, resource)
    if record is None:
        raise OAuthError("invalid_target", "resource indicator is missing, or unknown")
    allowed = frozenset(await resource_scopes(record.id))
    return OrganizationTarget(record.indicator, allowed, record.access_token_ttl, {"organization_id": organization_id})


async def for_user(
    conn: AsyncConnection,
    tenant_id: str,
    organization_id: str,
    user_id: str,
    resource: str | None,
    *,
    third_party_client: str | None = None,
) -> OrganizationTarget:
    """A user's organization token target; `access_denied` for a non-member, for a third-party client (its id
    in `third_party_client`) the user did not consent to the organization, or for a member without MFA when
    the organization requires it (Logto's rules, in Logto's order)."""
    access = await user_organization_access(conn, tenant_id, organization_id, user_id)
    if access is None:
        raise OAuthError("access_denied", "user is not a member of the organization")
    if third_party_client is not None and not await is_organization_consented(
        conn, tenant_id, third_party_client, user_id, organization_id
    ):
        raise OAuthError("access_denied", "organization access is not granted to the application")
    if access.is_mfa_required and not await _user_has_mfa(conn, tenant_id, user_id):
        raise OAuthError("access_denied", "organization requires MFA but user has no MFA configured")
    scopes = functools.partial(user_organization_resource_scopes, conn, tenant_id, organization_id, user_id)
    return await _target(conn, tenant_id, organization_id, access, resource, scopes)


async def for_application(
    conn: AsyncConnection, tenant_id: str, organization_id: str, application_id: str, resource: str | None
) -> OrganizationTarget:
    """A machine-to-machine application's organization token target; `access_denied` for a non-member."""
    access = await application_organization_access(conn, tenant_id, organization_id, application_id)
    if access is None:
        raise OAuthError("access_denied", "application is not a member of the organization")
    scopes = functools.partial(
        application_organization_resource_scopes, conn, tenant_id, organization_id, application_id
    )
    return await _target(conn, tenant_id, organization_id, access, resource, scopes)
