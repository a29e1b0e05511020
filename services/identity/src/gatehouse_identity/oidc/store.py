"""SQL over identity's OIDC tables (migration 5). Every function runs on the caller's connection,
so a use case decides the transaction. Codes, tokens and session ids are stored as SHA-256 digests.

The refresh path (the busiest user-grant request) has its statements compiled once and run on a
pooled connection's asyncpg connection (`refresh_state`, `insert_token_pg`, ...): building and
compiling SQLAlchemy statements per request cost more CPU than PostgreSQL spends on them.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import sqlalchemy as sa
from gatehouse_platform.db import CompiledQuery
from gatehouse_schema.tables.identity import oidc_authorization_codes as codes
from gatehouse_schema.tables.identity import oidc_grants as grants
from gatehouse_schema.tables.identity import oidc_interactions as interactions
from gatehouse_schema.tables.identity import oidc_sessions as sessions
from gatehouse_schema.tables.identity import oidc_tokens as tokens
from gatehouse_schema.tables.identity import users
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Interaction:
    id: str
    client_id: str
    params: dict[str, Any]
    prompt: str
    session_account_id: str | None
    result: dict[str, Any] | None


@dataclass(frozen=True)
class Session:
    id: str
    account_id: str
    login_at: datetime


@dataclass(frozen=True)
class Grant:
    id: str
    account_id: str
    client_id: str
    session_id: str | None
    scopes: list[str]
    resources: dict[str, list[str]]


@dataclass(frozen=True)
class Code:
    id: str
    grant_id: str
    client_id: str
    account_id: str
    redirect_uri: str
    code_challenge: str | None
    code_challenge_method: str | None
    scopes: list[str]
    resource: str | None
    nonce: str | None
    auth_time: datetime
    expires_at: datetime
    consumed_at: datetime | None


@dataclass(frozen=True)
class Token:
    id: str
    kind: str
    grant_id: str
    client_id: str
    account_id: str
    scopes: list[str]
    resource: str | None
    auth_time: datetime | None
    created_at: datetime
    expires_at: datetime
    consumed_at: datetime | None
    extra: dict[str, Any] = field(default_factory=dict)  # claims such as `act`, shown by introspection


def _now() -> Any:
    return sa.func.now()


# interactions


async def create_interaction(
    conn: AsyncConnection, tenant_id: str, interaction: Interaction, now: datetime, ttl: int
) -> None:
    await conn.execute(
        sa.insert(interactions).values(
            tenant_id=tenant_id,
            id=interaction.id,
            client_id=interaction.client_id,
            params=interaction.params,
            prompt=interaction.prompt,
            session_account_id=interaction.session_account_id,
            expires_at=now + timedelta(seconds=ttl),
        )
    )


async def get_interaction(
    conn: AsyncConnection, tenant_id: str, uid: str, *, for_update: bool = False
) -> Interaction | None:
    query = sa.select(interactions).where(
        interactions.c.tenant_id == tenant_id, interactions.c.id == uid, interactions.c.expires_at > _now()
    )
    row = (await conn.execute(query.with_for_update() if for_update else query)).one_or_none()
    if row is None:
        return None
    return Interaction(row.id, row.client_id, row.params, row.prompt, row.session_account_id, row.result)


async def update_interaction(conn: AsyncConnection, tenant_id: str, uid: str, **values: Any) -> None:
    """Set `result`, `prompt` or `session_account_id`."""
    await conn.execute(
        sa.update(interactions).where(interactions.c.tenant_id == tenant_id, interactions.c.id == uid).values(**values)
    )


async def delete_interaction(conn: AsyncConnection, tenant_id: str, uid: str) -> None:
    await conn.execute(sa.delete(interactions).where(interactions.c.tenant_id == tenant_id, interactions.c.id == uid))


# sessions


async def create_session(
    conn: AsyncConnection, tenant_id: str, session_id: str, account_id: str, login_at: datetime, ttl: int
) -> None:
    await conn.execute(
        sa.insert(sessions).values(
            tenant_id=tenant_id,
            id=session_id,
            account_id=account_id,
            login_at=login_at,
            expires_at=login_at + timedelta(seconds=ttl),
        )
    )


async def get_session(conn: AsyncConnection, tenant_id: str, session_id: str) -> Session | None:
    row = (
        await conn.execute(
            sa.select(sessions).where(
                sessions.c.tenant_id == tenant_id, sessions.c.id == session_id, sessions.c.expires_at > _now()
            )
        )
    ).one_or_none()
    return None if row is None else Session(row.id, row.account_id, row.login_at)


async def delete_session(conn: AsyncConnection, tenant_id: str, session_id: str) -> None:
    await conn.execute(sa.delete(sessions).where(sessions.c.tenant_id == tenant_id, sessions.c.id == session_id))


# grants


def _grant(row: Any) -> Grant:
    return Grant(row.id, row.account_id, row.client_id, row.session_id, list(row.scopes), dict(row.resources))


async def upsert_grant(
    conn: AsyncConnection, tenant_id: str, grant: Grant, consented: bool, expires_at: datetime
) -> Grant:
    """The session's grant for the client, created or widened to `grant`'s scopes and resources."""
    stmt = insert(grants).values(
        tenant_id=tenant_id,
        id=grant.id,
        account_id=grant.account_id,
        client_id=grant.client_id,
        session_id=grant.session_id,
        scopes=grant.scopes,
        resources=grant.resources,
        consented=consented,
        expires_at=expires_at,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[grants.c.tenant_id, grants.c.session_id, grants.c.client_id],
        index_where=grants.c.session_id.isnot(None),
        set_={
            "scopes": sa.text("ARRAY(SELECT DISTINCT unnest(identity.oidc_grants.scopes || excluded.scopes))"),
            "resources": sa.text("identity.oidc_grants.resources || excluded.resources"),
            "consented": sa.text("identity.oidc_grants.consented OR excluded.consented"),
            "expires_at": sa.func.greatest(grants.c.expires_at, stmt.excluded.expires_at),
        },
    )
    row = (await conn.execute(stmt.returning(*grants.c))).one()
    return _grant(row)


async def get_grant(conn: AsyncConnection, tenant_id: str, grant_id: str) -> Grant | None:
    row = (
        await conn.execute(
            sa.select(grants).where(
                grants.c.tenant_id == tenant_id, grants.c.id == grant_id, grants.c.expires_at > _now()
            )
        )
    ).one_or_none()
    return None if row is None else _grant(row)


async def extend_grant(conn: AsyncConnection, tenant_id: str, grant_id: str, expires_at: datetime) -> None:
    await conn.execute(
        sa.update(grants)
        .where(grants.c.tenant_id == tenant_id, grants.c.id == grant_id)
        .values(expires_at=sa.func.greatest(grants.c.expires_at, expires_at))
    )


async def consented_scopes(conn: AsyncConnection, tenant_id: str, account_id: str, client_id: str) -> set[str]:
    """Scopes the user consented to for the client, over all their live grants."""
    query = sa.select(sa.func.unnest(grants.c.scopes)).where(
        grants.c.tenant_id == tenant_id,
        grants.c.account_id == account_id,
        grants.c.client_id == client_id,
        grants.c.consented.is_(True),
        grants.c.expires_at > _now(),
    )
    return set((await conn.execute(query)).scalars())


async def revoke_grant(conn: AsyncConnection, tenant_id: str, grant_id: str) -> None:
    """Deletes the grant; its codes and tokens go with it (ON DELETE CASCADE)."""
    await conn.execute(sa.delete(grants).where(grants.c.tenant_id == tenant_id, grants.c.id == grant_id))


async def revoke_session_grants(conn: AsyncConnection, tenant_id: str, session_id: str) -> None:
    """At logout: the session's grants without `offline_access` (those persist logout, as in Logto)."""
    await conn.execute(
        sa.delete(grants).where(
            grants.c.tenant_id == tenant_id,
            grants.c.session_id == session_id,
            sa.not_(grants.c.scopes.any_() == "offline_access"),
        )
    )
    await conn.execute(
        sa.update(grants)
        .where(grants.c.tenant_id == tenant_id, grants.c.session_id == session_id)
        .values(session_id=None)
    )


