"""Helpers shared by the platform tests: deadline polling, a test event type, a consumer that
records every message it processed, and small queries on JetStream and the test schema."""

import asyncio
import contextlib
import inspect
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, ClassVar, TypeVar

import msgspec
import sqlalchemy as sa
from gatehouse_platform.consumer import EventConsumer, Handler
from gatehouse_platform.service import stop_tasks
from gatehouse_schema.events import CloudEvent, EventData
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# A schema of the tests' own, built with the same DDL every context schema starts with
# (`outbox_and_inbox`), so that no service relay running in the same test session can
# publish (or steal) the rows these tests inspect.
SCHEMA = "platform_tests"
# The NATS-outage test publishes to a private NATS server: its relay gets a schema of its own, so
# rows other tests left pending (for the machine's NATS) cannot block it, nor it them.
OUTAGE_SCHEMA = "platform_tests_outage"

T = TypeVar("T")


class Pinged(EventData):
    """The event these tests send around."""

    context: ClassVar[str] = "platformtest"
    event_type: ClassVar[str] = "Test.Pinged"
    n: int = 0

    def entity_id(self) -> str:
        return f"ping-{self.n}"


def unique(prefix: str) -> str:
    """A name no other test (or test run) uses: tenant ids, durable names, RPC contexts."""
    return f"{prefix}{secrets.token_hex(5)}"


async def eventually(
    probe: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.02, what: str = "condition"
) -> Any:
    """Poll `probe` (sync or async) until it returns something truthy, failing after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def background(coro: Coroutine[Any, Any, Any]) -> AsyncIterator[asyncio.Task[Any]]:
    """Run `coro` as a task for the duration of the block, then stop it (cancelling until it ends: one
    cancellation can be lost on 3.11, see `stop_tasks`); a task still running after 10 s fails the test."""
    task = asyncio.create_task(coro)
    try:
        yield task
    finally:
        try:
            await asyncio.wait_for(stop_tasks([task]), 10)
        except TimeoutError:
            raise AssertionError(f"{coro!r} did not stop within 10 s of being cancelled") from None


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(sa.text(sql), params)).scalar()


async def stream_count(js: JetStreamContext, stream: str, subject_filter: str) -> int:
    """How many messages `stream` holds on subjects matching `subject_filter`."""
    info = await js.stream_info(stream, subjects_filter=subject_filter)
    return sum((info.state.subjects or {}).values())


async def read_stream(js: JetStreamContext, stream: str, subject_filter: str, expected: int) -> list[Msg]:
    """The first `expected` messages of `stream` on `subject_filter`, in stream order."""
    sub = await js.pull_subscribe(subject_filter, stream=stream)
    msgs: list[Msg] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while len(msgs) < expected and loop.time() < deadline:
            with contextlib.suppress(TimeoutError):
                msgs.extend(await sub.fetch(expected - len(msgs), timeout=1.0))
    finally:
        await sub.unsubscribe()
    for msg in msgs:
        await msg.ack()
    return msgs


def effect_recorder(durable: str) -> Handler:
    """A handler whose effect is a row in the test schema's `effects` table, in the event's transaction."""

    async def handle(conn: AsyncConnection, event: CloudEvent) -> None:
        await conn.execute(
            sa.text(f"INSERT INTO {SCHEMA}.effects (consumer, event_id) VALUES (:c, CAST(:e AS uuid))"),
            {"c": durable, "e": event.id},
        )

    return handle


class RecordingConsumer(EventConsumer):
    """An EventConsumer that remembers every message it finished processing (event id or None)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.processed: list[str | None] = []

    async def process(self, msg: Msg) -> None:
        await super().process(msg)
        try:
            self.processed.append(msgspec.json.decode(msg.data, type=CloudEvent).id)
        except msgspec.DecodeError:
            self.processed.append(None)
