"""Nothing is lost and nothing is doubled: events committed while NATS is down are delivered,
once each, when it comes back; a duplicate publish has one effect."""

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_devstack.embedded import EmbeddedNats, free_port
from gatehouse_platform.messaging import connect_nats, ensure_streams
from gatehouse_platform.outbox import Outbox, OutboxRelay
from gatehouse_schema.events import event_subject, make_event
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from .platform_testkit import (
    OUTAGE_SCHEMA,
    SCHEMA,
    Pinged,
    RecordingConsumer,
    background,
    effect_recorder,
    eventually,
    scalar,
    stream_count,
    unique,
)

N = 20


class PrivateNats:
    """A NATS server of this test's own (the machine's NATS is never stopped)."""

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = store_dir
        self.port = free_port()
        self.server = EmbeddedNats(store_dir=store_dir, port=self.port)
        self.url = self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def restart(self) -> None:
        """A new server on the same port and store directory: JetStream data comes back."""
        self.server = EmbeddedNats(store_dir=self.store_dir, port=self.port)
        self.server.start()


@pytest_asyncio.fixture
async def private_nats(tmp_path: Path) -> AsyncIterator[PrivateNats]:
    server = PrivateNats(tmp_path / "nats")
    try:
        yield server
    finally:
        server.stop()


async def test_events_committed_during_nats_outage_are_delivered_exactly_once_after_recovery(
    private_nats: PrivateNats, engine: AsyncEngine, database_url: str
) -> None:
    stream, prefix = "OUTAGE_EVENTS", "outage"
    tenant, durable = unique("t"), unique("outage_")
    relay_nc = await connect_nats(private_nats.url, "outage-relay")
    consumer_nc = await connect_nats(private_nats.url, "outage-consumer")
    try:
        relay_js, consumer_js = relay_nc.jetstream(), consumer_nc.jetstream()
        await ensure_streams(relay_js, stream, prefix, 1.0)
        outbox = Outbox(OUTAGE_SCHEMA, prefix)
        relay = OutboxRelay(engine, database_url, OUTAGE_SCHEMA, relay_js, poll_interval=0.2, publish_timeout=0.5)
        consumer = RecordingConsumer(
            js=consumer_js,
            engine=engine,
            stream=stream,
            inbox_schema=OUTAGE_SCHEMA,
            durable=durable,
            filter_subject=f"{prefix}.evt.{tenant}.>",
            handler=effect_recorder(durable),
            subject_prefix=prefix,
        )
        async with background(relay.run()), background(consumer.run()):
            await eventually(lambda: _consumer_exists(consumer_js, stream, durable), what="the durable consumer")

            private_nats.stop()
            await eventually(lambda: not relay_nc.is_connected, what="the relay to notice the outage")

            ids: list[str] = []
            for n in range(N):  # each commit succeeds although NATS is down
                async with engine.begin() as conn:
                    ids.append((await outbox.append(conn, Pinged(n=n), tenant_id=tenant)).id)

            # The relay tried (and failed) to publish; every row is still waiting.
            await eventually(
                lambda: scalar(
                    engine,
                    f"SELECT max(attempts) > 0 FROM {OUTAGE_SCHEMA}.outbox WHERE id = ANY(CAST(:ids AS uuid[]))",
                    ids=ids,
                ),
                what="a failed publish attempt",
            )
            assert await _unpublished(engine, ids) == N

            private_nats.restart()

            await eventually(lambda: _all_handled(engine, durable), timeout=20, what="all events to be handled")
            await eventually(lambda: _settled(consumer_js, stream, durable), what="the consumer to settle")

        assert await _unpublished(engine, ids) == 0
        assert await stream_count(consumer_js, stream, f"{prefix}.evt.{tenant}.>") == N
        effects = await _effects(engine, durable)
        assert sorted(effects) == sorted(ids)  # each event's effect exactly once
        assert await _inbox(engine, OUTAGE_SCHEMA, durable) == N
        assert sorted(e for e in consumer.processed if e) == sorted(ids)  # each delivered once
    finally:
        for client in (relay_nc, consumer_nc):
            # With the server down (a failure mid-outage) close() raises once it has stopped reconnecting.
            with contextlib.suppress(Exception):
                await client.close()


