"""Fixtures for the platform tests, on the real servers the gatehouse pytest plugin provides."""

from collections.abc import AsyncIterator

import pytest_asyncio
from gatehouse_platform.db import create_engine
from gatehouse_platform.messaging import connect_nats, ensure_streams
from gatehouse_schema.migrations.common import outbox_and_inbox
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from .platform_testkit import OUTAGE_SCHEMA, SCHEMA


@pytest_asyncio.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """This run's database, with the tests' own context schemas (outbox, inbox) and an effects table."""
    engine = create_engine(database_url, pool_size=4)
    async with engine.begin() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.execute(f"SELECT pg_advisory_xact_lock(hashtext('{SCHEMA}'))")
        for schema in (SCHEMA, OUTAGE_SCHEMA):
            if not await raw.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema):
                await raw.execute(f"CREATE SCHEMA {schema};" + outbox_and_inbox(schema))
        await raw.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.effects (consumer text NOT NULL, event_id uuid NOT NULL)"
        )
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(scope="session")
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    client = await connect_nats(nats_url, "platform-tests")
    yield client
    await client.close()


@pytest_asyncio.fixture(scope="session")
async def js(nc: NATS, events_stream: str, subject_prefix: str, _run_streams: None) -> JetStreamContext:
    """JetStream with this run's events and dead-letter streams (deleted when the session ends)."""
    context = nc.jetstream()
    await ensure_streams(context, events_stream, subject_prefix, 1.0)
    return context
