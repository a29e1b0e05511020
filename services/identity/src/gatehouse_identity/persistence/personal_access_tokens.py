"""SQL for personal access tokens: one row per (user, name), looked up by value at token exchange."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.identity import personal_access_tokens as pats
from sqlalchemy.ext.asyncio import AsyncConnection

NAME_CONSTRAINT = "personal_access_tokens_pkey"


@dataclass(frozen=True)
class PersonalAccessToken:
    tenant_id: str
    user_id: str
    name: str
    value: str
    created_at: datetime
    expires_at: datetime | None


def _token(row: Any) -> PersonalAccessToken:
    return PersonalAccessToken(row.tenant_id, row.user_id, row.name, row.value, row.created_at, row.expires_at)


class PersonalAccessTokenStore:
    """Every method runs on the caller's connection (its transaction)."""

    async def insert(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, name: str, value: str, expires_at: datetime | None
    ) -> PersonalAccessToken:
        row = (
            await conn.execute(
                sa.insert(pats)
                .values(tenant_id=tenant_id, user_id=user_id, name=name, value=value, expires_at=expires_at)
                .returning(*pats.c)
            )
        ).one()
        return _token(row)

    async def of_user(self, conn: AsyncConnection, tenant_id: str, user_id: str) -> list[PersonalAccessToken]:
        query = (
            sa.select(pats)
            .where(pats.c.tenant_id == tenant_id, pats.c.user_id == user_id)
            .order_by(pats.c.created_at, pats.c.name)
        )
        return [_token(r) for r in await conn.execute(query)]

    async def rename(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, name: str, new_name: str
    ) -> PersonalAccessToken | None:
        row = (
            await conn.execute(
                sa.update(pats)
                .where(pats.c.tenant_id == tenant_id, pats.c.user_id == user_id, pats.c.name == name)
                .values(name=new_name)
                .returning(*pats.c)
            )
        ).one_or_none()
        return None if row is None else _token(row)

    async def delete(self, conn: AsyncConnection, tenant_id: str, user_id: str, name: str) -> bool:
        result = await conn.execute(
            sa.delete(pats).where(pats.c.tenant_id == tenant_id, pats.c.user_id == user_id, pats.c.name == name)
        )
        return bool(result.rowcount)

    async def find_by_value(self, conn: AsyncConnection, tenant_id: str, value: str) -> PersonalAccessToken | None:
        """The token a PAT exchange presents (unique index on tenant and value); expiry is the caller's check."""
        query = sa.select(pats).where(pats.c.tenant_id == tenant_id, pats.c.value == value)
        row = (await conn.execute(query)).one_or_none()
        return None if row is None else _token(row)