async def test_same_event_published_twice_with_same_msg_id_is_stored_and_handled_once(
    engine: AsyncEngine, nc: NATS, js: JetStreamContext, events_stream: str, subject_prefix: str
) -> None:
    tenant, durable = unique("t"), unique("dup_")
    event = make_event(Pinged(n=1), tenant_id=tenant)
    subject = event_subject(subject_prefix, tenant, Pinged.context, Pinged.event_type)
    payload = msgspec.json.encode(event)

    first = await js.publish(subject, payload, headers={"Nats-Msg-Id": event.id})
    second = await js.publish(subject, payload, headers={"Nats-Msg-Id": event.id})

    assert not first.duplicate and second.duplicate
    assert await stream_count(js, events_stream, f"{subject_prefix}.evt.{tenant}.>") == 1
    consumer = RecordingConsumer(
        js=js,
        engine=engine,
        stream=events_stream,
        inbox_schema=SCHEMA,
        durable=durable,
        filter_subject=f"{subject_prefix}.evt.{tenant}.>",
        handler=effect_recorder(durable),
        subject_prefix=subject_prefix,
    )
    async with background(consumer.run()):
        await eventually(lambda: consumer.processed, what="the delivery")
        await eventually(lambda: _settled(js, events_stream, durable), what="the consumer to settle")
    assert consumer.processed == [event.id]
    assert await _effects(engine, durable) == [event.id]
    assert await _inbox(engine, SCHEMA, durable) == 1


async def test_same_event_published_under_different_msg_ids_has_one_effect(
    engine: AsyncEngine, nc: NATS, js: JetStreamContext, events_stream: str, subject_prefix: str
) -> None:
    tenant, durable = unique("t"), unique("dup_")
    event = make_event(Pinged(n=1), tenant_id=tenant)
    subject = event_subject(subject_prefix, tenant, Pinged.context, Pinged.event_type)
    payload = msgspec.json.encode(event)

    await js.publish(subject, payload, headers={"Nats-Msg-Id": event.id})
    await js.publish(subject, payload, headers={"Nats-Msg-Id": f"{event.id}-again"})  # stream dedupe bypassed

    assert await stream_count(js, events_stream, f"{subject_prefix}.evt.{tenant}.>") == 2
    consumer = RecordingConsumer(
        js=js,
        engine=engine,
        stream=events_stream,
        inbox_schema=SCHEMA,
        durable=durable,
        filter_subject=f"{subject_prefix}.evt.{tenant}.>",
        handler=effect_recorder(durable),
        subject_prefix=subject_prefix,
    )
    async with background(consumer.run()):
        await eventually(lambda: len(consumer.processed) == 2, what="both deliveries")
        await eventually(lambda: _settled(js, events_stream, durable), what="the consumer to settle")
    assert consumer.processed == [event.id, event.id]
    assert await _effects(engine, durable) == [event.id]  # the inbox kept the second one out
    assert await _inbox(engine, SCHEMA, durable) == 1


async def _consumer_exists(js: JetStreamContext, stream: str, durable: str) -> bool:
    try:
        await js.consumer_info(stream, durable)
    except Exception:
        return False
    return True


async def _settled(js: JetStreamContext, stream: str, durable: str) -> bool:
    """Nothing left to deliver and nothing delivered but unacknowledged."""
    try:
        info = await js.consumer_info(stream, durable)
    except Exception:
        return False
    return info.num_pending == 0 and info.num_ack_pending == 0


async def _unpublished(engine: AsyncEngine, ids: list[str]) -> int:
    return int(
        await scalar(
            engine,
            f"SELECT count(*) FROM {OUTAGE_SCHEMA}.outbox "
            "WHERE published_at IS NULL AND id = ANY(CAST(:ids AS uuid[]))",
            ids=ids,
        )
    )


async def _effects(engine: AsyncEngine, durable: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text(f"SELECT event_id::text FROM {SCHEMA}.effects WHERE consumer = :c"), {"c": durable}
        )
        return [r[0] for r in rows]


async def _all_handled(engine: AsyncEngine, durable: str) -> bool:
    return len(await _effects(engine, durable)) >= N


async def _inbox(engine: AsyncEngine, schema: str, durable: str) -> int:
    return int(await scalar(engine, f"SELECT count(*) FROM {schema}.inbox WHERE consumer = :c", c=durable))