# authorization codes


async def insert_code(conn: AsyncConnection, tenant_id: str, code: Code) -> None:
    await conn.execute(
        sa.insert(codes).values(
            tenant_id=tenant_id,
            id=code.id,
            grant_id=code.grant_id,
            client_id=code.client_id,
            account_id=code.account_id,
            redirect_uri=code.redirect_uri,
            code_challenge=code.code_challenge,
            code_challenge_method=code.code_challenge_method,
            scopes=code.scopes,
            resource=code.resource,
            nonce=code.nonce,
            auth_time=code.auth_time,
            expires_at=code.expires_at,
        )
    )


async def lock_code(conn: AsyncConnection, tenant_id: str, code_id: str) -> Code | None:
    row = (
        await conn.execute(
            sa.select(codes).where(codes.c.tenant_id == tenant_id, codes.c.id == code_id).with_for_update()
        )
    ).one_or_none()
    if row is None:
        return None
    return Code(
        row.id,
        row.grant_id,
        row.client_id,
        row.account_id,
        row.redirect_uri,
        row.code_challenge,
        row.code_challenge_method,
        list(row.scopes),
        row.resource,
        row.nonce,
        row.auth_time,
        row.expires_at,
        row.consumed_at,
    )


async def consume_code(conn: AsyncConnection, tenant_id: str, code_id: str) -> None:
    await conn.execute(
        sa.update(codes).where(codes.c.tenant_id == tenant_id, codes.c.id == code_id).values(consumed_at=_now())
    )


