"""PostgreSQL access: a pooled async SQLAlchemy engine over asyncpg."""

from typing import Any

import asyncpg
import msgspec
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def sqlalchemy_url(url: str) -> str:
    """Accepts `postgresql://` (what operators write) and returns the asyncpg dialect URL."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url!r}")


def asyncpg_dsn(url: str) -> str:
    """A plain libpq-style URL for asyncpg.connect (used for LISTEN connections)."""
    return sqlalchemy_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)


def _json_dumps(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def create_engine(url: str, pool_size: int = 20) -> AsyncEngine:
    """A pool sized for the service's concurrency: connections are kept (no overflow churn, which would
    open a PostgreSQL backend per burst and lose asyncpg's prepared-statement cache)."""
    return create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=2,
        pool_timeout=10,
        pool_pre_ping=False,
        pool_recycle=1800,
        json_serializer=_json_dumps,
        json_deserializer=msgspec.json.decode,
    )


async def ensure_database(url: str) -> None:
    """Create the URL's database if it does not exist (local stacks and tests)."""
    parsed = make_url(sqlalchemy_url(url))
    name = parsed.database or "postgres"
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    conn = await asyncpg.connect(asyncpg_dsn(admin))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:
                pass
    finally:
        await conn.close()
