"""Reads of the organizations context that other contexts may run (management validates ids it stores)."""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_schema.tables.organizations import organization_roles, organization_scopes, organizations


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
