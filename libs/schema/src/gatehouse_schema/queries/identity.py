"""Reads of identity's user table that other contexts may run (management lists a role's users)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_schema.api.users import FeaturedUser, User
from gatehouse_schema.tables.identity import users

_PUBLIC_COLUMNS = [c for c in users.c if c.name not in {"password_encrypted", "password_encryption_method"}]
SEARCH_FIELDS = ("id", "username", "primary_email", "primary_phone", "name")


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def to_user(row: Any) -> User:
    return User(
        id=row.id,
        username=row.username,
        primary_email=row.primary_email,
        primary_phone=row.primary_phone,
        name=row.name,
        avatar=row.avatar,
        custom_data=row.custom_data,
        identities=row.identities,
        last_sign_in_at=_ms(row.last_sign_in_at),
        created_at=_ms(row.created_at) or 0,
        updated_at=_ms(row.updated_at) or 0,
        profile=row.profile,
        application_id=row.application_id,
        is_suspended=row.is_suspended,
        has_password=row.has_password,
    )


def user_columns() -> list[Any]:
    return [*_PUBLIC_COLUMNS, users.c.password_encrypted.is_not(None).label("has_password")]


def search_condition(term: str | None) -> list[Any]:
    if not term:
        return []
    pattern = f"%{term.strip('%')}%"
    return [sa.or_(*(users.c[name].ilike(pattern) for name in SEARCH_FIELDS))]


async def existing_user_ids(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    rows = await conn.execute(sa.select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.id.in_(list(ids))))
    return set(rows.scalars())


async def featured_users(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> dict[str, FeaturedUser]:
    if not ids:
        return {}
    rows = await conn.execute(
        sa.select(users.c.id, users.c.avatar, users.c.name).where(
            users.c.tenant_id == tenant_id, users.c.id.in_(list(ids))
        )
    )
    return {r.id: FeaturedUser(r.id, r.avatar, r.name) for r in rows}


async def users_page(
    conn: AsyncConnection,
    tenant_id: str,
    id_subquery: Any,
    term: str | None,
    limit: int | None,
    offset: int,
) -> tuple[int, list[User]]:
    """Users whose id is in `id_subquery` (a SELECT of user ids), newest first, with Logto's search."""
    where = [users.c.tenant_id == tenant_id, users.c.id.in_(id_subquery), *search_condition(term)]
    total = (await conn.execute(sa.select(sa.func.count()).select_from(users).where(*where))).scalar_one()
    query = sa.select(*user_columns()).where(*where).order_by(users.c.created_at.desc(), users.c.id)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    rows = (await conn.execute(query)).all()
    return total, [to_user(r) for r in rows]
