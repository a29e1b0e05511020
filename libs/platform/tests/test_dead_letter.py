"""Bounded redelivery: a handler that keeps failing sends the event to the dead-letter subject."""

import msgspec
import sqlalchemy as sa
from gatehouse_platform.messaging import dead_letter_stream, dead_letter_subject
from gatehouse_schema.events import CloudEvent, event_subject, make_event
from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .platform_testkit import (
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

MAX_DELIVER = 3


class HandlerFailed(Exception):
    pass


def make_consumer(
    js: JetStreamContext,
    engine: AsyncEngine,
    events_stream: str,
    subject_prefix: str,
    tenant: str,
    durable: str,
    handler: object,
) -> RecordingConsumer:
    return RecordingConsumer(
        js=js,
        engine=engine,
        stream=events_stream,
        inbox_schema=SCHEMA,
        durable=durable,
        filter_subject=f"{subject_prefix}.evt.{tenant}.>",
        handler=handler,
        subject_prefix=subject_prefix,
        max_deliver=MAX_DELIVER,
        backoff=(0.05,),
    )


async def publish_event(js: JetStreamContext, subject_prefix: str, tenant: str) -> tuple[str, CloudEvent]:
    event = make_event(Pinged(n=1), tenant_id=tenant)
    subject = event_subject(subject_prefix, tenant, Pinged.context, Pinged.event_type)
    await js.publish(subject, msgspec.json.encode(event), headers={"Nats-Msg-Id": event.id})
    return subject, event


async def watch(nc: NATS, subject: str) -> Subscription:
    sub = await nc.subscribe(subject)
    await nc.flush()
    return sub


async def settled(js: JetStreamContext, stream: str, durable: str) -> bool:
    info = await js.consumer_info(stream, durable)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_always_failing_handler_dead_letters_after_max_deliver_attempts(
    engine: AsyncEngine, nc: NATS, js: JetStreamContext, events_stream: str, subject_prefix: str
) -> None:
    tenant, durable = unique("t"), unique("dlq_")
    calls: list[str] = []

    async def always_fails(conn: AsyncConnection, event: CloudEvent) -> None:
        calls.append(event.id)
        raise HandlerFailed("handler is broken")

    dlq = await watch(nc, dead_letter_subject(subject_prefix, durable))
    consumer = make_consumer(js, engine, events_stream, subject_prefix, tenant, durable, always_fails)
    subject, event = await publish_event(js, subject_prefix, tenant)
    async with background(consumer.run()):
        dead = await dlq.next_msg(timeout=10)
        await eventually(lambda: settled(js, events_stream, durable), what="the consumer to settle")
    await dlq.unsubscribe()

    assert dead.subject == f"{subject_prefix}.dlq.{durable}"
    assert dead.data == msgspec.json.encode(event)
    assert dead.headers is not None
    assert dead.headers["Gatehouse-Original-Subject"] == subject
    assert "handler is broken" in dead.headers["Gatehouse-Error"]
    assert dead.headers["Gatehouse-Deliveries"] == str(MAX_DELIVER)
    assert calls == [event.id] * MAX_DELIVER
    assert await stream_count(js, dead_letter_stream(events_stream), dead.subject) == 1
    assert await scalar(engine, f"SELECT count(*) FROM {SCHEMA}.inbox WHERE consumer = :c", c=durable) == 0


async def test_undecodable_message_is_dead_lettered_at_once(
    engine: AsyncEngine, nc: NATS, js: JetStreamContext, events_stream: str, subject_prefix: str
) -> None:
    tenant, durable = unique("t"), unique("dlq_")
    calls: list[str] = []

    async def handler(conn: AsyncConnection, event: CloudEvent) -> None:
        calls.append(event.id)

    dlq = await watch(nc, dead_letter_subject(subject_prefix, durable))
    consumer = make_consumer(js, engine, events_stream, subject_prefix, tenant, durable, handler)
    subject = event_subject(subject_prefix, tenant, Pinged.context, Pinged.event_type)
    await js.publish(subject, b"{this is not a CloudEvent")
    async with background(consumer.run()):
        dead = await dlq.next_msg(timeout=10)
        await eventually(lambda: settled(js, events_stream, durable), what="the consumer to settle")
    await dlq.unsubscribe()

    assert dead.data == b"{this is not a CloudEvent"
    assert dead.headers is not None
    assert dead.headers["Gatehouse-Original-Subject"] == subject
    assert dead.headers["Gatehouse-Error"].startswith("undecodable event")
    assert dead.headers["Gatehouse-Deliveries"] == "1"
    assert consumer.processed == [None]
    assert calls == []


async def test_handler_failing_once_then_succeeding_has_its_effect_once(
    engine: AsyncEngine, nc: NATS, js: JetStreamContext, events_stream: str, subject_prefix: str
) -> None:
    tenant, durable = unique("t"), unique("retry_")
    calls: list[str] = []
    record = effect_recorder(durable)

    async def flaky(conn: AsyncConnection, event: CloudEvent) -> None:
        calls.append(event.id)
        await record(conn, event)  # rolled back with the failure below on the first attempt
        if len(calls) == 1:
            raise HandlerFailed("transient")

    dlq = await watch(nc, dead_letter_subject(subject_prefix, durable))
    consumer = make_consumer(js, engine, events_stream, subject_prefix, tenant, durable, flaky)
    _, event = await publish_event(js, subject_prefix, tenant)
    async with background(consumer.run()):
        await eventually(lambda: len(consumer.processed) == 2, what="the redelivery")
        await eventually(lambda: settled(js, events_stream, durable), what="the consumer to settle")
    pending_dead = dlq.pending_msgs
    await dlq.unsubscribe()

    assert calls == [event.id, event.id]
    async with engine.connect() as conn:
        effects = (
            (
                await conn.execute(
                    sa.text(f"SELECT event_id::text FROM {SCHEMA}.effects WHERE consumer = :c"), {"c": durable}
                )
            )
            .scalars()
            .all()
        )
    assert effects == [event.id]
    assert await scalar(engine, f"SELECT count(*) FROM {SCHEMA}.inbox WHERE consumer = :c", c=durable) == 1
    assert pending_dead == 0
