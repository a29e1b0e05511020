"""Finding real PostgreSQL and NATS servers for tests: the URLs in the environment (defaults: the
servers this machine runs), else testcontainers when a Docker engine answers, else the embedded
servers from PyPI wheels. Never a mock."""

import asyncio
import contextlib
import os
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import asyncpg

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


def _tcp_open(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def _pg_answers(url: str) -> bool:
    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(url, timeout=2)
        except Exception:
            return False
        await conn.close()
        return True

    return _tcp_open(url, 5432) and asyncio.run(probe())


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """An admin URL (database `postgres`) of a server tests may create databases on."""
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    url = url.replace("postgresql+asyncpg://", "postgresql://")
    if _pg_answers(url):
        yield url
        return
    try:
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16", username="postgres", password="postgres", dbname="postgres")
    except Exception:  # no Docker engine: the constructor raises
        container = None
    if container is not None:
        with container:
            host, port = container.get_container_host_ip(), container.get_exposed_port(5432)
            yield f"postgresql://postgres:postgres@{host}:{port}/postgres"
        return
    from gatehouse_devstack.embedded import EmbeddedPostgres, free_port

    with EmbeddedPostgres(port=free_port()) as pg:
        yield pg.url


@contextlib.contextmanager
def nats_server() -> Iterator[str]:
    url = os.environ.get("TEST_NATS_URL") or os.environ.get("NATS_URL") or DEFAULT_NATS_URL
    if _tcp_open(url, 4222):
        yield url
        return
    try:
        from testcontainers.nats import NatsContainer

        container = NatsContainer()
    except Exception:
        container = None
    if container is not None:
        with container:
            yield container.nats_uri()
        return
    from gatehouse_devstack.embedded import EmbeddedNats, free_port

    with EmbeddedNats(port=free_port()) as nats:
        yield nats.url
