"""Real start/connect/stop round trips for the embedded PostgreSQL and NATS servers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import asyncpg
import nats
import pytest
from gatehouse_devstack.embedded import EmbeddedNats, EmbeddedPostgres, _pid_alive, free_port


def _gone(pid: int) -> bool:
    return not _pid_alive(pid)


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert port not in (5432, 4222)
    assert 0 < port < 65536


def test_postgres_round_trip_and_restart_keeps_data(tmp_path: Path) -> None:
    async def create(url: str) -> None:
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("select 1") == 1
            assert await conn.fetchval("select rolsuper from pg_roles where rolname = current_user")
            await conn.execute("create table kv (k text primary key, v uuid default gen_random_uuid())")
            await conn.execute("insert into kv (k) values ('a')")
        finally:
            await conn.close()

    async def count(url: str) -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval("select count(*) from kv"))
        finally:
            await conn.close()

    server = EmbeddedPostgres(data_dir=tmp_path / "pg", port=free_port())
    url = server.start()
    assert url == server.url == f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
    assert server.start() == url  # Already running: no-op.
    pid = server.pid
    assert pid is not None
    try:
        asyncio.run(create(url))
    finally:
        server.stop()
    assert server.pid is None
    assert _gone(pid)
    assert "database system is shut down" in server.log_path.read_text()
    server.stop()  # Idempotent.

    with EmbeddedPostgres(data_dir=tmp_path / "pg", port=free_port()) as again:
        assert asyncio.run(count(again.url)) == 1
        second_pid = again.pid
    assert second_pid is not None and _gone(second_pid)


def test_nats_jetstream_round_trip(tmp_path: Path) -> None:
    async def publish(url: str) -> int:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            await js.add_stream(name="EVENTS", subjects=["events.>"])
            await js.publish("events.a", b"one")
            ack = await js.publish("events.b", b"two")
            return ack.seq
        finally:
            await nc.close()

    server = EmbeddedNats(store_dir=tmp_path / "nats", port=free_port())
    with server:
        assert server.url == f"nats://127.0.0.1:{server.port}"
        pid = server.pid
        assert pid is not None
        assert asyncio.run(publish(server.url)) == 2
    assert server.pid is None
    assert _gone(pid)
    assert (tmp_path / "nats" / "jetstream").is_dir()
    server.stop()  # Idempotent.


def test_data_dir_cannot_be_shared_by_two_servers(tmp_path: Path) -> None:
    with EmbeddedNats(store_dir=tmp_path, port=free_port()):
        with pytest.raises(RuntimeError, match="in use"):
            EmbeddedNats(store_dir=tmp_path, port=free_port()).start()


_OWNER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from gatehouse_devstack.embedded import EmbeddedNats

    server = EmbeddedNats(store_dir=Path(sys.argv[1]), port=int(sys.argv[2]))
    server.start()
    print(server.pid, flush=True)
    time.sleep(60)
    """
)


def _spawn_owner(store: Path) -> tuple[subprocess.Popen[str], int]:
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER, str(store), str(free_port())], stdout=subprocess.PIPE, text=True
    )
    assert owner.stdout is not None
    line = owner.stdout.readline()
    assert line.strip(), "owner process did not start the server"
    return owner, int(line)


def test_sigterm_to_owner_stops_server(tmp_path: Path) -> None:
    owner, pid = _spawn_owner(tmp_path)
    try:
        owner.send_signal(signal.SIGTERM)
        assert owner.wait(10) == 128 + signal.SIGTERM
        assert _gone(pid)
    finally:
        owner.kill()
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_orphan_of_killed_owner_is_stopped_by_next_start(tmp_path: Path) -> None:
    owner, orphan = _spawn_owner(tmp_path)
    try:
        owner.kill()
        owner.wait(10)
        assert _pid_alive(orphan)  # SIGKILL skips atexit: the server is orphaned...
        with EmbeddedNats(store_dir=tmp_path, port=free_port()) as server:
            assert _gone(orphan)  # ...until the next start on the same directory.
            assert server.pid not in (None, orphan)
    finally:
        if _pid_alive(orphan):
            os.kill(orphan, signal.SIGKILL)
