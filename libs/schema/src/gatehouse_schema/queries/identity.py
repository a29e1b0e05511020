"""Reads of identity's tables that other contexts may run (management lists a role's users; hooks_audit counts
users and their OIDC activity for the dashboard; experience checks that a username, email, phone, social or
enterprise SSO identity being registered is free)."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_schema.api.users import FeaturedUser, User
from gatehouse_schema.tables.identity import oidc_grants, oidc_tokens, user_sso_identities, users

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


LISTED_COLUMNS = [
    users.c[name]
    for name in (
        *("id", "username", "primary_email", "primary_phone", "name", "avatar", "custom_data", "identities"),
        *("last_sign_in_at", "created_at", "updated_at", "profile", "application_id", "is_suspended"),
    )
]


def listed_user_columns() -> list[Any]:
    """The columns `user_from_record` reads, for list statements run on a driver connection."""
    return [*LISTED_COLUMNS, users.c.password_encrypted.is_not(None).label("has_password")]


def user_from_record(rec: Any) -> User:
    """A user from a driver (asyncpg) record of `listed_user_columns()`."""
    return User(
        id=rec["id"],
        username=rec["username"],
        primary_email=rec["primary_email"],
        primary_phone=rec["primary_phone"],
        name=rec["name"],
        avatar=rec["avatar"],
        custom_data=rec["custom_data"],
        identities=rec["identities"],
        last_sign_in_at=_ms(rec["last_sign_in_at"]),
        created_at=_ms(rec["created_at"]) or 0,
        updated_at=_ms(rec["updated_at"]) or 0,
        profile=rec["profile"],
        application_id=rec["application_id"],
        is_suspended=rec["is_suspended"],
        has_password=rec["has_password"],
    )


def users_in_select(tenant_id: Any, id_subquery: Any, search_pattern: Any | None) -> sa.Select[Any]:
    """A statement (not run): the users whose id is in `id_subquery`, newest first, Logto's order. The
    arguments may be bind parameters, so a caller can compile the statement once (with a LIMIT and a
    count of its own) and run it many times. `search_pattern` is an ILIKE pattern (`%term%`)."""
    where: list[Any] = [users.c.tenant_id == tenant_id, users.c.id.in_(id_subquery)]
    if search_pattern is not None:
        where.append(sa.or_(*(users.c[name].ilike(search_pattern) for name in SEARCH_FIELDS)))
    return sa.select(*listed_user_columns()).where(*where).order_by(users.c.created_at.desc(), users.c.id)


def linked_users_select(tenant_id: Any, link_user_id: Any) -> sa.Select[Any]:
    """A statement (not run): the listed user columns of the users a link table's rows name, joined on
    `link_user_id` (a column of the link table, e.g. `management.users_roles.user_id`) by primary key. The
    caller adds its own conditions on the link table, its order (e.g. a copy of the user's `created_at`
    kept in the link) and its LIMIT: a page is then an index scan of the links plus one primary-key lookup
    per user. A link whose user no longer exists gives no row."""
    on = sa.and_(users.c.tenant_id == tenant_id, users.c.id == link_user_id)
    return sa.select(*listed_user_columns()).join_from(link_user_id.table, users, on)


async def user_created_at(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> dict[str, datetime]:
    """`created_at` of each of these users that exists (what a link to the user copies to order by it)."""
    if not ids:
        return {}
    rows = await conn.execute(
        sa.select(users.c.id, users.c.created_at).where(users.c.tenant_id == tenant_id, users.c.id.in_(list(ids)))
    )
    return {r.id: r.created_at for r in rows}


def search_pattern(term: str) -> str:
    return f"%{term.strip('%')}%"


def search_condition(term: str | None) -> list[Any]:
    if not term:
        return []
    pattern = search_pattern(term)
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


async def user_primary_emails(conn: AsyncConnection, tenant_id: str, ids: Sequence[str]) -> dict[str, str | None]:
    """The primary email (or None) of each of these users that exists."""
    if not ids:
        return {}
    rows = await conn.execute(
        sa.select(users.c.id, users.c.primary_email).where(users.c.tenant_id == tenant_id, users.c.id.in_(list(ids)))
    )
    return {r.id: r.primary_email for r in rows}


async def user_ids_with_primary_email(conn: AsyncConnection, tenant_id: str, email: str) -> set[str]:
    """The users whose primary email is exactly `email` (the case-insensitive unique index finds them)."""
    query = sa.select(users.c.id).where(
        users.c.tenant_id == tenant_id,
        sa.func.lower(users.c.primary_email) == sa.func.lower(email),
        users.c.primary_email == email,
    )
    return set((await conn.execute(query)).scalars())


async def username_taken(conn: AsyncConnection, tenant_id: str, username: str) -> bool:
    """Whether a user has this username, case-insensitively (as identity's unique index compares them)."""
    query = sa.select(users.c.id).where(
        users.c.tenant_id == tenant_id, sa.func.lower(users.c.username) == sa.func.lower(username)
    )
    return (await conn.execute(query.limit(1))).first() is not None


async def primary_email_taken(conn: AsyncConnection, tenant_id: str, email: str) -> bool:
    """Whether a user has this primary email, case-insensitively (as identity's unique index compares them)."""
    query = sa.select(users.c.id).where(
        users.c.tenant_id == tenant_id, sa.func.lower(users.c.primary_email) == sa.func.lower(email)
    )
    return (await conn.execute(query.limit(1))).first() is not None


async def primary_phone_taken(conn: AsyncConnection, tenant_id: str, phone: str) -> bool:
    query = sa.select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.primary_phone == phone)
    return (await conn.execute(query.limit(1))).first() is not None


