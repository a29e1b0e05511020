"""The pytest plugin (entry point `gatehouse`): every test run gets its own database, its own
JetStream stream and subject prefix on real servers, so runs never collide with each other or
with a running `make run`."""

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar, cast

import asyncpg
import httpx
import nats
import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_platform.config import Settings, load_settings
from gatehouse_platform.db import create_engine
from gatehouse_platform.messaging import dead_letter_stream
from gatehouse_schema.ids import generate_id
from gatehouse_schema.migrations import migrate_all
from gatehouse_schema.tables.identity import users
from litestar import Litestar

from gatehouse_testing.issuer import TestIssuer
from gatehouse_testing.servers import nats_server, postgres_server

S = TypeVar("S", bound=Settings)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def run_id() -> str:
    return secrets.token_hex(4)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    with nats_server() as url:
        yield url


@pytest.fixture(scope="session")
def database_url(pg_admin_url: str, run_id: str) -> Iterator[str]:
    """A fresh, migrated database for this test run, dropped at the end."""
    name = f"gh_test_{run_id}"
    base = pg_admin_url.rsplit("/", 1)[0]

    async def create() -> None:
        conn = await asyncpg.connect(pg_admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        engine = create_engine(f"{base}/{name}", pool_size=1)
        try:
            await migrate_all(engine)
        finally:
            await engine.dispose()

    async def drop() -> None:
        conn = await asyncpg.connect(pg_admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    yield f"{base}/{name}"
    asyncio.run(drop())


@pytest.fixture(scope="session")
def events_stream(run_id: str) -> str:
    return f"GH_TEST_{run_id.upper()}_EVENTS"


@pytest.fixture(scope="session")
def subject_prefix(run_id: str) -> str:
    return f"ghtest{run_id}"


@pytest.fixture(scope="session")
def _run_streams(nats_url: str, events_stream: str) -> Iterator[None]:
    """Deletes this run's streams when the session ends."""
    yield

    async def delete() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        for name in (events_stream, dead_letter_stream(events_stream)):
            with contextlib.suppress(Exception):
                await js.delete_stream(name)
        await nc.close()

    with contextlib.suppress(Exception):
        asyncio.run(delete())


@pytest.fixture(scope="session")
def test_issuer() -> Iterator[TestIssuer]:
    issuer = TestIssuer("http://127.0.0.1:3001/oidc")
    issuer.start(free_port())
    yield issuer
    issuer.stop()


@pytest.fixture(scope="session")
def make_settings(
    database_url: str, nats_url: str, events_stream: str, subject_prefix: str, _run_streams: None
) -> Callable[..., Any]:
    """`make_settings(ManagementSettings, identity_url=...)`: settings pointing at this run's servers."""

    def build(cls: type[S], **overrides: Any) -> S:
        values: dict[str, Any] = {
            "database_url": database_url,
            "nats_url": nats_url,
            "events_stream": events_stream,
            "subject_prefix": subject_prefix,
            "public_url": "http://127.0.0.1:3001",
            "outbox_poll_interval": 0.2,
            "log_level": "warning",
        }
        values.update(overrides)
        return load_settings(cls, environ={}, **values)

    return build


@contextlib.asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Runs `app` with its lifespan (database, NATS, relay, consumers) in the current event loop and
    yields an HTTP client calling it in-process. (litestar's AsyncTestClient runs the lifespan in a
    thread of its own, which would put the relay and consumers on another loop than the requests.)"""
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold_lifespan() -> None:  # enter and exit in one task, as anyio's cancel scopes require
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold_lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # startup failed: raise its error
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=cast(Any, app)), base_url="http://127.0.0.1"
        ) as client:
            yield client
    finally:
        stop.set()
        await task


@pytest_asyncio.fixture(scope="session")
async def make_user(database_url: str) -> AsyncIterator[Callable[..., Any]]:
    """Writes identity-owned user rows (as identity would), for services whose routes read users:
    `await make_user(name="ada", created_at=..., user_id=...)` returns the new user's id."""
    engine = create_engine(database_url, pool_size=1)

    async def make(name: str = "user", created_at: datetime | None = None, user_id: str | None = None) -> str:
        user_id = user_id or generate_id()
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(users).values(
                    tenant_id="default",
                    id=user_id,
                    username=f"{name}_{user_id}",
                    name=name,
                    profile={},
                    identities={},
                    custom_data={},
                    logto_config={},
                    mfa_verifications=[],
                    is_suspended=False,
                    created_at=created_at or sa.func.now(),
                    updated_at=sa.func.now(),
                )
            )
        return user_id

    yield make
    await engine.dispose()
