"""The transactional outbox: an event exists iff its transaction committed, and the relay publishes it."""

import asyncio

import msgspec
import pytest
from gatehouse_platform.outbox import Outbox, OutboxRelay
from gatehouse_schema.events import CloudEvent
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from .platform_testkit import SCHEMA, Pinged, background, eventually, read_stream, scalar, stream_count, unique


class Boom(Exception):
    pass


@pytest.fixture
def outbox(subject_prefix: str) -> Outbox:
    return Outbox(SCHEMA, subject_prefix)


@pytest.fixture
def relay(engine: AsyncEngine, database_url: str, js: JetStreamContext) -> OutboxRelay:
    return OutboxRelay(engine, database_url, SCHEMA, js, poll_interval=30, publish_timeout=2.0)


async def test_append_in_rolled_back_transaction_leaves_no_event(
    engine: AsyncEngine,
    outbox: Outbox,
    relay: OutboxRelay,
    js: JetStreamContext,
    events_stream: str,
    subject_prefix: str,
) -> None:
    tenant = unique("t")
    appended: list[CloudEvent] = []
    with pytest.raises(Boom):
        async with engine.begin() as conn:
            appended.append(await outbox.append(conn, Pinged(n=1), tenant_id=tenant))
            raise Boom

    assert (
        await scalar(engine, f"SELECT count(*) FROM {SCHEMA}.outbox WHERE id = CAST(:id AS uuid)", id=appended[0].id)
        == 0
    )
    await relay.drain()
    assert await stream_count(js, events_stream, f"{subject_prefix}.evt.{tenant}.>") == 0


async def test_drain_publishes_committed_event_with_msg_id_and_cloudevent_envelope(
    engine: AsyncEngine,
    outbox: Outbox,
    relay: OutboxRelay,
    js: JetStreamContext,
    events_stream: str,
    subject_prefix: str,
) -> None:
    tenant = unique("t")
    async with engine.begin() as conn:
        event = await outbox.append(conn, Pinged(n=7), tenant_id=tenant)

    assert await relay.drain() >= 1

    [msg] = await read_stream(js, events_stream, f"{subject_prefix}.evt.{tenant}.>", 1)
    assert msg.subject == f"{subject_prefix}.evt.{tenant}.platformtest.Test.Pinged"
    assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == event.id
    body = msgspec.json.decode(msg.data)
    assert body["specversion"] == "1.0"
    assert body["id"] == event.id
    assert body["source"] == "/gatehouse/platformtest"
    assert body["type"] == "Test.Pinged"
    assert body["subject"] == "ping-7"
    assert body["tenantid"] == tenant
    assert body["data"] == {"n": 7}
    assert await scalar(
        engine, f"SELECT published_at IS NOT NULL FROM {SCHEMA}.outbox WHERE id = CAST(:id AS uuid)", id=event.id
    )


async def test_relay_publishes_events_in_commit_order(
    engine: AsyncEngine,
    outbox: Outbox,
    relay: OutboxRelay,
    js: JetStreamContext,
    events_stream: str,
    subject_prefix: str,
) -> None:
    tenant = unique("t")
    ids: list[str] = []
    async with engine.begin() as conn:  # several events of one command
        for n in range(10):
            ids.append((await outbox.append(conn, Pinged(n=n), tenant_id=tenant)).id)
    for n in range(10, 15):  # then one event per command
        async with engine.begin() as conn:
            ids.append((await outbox.append(conn, Pinged(n=n), tenant_id=tenant)).id)

    await relay.drain()

    msgs = await read_stream(js, events_stream, f"{subject_prefix}.evt.{tenant}.>", len(ids))
    assert [msgspec.json.decode(m.data, type=CloudEvent).id for m in msgs] == ids
    assert [m.headers["Nats-Msg-Id"] for m in msgs if m.headers] == ids


