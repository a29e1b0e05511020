"""SQL over `identity.oidc_device_codes` (migration 7). Every function runs on the caller's connection.

A device code is stored as its SHA-256 digest; the user code in its normalized form (8 letters, no dash).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.identity import oidc_device_codes as codes
from sqlalchemy.ext.asyncio import AsyncConnection

PENDING = "pending"
APPROVED = "approved"
DENIED = "denied"


@dataclass(frozen=True)
class DeviceCode:
    id: str
    user_code: str
    client_id: str
    scopes: list[str]
    resource_scopes: list[str]
    resources: list[str]
    status: str
    interaction_id: str | None
    account_id: str | None
    auth_time: datetime | None
    error_description: str | None
    poll_interval: int
    last_polled_at: datetime | None
    expires_at: datetime
    consumed_at: datetime | None


def _code(row: Any) -> DeviceCode:
    return DeviceCode(
        id=row.id,
        user_code=row.user_code,
        client_id=row.client_id,
        scopes=list(row.scopes),
        resource_scopes=list(row.resource_scopes),
        resources=list(row.resources),
        status=row.status,
        interaction_id=row.interaction_id,
        account_id=row.account_id,
        auth_time=row.auth_time,
        error_description=row.error_description,
        poll_interval=row.poll_interval,
        last_polled_at=row.last_polled_at,
        expires_at=row.expires_at,
        consumed_at=row.consumed_at,
    )


async def insert(conn: AsyncConnection, tenant_id: str, code: DeviceCode) -> None:
    await conn.execute(
        sa.insert(codes).values(
            tenant_id=tenant_id,
            id=code.id,
            user_code=code.user_code,
            client_id=code.client_id,
            scopes=code.scopes,
            resource_scopes=code.resource_scopes,
            resources=code.resources,
            status=code.status,
            poll_interval=code.poll_interval,
            expires_at=code.expires_at,
        )
    )


async def delete_expired_user_code(conn: AsyncConnection, tenant_id: str, user_code: str) -> None:
    """Frees a user code whose device code has expired, so the code space is reused."""
    await conn.execute(
        sa.delete(codes).where(
            codes.c.tenant_id == tenant_id, codes.c.user_code == user_code, codes.c.expires_at <= sa.func.now()
        )
    )


async def _one(conn: AsyncConnection, query: Any) -> DeviceCode | None:
    row = (await conn.execute(query.with_for_update())).one_or_none()
    return None if row is None else _code(row)


async def lock(conn: AsyncConnection, tenant_id: str, code_id: str) -> DeviceCode | None:
    return await _one(conn, sa.select(codes).where(codes.c.tenant_id == tenant_id, codes.c.id == code_id))


async def lock_by_user_code(conn: AsyncConnection, tenant_id: str, user_code: str) -> DeviceCode | None:
    query = sa.select(codes).where(codes.c.tenant_id == tenant_id, codes.c.user_code == user_code)
    return await _one(conn, query)


async def lock_by_interaction(conn: AsyncConnection, tenant_id: str, interaction_id: str) -> DeviceCode | None:
    query = sa.select(codes).where(codes.c.tenant_id == tenant_id, codes.c.interaction_id == interaction_id)
    return await _one(conn, query)


async def update(conn: AsyncConnection, tenant_id: str, code_id: str, **values: Any) -> None:
    """Set `status`, `interaction_id`, `account_id`, `auth_time`, `error_description`, `poll_interval`,
    `last_polled_at` or `consumed_at`."""
    await conn.execute(sa.update(codes).where(codes.c.tenant_id == tenant_id, codes.c.id == code_id).values(**values))