# tokens (opaque access tokens and refresh tokens)


async def insert_token(conn: AsyncConnection, tenant_id: str, token: Token) -> None:
    await conn.execute(
        sa.insert(tokens).values(
            tenant_id=tenant_id,
            id=token.id,
            kind=token.kind,
            grant_id=token.grant_id,
            client_id=token.client_id,
            account_id=token.account_id,
            scopes=token.scopes,
            resource=token.resource,
            auth_time=token.auth_time,
            created_at=token.created_at,
            expires_at=token.expires_at,
            extra=token.extra,
        )
    )


def _token(row: Any) -> Token:
    """A token from a SQLAlchemy row."""
    return _token_of_record(row._mapping)


def _token_of_record(row: Any) -> Token:
    """A token from a mapping of its columns (a SQLAlchemy row's `_mapping` or an asyncpg record)."""
    return Token(
        row["id"],
        row["kind"],
        row["grant_id"],
        row["client_id"],
        row["account_id"],
        list(row["scopes"]),
        row["resource"],
        row["auth_time"],
        row["created_at"],
        row["expires_at"],
        row["consumed_at"],
        dict(row["extra"] or {}),
    )


async def get_token(conn: AsyncConnection, tenant_id: str, token_id: str, *, for_update: bool = False) -> Token | None:
    """A stored token, expired or not (callers check `expires_at`, so expiry is told apart from absence)."""
    query = sa.select(tokens).where(tokens.c.tenant_id == tenant_id, tokens.c.id == token_id)
    row = (await conn.execute(query.with_for_update() if for_update else query)).one_or_none()
    return None if row is None else _token(row)


async def mark_token_consumed(conn: AsyncConnection, tenant_id: str, token_id: str, at: datetime) -> None:
    await conn.execute(
        sa.update(tokens)
        .where(tokens.c.tenant_id == tenant_id, tokens.c.id == token_id, tokens.c.consumed_at.is_(None))
        .values(consumed_at=at)
    )


async def delete_token(conn: AsyncConnection, tenant_id: str, token_id: str) -> None:
    await conn.execute(sa.delete(tokens).where(tokens.c.tenant_id == tenant_id, tokens.c.id == token_id))


