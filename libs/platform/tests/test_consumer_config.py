"""A durable consumer whose filter changed between releases is brought to the new config at start-up (on a NATS
server that cannot change it in place, by deleting and recreating it; the inbox then drops events handled
before)."""

import msgspec
from gatehouse_platform.consumer import EventConsumer
from gatehouse_schema.events import CloudEvent, event_subject, make_event
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .platform_testkit import SCHEMA, Pinged, unique


async def test_a_consumer_with_another_filter_is_recreated_with_the_new_one(
    js: JetStreamContext, engine: AsyncEngine, events_stream: str, subject_prefix: str
) -> None:
    tenant, durable = unique("tenant"), unique("durable")
    handled: list[str] = []

    async def handler(_: AsyncConnection, event: CloudEvent) -> None:
        handled.append(event.id)

    def consumer(filter_subject: str) -> EventConsumer:
        return EventConsumer(
            js=js,
            engine=engine,
            stream=events_stream,
            inbox_schema=SCHEMA,
            durable=durable,
            filter_subject=filter_subject,
            handler=handler,
            subject_prefix=subject_prefix,
            max_deliver=3,
        )

    await consumer(f"{subject_prefix}.evt.{tenant}.nothing.>").ensure()
    wider = f"{subject_prefix}.evt.{tenant}.>"
    await consumer(wider).ensure()
    info = await js.consumer_info(events_stream, durable)
    assert info.config.filter_subject == wider

    event = make_event(Pinged(n=1), tenant_id=tenant)
    await js.publish(
        event_subject(subject_prefix, tenant, Pinged.context, Pinged.event_type), msgspec.json.encode(event)
    )
    sub = await js.pull_subscribe_bind(durable, events_stream)
    messages = await sub.fetch(1, timeout=5)
    assert msgspec.json.decode(messages[0].data, type=CloudEvent).id == event.id