async def test_notify_wakes_running_relay_before_poll_interval(
    engine: AsyncEngine,
    outbox: Outbox,
    relay: OutboxRelay,
    nc: NATS,
    subject_prefix: str,
) -> None:
    tenant = unique("t")
    received: asyncio.Queue[str] = asyncio.Queue()

    async def on_msg(msg: Msg) -> None:
        await received.put(msgspec.json.decode(msg.data, type=CloudEvent).id)

    sub = await nc.subscribe(f"{subject_prefix}.evt.{tenant}.>", cb=on_msg)
    await nc.flush()
    try:
        async with engine.begin() as conn:
            first = await outbox.append(conn, Pinged(n=1), tenant_id=tenant)
        async with background(relay.run()):
            # The first round publishes `first`; afterwards the relay waits for NOTIFY (poll: 30 s).
            assert await asyncio.wait_for(received.get(), 10) == first.id
            await eventually(lambda: relay._listener is not None, what="the LISTEN connection")

            loop = asyncio.get_running_loop()
            started = loop.time()
            async with engine.begin() as conn:
                second = await outbox.append(conn, Pinged(n=2), tenant_id=tenant)
            assert await asyncio.wait_for(received.get(), 5) == second.id
            assert loop.time() - started < 5 < relay.poll_interval
            # Let the relay mark both rows before it is cancelled (else they stay pending for later tests).
            await eventually(
                lambda: scalar(
                    engine,
                    f"SELECT bool_and(published_at IS NOT NULL) FROM {SCHEMA}.outbox "
                    "WHERE id IN (CAST(:a AS uuid), CAST(:b AS uuid))",
                    a=first.id,
                    b=second.id,
                ),
                what="the rows to be marked published",
            )
    finally:
        await sub.unsubscribe()


async def test_one_relay_per_schema_publishes_and_another_takes_over_when_it_stops(
    engine: AsyncEngine,
    outbox: Outbox,
    database_url: str,
    js: JetStreamContext,
    nc: NATS,
    subject_prefix: str,
) -> None:
    tenant = unique("t")
    received: asyncio.Queue[str] = asyncio.Queue()

    async def on_msg(msg: Msg) -> None:
        await received.put(msgspec.json.decode(msg.data, type=CloudEvent).id)

    sub = await nc.subscribe(f"{subject_prefix}.evt.{tenant}.>", cb=on_msg)
    await nc.flush()
    first, second = (OutboxRelay(engine, database_url, SCHEMA, js, poll_interval=0.1) for _ in range(2))
    try:
        async with background(second.run()) as standby:
            async with background(first.run()):
                await eventually(lambda: first._leading or second._leading, what="a publisher")
                await asyncio.sleep(0.3)  # a few poll intervals: the other one must still be waiting
                assert first._leading != second._leading
                leader = first if first._leading else second
                async with engine.begin() as conn:
                    event = await outbox.append(conn, Pinged(n=1), tenant_id=tenant)
                assert await asyncio.wait_for(received.get(), 5) == event.id
                await eventually(  # marked, so that stopping the leader now publishes nothing twice
                    lambda: scalar(
                        engine,
                        f"SELECT published_at IS NOT NULL FROM {SCHEMA}.outbox WHERE id = CAST(:id AS uuid)",
                        id=event.id,
                    ),
                    what="the row to be marked published",
                )
            if leader is second:
                standby.cancel()  # stop the leader; the one that is left must take over
                async with background(first.run()):
                    await eventually(lambda: first._leading, what="the takeover")
                    await _append_and_receive(engine, outbox, tenant, received)
            else:
                await eventually(lambda: second._leading, what="the takeover")
                await _append_and_receive(engine, outbox, tenant, received)
    finally:
        await sub.unsubscribe()


async def _append_and_receive(engine: AsyncEngine, outbox: Outbox, tenant: str, received: "asyncio.Queue[str]") -> None:
    async with engine.begin() as conn:
        event = await outbox.append(conn, Pinged(n=2), tenant_id=tenant)
    assert await asyncio.wait_for(received.get(), 5) == event.id
