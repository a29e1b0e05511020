"""SQL for identity's users table. Reads go through `gatehouse_schema.queries.identity` (`to_user`,
`user_columns`, `search_condition`), the same functions other contexts read users with."""

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.users import User
from gatehouse_schema.queries.identity import search_condition, to_user, user_columns
from gatehouse_schema.tables.identity import users
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

# unique index -> the column it keeps unique (see identity migration 2)
UNIQUE_INDEXES = {
    "users_username": "username",
    "users_primary_email": "primary_email",
    "users_primary_phone": "primary_phone",
}


@dataclass(frozen=True)
class UserRecord:
    """A user with what the Management API never returns: password digest, its algorithm, MFA factors, state."""

    user: User
    password_encrypted: str | None
    password_encryption_method: str | None
    password_expired: bool
    logto_config: dict[str, Any]
    mfa_verifications: list[dict[str, Any]]


def _record(row: Any) -> UserRecord:
    return UserRecord(
        user=to_user(row),
        password_encrypted=row.password_encrypted,
        password_encryption_method=row.password_encryption_method,
        password_expired=row.password_expired,
        logto_config=row.logto_config,
        mfa_verifications=row.mfa_verifications,
    )


def violated_identifier(exc: IntegrityError) -> str | None:
    """The identifier column whose unique index `exc` violated (a race the pre-check lost), if any."""
    cause = getattr(exc.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None) or getattr(exc.orig, "constraint_name", None)
    return UNIQUE_INDEXES.get(str(name)) if name else None


class UserStore:
    """Users of one tenant; every method runs on the caller's connection (its transaction)."""

    async def insert(self, conn: AsyncConnection, values: dict[str, Any]) -> User:
        row = (await conn.execute(sa.insert(users).values(**values).returning(*user_columns()))).one()
        return to_user(row)

    async def get(self, conn: AsyncConnection, tenant_id: str, user_id: str) -> User | None:
        query = sa.select(*user_columns()).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
        row = (await conn.execute(query)).one_or_none()
        return None if row is None else to_user(row)

    async def record(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, *, lock: bool = False
    ) -> UserRecord | None:
        query = sa.select(*user_columns(), users.c.password_encrypted, users.c.password_encryption_method).where(
            users.c.tenant_id == tenant_id, users.c.id == user_id
        )
        row = (await conn.execute(query.with_for_update() if lock else query)).one_or_none()
        return None if row is None else _record(row)

    async def find_by_identifier(
        self, conn: AsyncConnection, tenant_id: str, kind: str, value: str
    ) -> UserRecord | None:
        """The user a sign-in identifier names: `username` and `email` case-insensitively (as their unique
        indexes compare), `phone` exactly."""
        column = {"username": users.c.username, "email": users.c.primary_email, "phone": users.c.primary_phone}[kind]
        match = column == value if kind == "phone" else sa.func.lower(column) == value.lower()
        query = sa.select(*user_columns(), users.c.password_encrypted, users.c.password_encryption_method).where(
            users.c.tenant_id == tenant_id, match
        )
        row = (await conn.execute(query.limit(1))).one_or_none()
        return None if row is None else _record(row)

    async def identifier_taken(
        self, conn: AsyncConnection, tenant_id: str, column: str, value: str, except_id: str | None = None
    ) -> bool:
        """Usernames and emails compare case-insensitively (as their unique indexes do), phones exactly."""
        col = users.c[column]
        match = col == value if column == "primary_phone" else sa.func.lower(col) == value.lower()
        query = sa.select(users.c.id).where(users.c.tenant_id == tenant_id, match)
        if except_id is not None:
            query = query.where(users.c.id != except_id)
        return (await conn.execute(query.limit(1))).first() is not None

    async def search(
        self, conn: AsyncConnection, tenant_id: str, term: str | None, page: Page
    ) -> tuple[int, list[User]]:
        where = [users.c.tenant_id == tenant_id, *search_condition(term)]
        total = (await conn.execute(sa.select(sa.func.count()).select_from(users).where(*where))).scalar_one()
        query = (
            sa.select(*user_columns())
            .where(*where)
            .order_by(users.c.created_at.desc(), users.c.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return total, [to_user(r) for r in await conn.execute(query)]

    async def update(self, conn: AsyncConnection, tenant_id: str, user_id: str, values: dict[str, Any]) -> User:
        row = (
            await conn.execute(
                sa.update(users)
                .where(users.c.tenant_id == tenant_id, users.c.id == user_id)
                .values(**values, updated_at=sa.func.now())
                .returning(*user_columns())
            )
        ).one()
        return to_user(row)

    async def replace_digest(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, old: str, new: str, method: str
    ) -> bool:
        """Re-encodes a verified password, unless it was changed meanwhile. Not a data change: `updated_at` stays."""
        result = await conn.execute(
            sa.update(users)
            .where(users.c.tenant_id == tenant_id, users.c.id == user_id, users.c.password_encrypted == old)
            .values(password_encrypted=new, password_encryption_method=method)
        )
        return bool(result.rowcount)

    async def delete(self, conn: AsyncConnection, tenant_id: str, user_id: str) -> None:
        await conn.execute(sa.delete(users).where(users.c.tenant_id == tenant_id, users.c.id == user_id))
