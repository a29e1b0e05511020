"""PostgreSQL access: a pooled async SQLAlchemy engine over asyncpg, and a lean path for hot reads."""

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import asyncpg
import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

_DIALECT = pg_asyncpg.dialect()


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
        # a database error's message leaves out the statement's values: they can be secrets (a connector's
        # config, an application secret), and an unexpected error is logged with its traceback
        hide_parameters=True,
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


@contextlib.asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection's asyncpg connection for a read that needs no transaction.

    Each statement then runs on its own (autocommit): no BEGIN/ROLLBACK round trips, and asyncpg keeps
    the statements prepared per connection. Put everything a response needs into one statement and it
    reads one snapshot, as a transaction would. Commands write through a transaction and the outbox;
    only writes that publish no event (OIDC tokens on the refresh path) may run here, inside
    `driver.transaction()` when they must be atomic."""
    # the pool's own connection, without an AsyncConnection around it (half the checkout CPU); the pool's
    # reset on return issues no ROLLBACK, since no transaction was started
    pooled = await greenlet_spawn(engine.sync_engine.raw_connection)
    try:
        driver: asyncpg.Connection = pooled.driver_connection
        yield driver
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
        await greenlet_spawn(pooled.invalidate)  # a broken connection must not go back to the pool
        raise
    finally:
        await greenlet_spawn(pooled.close)


class CompiledQuery:
    """A SQLAlchemy statement compiled once for asyncpg (`$n` placeholders), run on a driver connection.

    Building and compiling a statement per request (and computing its cache key) costs more CPU than
    PostgreSQL spends answering a page; a compiled query costs only the bind. Parameters are named
    bind parameters (`sa.bindparam`) of plain types that asyncpg encodes itself (text, numbers,
    booleans, arrays of them): no SQLAlchemy bind processors run on this path."""

    def __init__(self, statement: sa.ClauseElement) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        if compiled.positiontup is None:
            raise TypeError("expected a statement compiled with positional parameters")
        self.sql = str(compiled)
        self.names: Sequence[str] = tuple(compiled.positiontup)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]

    async def fetch(self, conn: asyncpg.Connection, params: Mapping[str, Any]) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(self.sql, *self.args(params))
        return rows

    async def execute(self, conn: asyncpg.Connection, params: Mapping[str, Any]) -> None:
        await conn.execute(self.sql, *self.args(params))