# users (identity's own table)


@dataclass(frozen=True)
class Account:
    id: str
    username: str | None
    primary_email: str | None
    primary_phone: str | None
    name: str | None
    avatar: str | None
    profile: dict[str, Any]
    identities: dict[str, Any]
    custom_data: dict[str, Any]
    is_suspended: bool
    created_at: datetime
    updated_at: datetime


async def record_sign_in(conn: AsyncConnection, tenant_id: str, user_id: str, at: datetime) -> None:
    await conn.execute(
        sa.update(users).where(users.c.tenant_id == tenant_id, users.c.id == user_id).values(last_sign_in_at=at)
    )


async def get_account(conn: AsyncConnection, tenant_id: str, user_id: str) -> Account | None:
    row = (
        await conn.execute(
            sa.select(
                users.c.id,
                users.c.username,
                users.c.primary_email,
                users.c.primary_phone,
                users.c.name,
                users.c.avatar,
                users.c.profile,
                users.c.identities,
                users.c.custom_data,
                users.c.is_suspended,
                users.c.created_at,
                users.c.updated_at,
            ).where(users.c.tenant_id == tenant_id, users.c.id == user_id)
        )
    ).one_or_none()
    return None if row is None else Account(**row._asdict())


# the refresh path: compiled once, run on an asyncpg connection (`gatehouse_platform.db.read_connection`)


@dataclass(frozen=True)
class RefreshState:
    """A refresh token with its grant (None when gone or expired) and account (None when deleted)."""

    token: Token
    grant: Grant | None
    account: Account | None


_ACCOUNT_COLUMNS = (
    "id",
    "username",
    "primary_email",
    "primary_phone",
    "name",
    "avatar",
    "profile",
    "identities",
    "custom_data",
    "is_suspended",
    "created_at",
    "updated_at",
)


def _refresh_state_select(lock: bool) -> sa.Select[Any]:
    """The token, its live grant and its account in one round trip; `lock`: FOR UPDATE of the token row only."""
    t, g, u = tokens, grants, users
    query = (
        sa.select(
            *t.c,
            g.c.id.label("g_id"),
            g.c.account_id.label("g_account_id"),
            g.c.client_id.label("g_client_id"),
            g.c.session_id.label("g_session_id"),
            g.c.scopes.label("g_scopes"),
            g.c.resources.label("g_resources"),
            *(u.c[name].label("u_" + name) for name in _ACCOUNT_COLUMNS),
        )
        .select_from(
            t.outerjoin(
                g, sa.and_(g.c.tenant_id == t.c.tenant_id, g.c.id == t.c.grant_id, g.c.expires_at > _now())
            ).outerjoin(u, sa.and_(u.c.tenant_id == t.c.tenant_id, u.c.id == t.c.account_id))
        )
        .where(
            t.c.tenant_id == sa.bindparam("tenant_id", type_=sa.String),
            t.c.id == sa.bindparam("token_id", type_=sa.String),
        )
    )
    return query.with_for_update(of=t) if lock else query


