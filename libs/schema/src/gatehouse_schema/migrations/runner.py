"""Applies a context's migrations: one transaction per run, serialised by an advisory lock."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_schema.migrations import audit, experience, identity, management, organizations
from gatehouse_schema.migrations.step import Migration

MIGRATIONS: dict[str, list[Migration]] = {
    "identity": identity.MIGRATIONS,
    "management": management.MIGRATIONS,
    "organizations": organizations.MIGRATIONS,
    "audit": audit.MIGRATIONS,
    "experience": experience.MIGRATIONS,
}


async def apply_migrations(engine: AsyncEngine, schema: str) -> list[int]:
    """Bring `schema` up to date; returns the versions applied now. Safe to run concurrently."""
    applied: list[int] = []
    async with engine.begin() as conn:
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"migrate:{schema}"})
        await conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        await conn.execute(
            sa.text(
                f"CREATE TABLE IF NOT EXISTS {schema}.schema_version (version integer PRIMARY KEY,"
                " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        )
        done = set((await conn.execute(sa.text(f"SELECT version FROM {schema}.schema_version"))).scalars())
        raw: Any = (await conn.get_raw_connection()).driver_connection
        for step in sorted(MIGRATIONS[schema], key=lambda m: m.version):
            if step.version in done:
                continue
            await raw.execute(step.sql)  # multi-statement DDL needs the simple query protocol
            await conn.execute(
                sa.text(f"INSERT INTO {schema}.schema_version (version, name) VALUES (:v, :n)"),
                {"v": step.version, "n": step.name},
            )
            applied.append(step.version)
    return applied


async def migrate_all(engine: AsyncEngine) -> None:
    """Every context's migrations, for local stacks and tests that run all services on one database."""
    for schema in MIGRATIONS:
        await apply_migrations(engine, schema)