async def social_identity_taken(conn: AsyncConnection, tenant_id: str, target: str, identity_id: str) -> bool:
    """Whether a user is linked to `identity_id` at `target` (experience checks a social registration, as Logto)."""
    query = sa.select(users.c.id).where(
        users.c.tenant_id == tenant_id, users.c.identities.contains({target: {"userId": identity_id}})
    )
    return (await conn.execute(query.limit(1))).first() is not None


async def sso_identity_taken(conn: AsyncConnection, tenant_id: str, issuer: str, identity_id: str) -> bool:
    """Whether a user has the enterprise SSO identity `identity_id` of `issuer` (experience checks an SSO
    registration, as Logto)."""
    t = user_sso_identities
    query = sa.select(t.c.id).where(t.c.tenant_id == tenant_id, t.c.issuer == issuer, t.c.identity_id == identity_id)
    return (await conn.execute(query.limit(1))).first() is not None


class PasswordCheckInfo(msgspec.Struct, frozen=True):
    """What Logto's password policy compares a password with (`rejects.userInfo`)."""

    name: str | None
    username: str | None
    primary_email: str | None
    primary_phone: str | None


async def password_check_info(conn: AsyncConnection, tenant_id: str, user_id: str) -> PasswordCheckInfo | None:
    """A user's name, username, primary email and phone, or None when there is no such user."""
    row = (
        await conn.execute(
            sa.select(users.c.name, users.c.username, users.c.primary_email, users.c.primary_phone).where(
                users.c.tenant_id == tenant_id, users.c.id == user_id
            )
        )
    ).one_or_none()
    return None if row is None else PasswordCheckInfo(row.name, row.username, row.primary_email, row.primary_phone)


async def username_case_conflicts(
    conn: AsyncConnection, tenant_id: str, limit: int
) -> tuple[int, list[tuple[str, list[str]]]]:
    """Usernames that differ only by case: how many such groups, and the first `limit` of them by lowercased
    username, each with its users' ids (ordered)."""
    lowered = sa.func.lower(users.c.username)
    groups = (
        sa.select(
            lowered.label("username_lower"),
            sa.func.array_agg(aggregate_order_by(users.c.id, users.c.id)).label("user_ids"),
            sa.func.count().over().label("total"),
        )
        .where(users.c.tenant_id == tenant_id, users.c.username.is_not(None))
        .group_by(lowered)
        .having(sa.func.count() > 1)
        .order_by(lowered)
        .limit(limit)
    )
    rows = (await conn.execute(groups)).all()
    if not rows:
        return 0, []
    return int(rows[0].total), [(r.username_lower, list(r.user_ids)) for r in rows]