REFRESH_STATE = CompiledQuery(_refresh_state_select(lock=False))
REFRESH_STATE_FOR_UPDATE = CompiledQuery(_refresh_state_select(lock=True))
INSERT_TOKEN = CompiledQuery(
    sa.insert(tokens).values(
        {
            name: sa.bindparam(name, type_=tokens.c[name].type)
            for name in (
                "tenant_id",
                "id",
                "kind",
                "grant_id",
                "client_id",
                "account_id",
                "scopes",
                "auth_time",
                "created_at",
                "expires_at",
            )
        }
    )
)  # `resource` NULL and `extra` '{}' by default, as `insert_token` stores the tokens `TokenMinter` issues
EXTEND_GRANT = CompiledQuery(
    sa.update(grants)
    .where(
        grants.c.tenant_id == sa.bindparam("tenant_id", type_=sa.String),
        grants.c.id == sa.bindparam("grant_id", type_=sa.String),
    )
    .values(
        expires_at=sa.func.greatest(grants.c.expires_at, sa.bindparam("expires_at", type_=grants.c.expires_at.type))
    )
)
MARK_TOKEN_CONSUMED = CompiledQuery(
    sa.update(tokens)
    .where(
        tokens.c.tenant_id == sa.bindparam("tenant_id", type_=sa.String),
        tokens.c.id == sa.bindparam("token_id", type_=sa.String),
        tokens.c.consumed_at.is_(None),
    )
    .values(consumed_at=sa.bindparam("at", type_=tokens.c.consumed_at.type))
)
REVOKE_GRANT = CompiledQuery(
    sa.delete(grants).where(
        grants.c.tenant_id == sa.bindparam("tenant_id", type_=sa.String),
        grants.c.id == sa.bindparam("grant_id", type_=sa.String),
    )
)


async def refresh_state(db: asyncpg.Connection, tenant_id: str, token_id: str, *, lock: bool) -> RefreshState | None:
    """A stored token, expired or not, with its grant and account (see `RefreshState`)."""
    query = REFRESH_STATE_FOR_UPDATE if lock else REFRESH_STATE
    rows = await query.fetch(db, {"tenant_id": tenant_id, "token_id": token_id})
    if not rows:
        return None
    row = rows[0]
    token = _token_of_record(row)
    grant = None
    if row["g_id"] is not None:
        grant = Grant(
            row["g_id"],
            row["g_account_id"],
            row["g_client_id"],
            row["g_session_id"],
            list(row["g_scopes"]),
            dict(row["g_resources"]),
        )
    account = None
    if row["u_id"] is not None:
        account = Account(*(row["u_" + name] for name in _ACCOUNT_COLUMNS))
    return RefreshState(token, grant, account)


GET_TOKEN = CompiledQuery(
    sa.select(tokens).where(
        tokens.c.tenant_id == sa.bindparam("tenant_id", type_=sa.String),
        tokens.c.id == sa.bindparam("token_id", type_=sa.String),
    )
)


async def get_token_pg(db: asyncpg.Connection, tenant_id: str, token_id: str) -> Token | None:
    """`get_token` (no lock) on an asyncpg connection: the introspection read, compiled once."""
    rows = await GET_TOKEN.fetch(db, {"tenant_id": tenant_id, "token_id": token_id})
    if not rows:
        return None
    row = rows[0]
    return _token_of_record(row)


async def insert_token_pg(db: asyncpg.Connection, tenant_id: str, token: Token) -> None:
    """`insert_token` for a token without `resource` and `extra` (what `TokenMinter` stores)."""
    assert token.resource is None and not token.extra
    params = {
        "tenant_id": tenant_id,
        "id": token.id,
        "kind": token.kind,
        "grant_id": token.grant_id,
        "client_id": token.client_id,
        "account_id": token.account_id,
        "scopes": token.scopes,
        "auth_time": token.auth_time,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
    }
    await INSERT_TOKEN.execute(db, params)


async def extend_grant_pg(db: asyncpg.Connection, tenant_id: str, grant_id: str, expires_at: datetime) -> None:
    params = {"tenant_id": tenant_id, "grant_id": grant_id, "expires_at": expires_at}
    await EXTEND_GRANT.execute(db, params)


async def mark_token_consumed_pg(db: asyncpg.Connection, tenant_id: str, token_id: str, at: datetime) -> None:
    params = {"tenant_id": tenant_id, "token_id": token_id, "at": at}
    await MARK_TOKEN_CONSUMED.execute(db, params)


async def revoke_grant_pg(db: asyncpg.Connection, tenant_id: str, grant_id: str) -> None:
    """`revoke_grant`: its codes and tokens go with it (ON DELETE CASCADE)."""
    await REVOKE_GRANT.execute(db, {"tenant_id": tenant_id, "grant_id": grant_id})
