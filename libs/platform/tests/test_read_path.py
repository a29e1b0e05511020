"""The lean read path: statements compiled once, run on a pooled driver connection without a transaction."""

import asyncpg
import pytest
import sqlalchemy as sa
from gatehouse_platform.db import CompiledQuery, read_connection
from sqlalchemy.ext.asyncio import AsyncEngine


def numbers_between() -> CompiledQuery:
    low, high = sa.bindparam("low", type_=sa.Integer), sa.bindparam("high", type_=sa.Integer)
    series = sa.select(sa.func.generate_series(low, high).label("n")).subquery("numbers")
    total = sa.select(sa.func.count()).select_from(series).scalar_subquery()
    return CompiledQuery(sa.select(series.c.n, total.label("total"), low.label("low")).order_by(series.c.n))


async def test_compiled_query_binds_named_parameters_once_each(engine: AsyncEngine) -> None:
    query = numbers_between()
    assert query.names == ("low", "high")  # `low` is used three times but bound once
    async with read_connection(engine) as conn:
        rows = await query.fetch(conn, {"high": 4, "low": 2})
    assert [(r["n"], r["total"], r["low"]) for r in rows] == [(2, 3, 2), (3, 3, 2), (4, 3, 2)]


async def test_read_connection_runs_without_a_transaction_and_goes_back_to_the_pool(engine: AsyncEngine) -> None:
    async with read_connection(engine) as conn:
        assert not conn.is_in_transaction()
        # each statement commits on its own: its transaction id is gone by the next one
        first = await conn.fetchval("SELECT pg_current_xact_id()::text")
        assert await conn.fetchval("SELECT pg_current_xact_id()::text") != first
        assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_connection_broken_during_a_read_is_not_reused(engine: AsyncEngine) -> None:
    with pytest.raises((asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)):
        async with read_connection(engine) as conn:
            broken = conn
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    async with read_connection(engine) as conn:
        assert conn is not broken
        assert await conn.fetchval("SELECT 1") == 1