# The dashboard (hooks_audit). Days are UTC days; an interval is (start, end], as Logto's.


def _utc_day(column: Any) -> Any:
    return sa.cast(sa.func.timezone("UTC", column), sa.Date)


async def count_users(conn: AsyncConnection, tenant_id: str) -> int:
    query = sa.select(sa.func.count()).select_from(users).where(users.c.tenant_id == tenant_id)
    return int((await conn.execute(query)).scalar_one())


async def daily_new_user_counts(
    conn: AsyncConnection, tenant_id: str, start_exclusive: datetime, end_inclusive: datetime
) -> dict[date, int]:
    """Users created per UTC day in (start, end]."""
    day = _utc_day(users.c.created_at).label("day")
    query = (
        sa.select(day, sa.func.count())
        .where(
            users.c.tenant_id == tenant_id, users.c.created_at > start_exclusive, users.c.created_at <= end_inclusive
        )
        .group_by(day)
    )
    return {row[0]: int(row[1]) for row in await conn.execute(query)}


def _activity(tenant_id: str, start_exclusive: datetime, end_inclusive: datetime) -> Any:
    """(user_id, at) of every trace of a user's sign-in or token activity identity keeps: the OIDC grants
    (one per sign-in session and client), the opaque access and refresh tokens issued to the user (a
    refresh rotates into a new row) and `users.last_sign_in_at`. Rows the OIDC sweeper has deleted (expired
    ones) are gone, so older days count fewer users than were active."""

    def window(column: Any) -> list[Any]:
        return [column > start_exclusive, column <= end_inclusive]

    return sa.union_all(
        sa.select(oidc_grants.c.account_id.label("user_id"), oidc_grants.c.created_at.label("at")).where(
            oidc_grants.c.tenant_id == tenant_id, *window(oidc_grants.c.created_at)
        ),
        sa.select(oidc_tokens.c.account_id, oidc_tokens.c.created_at).where(
            oidc_tokens.c.tenant_id == tenant_id, *window(oidc_tokens.c.created_at)
        ),
        sa.select(users.c.id, users.c.last_sign_in_at).where(
            users.c.tenant_id == tenant_id, *window(users.c.last_sign_in_at)
        ),
    ).subquery("activity")


async def daily_active_user_counts(
    conn: AsyncConnection, tenant_id: str, start_exclusive: datetime, end_inclusive: datetime
) -> dict[date, int]:
    """Distinct active users per UTC day in (start, end] (see `_activity`)."""
    activity = _activity(tenant_id, start_exclusive, end_inclusive)
    day = _utc_day(activity.c.at).label("day")
    query = sa.select(day, sa.func.count(sa.distinct(activity.c.user_id))).group_by(day)
    return {row[0]: int(row[1]) for row in await conn.execute(query)}


async def count_active_users(
    conn: AsyncConnection, tenant_id: str, start_exclusive: datetime, end_inclusive: datetime
) -> int:
    """Distinct users active in (start, end] (see `_activity`)."""
    activity = _activity(tenant_id, start_exclusive, end_inclusive)
    query = sa.select(sa.func.count(sa.distinct(activity.c.user_id)))
    return int((await conn.execute(query)).scalar_one())


async def get_user(conn: AsyncConnection, tenant_id: str, user_id: str) -> User | None:
    """One user as the Management API shows it (experience describes the user of an interaction hook)."""
    query = sa.select(*user_columns()).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
    row = (await conn.execute(query)).one_or_none()
    return None if row is None else to_user(row)
