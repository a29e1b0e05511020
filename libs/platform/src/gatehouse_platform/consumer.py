"""Durable JetStream consumers with explicit ack, bounded redelivery, a dead-letter subject and an inbox.

The handler runs in a database transaction that also records the event id in the context's
inbox table, so an event redelivered after a crash (or published twice) has its effect once.
A handler that keeps failing is retried with backoff; on the last allowed delivery the message
is copied to `<prefix>.dlq.<durable>` and terminated.

Work that must not hold the transaction open (network calls) goes to `after_commit`: it receives what the
handler returned, once the transaction (and so the inbox row) has committed. It runs at most once per
event: a redelivery finds the inbox row, and a crash between the commit and its end loses it.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from gatehouse_schema.events import CloudEvent
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BadRequestError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_platform.logging import get_logger
from gatehouse_platform.messaging import dead_letter_subject
from gatehouse_platform.tracing import extract_context, tracer

log = get_logger("gatehouse.consumer")

Handler = Callable[[AsyncConnection, CloudEvent], Awaitable[Any]]
AfterCommit = Callable[[CloudEvent, Any], Awaitable[None]]


class EventConsumer:
    def __init__(
        self,
        *,
        js: JetStreamContext,
        engine: AsyncEngine,
        stream: str,
        inbox_schema: str,
        durable: str,
        filter_subject: str,
        handler: Handler,
        subject_prefix: str,
        max_deliver: int = 5,
        backoff: Sequence[float] = (0.2, 1.0, 5.0, 15.0),
        ack_wait: float = 30.0,
        batch: int = 64,
        event_types: Collection[str] | None = None,
        after_commit: AfterCommit | None = None,
    ) -> None:
        """`event_types`: handle only these types (others matching `filter_subject` are acknowledged
        without a transaction or an inbox row). One filter subject plus this works on every NATS server;
        several filter subjects per consumer need NATS 2.10."""
        self.js = js
        self.engine = engine
        self.stream = stream
        self.inbox_schema = inbox_schema
        self.durable = durable
        self.filter_subject = filter_subject
        self.handler = handler
        self.max_deliver = max_deliver
        self.backoff = list(backoff)
        self.ack_wait = ack_wait
        self.batch = batch
        self.event_types = frozenset(event_types) if event_types is not None else None
        self.after_commit = after_commit
        self.dlq_subject = dead_letter_subject(subject_prefix, durable)

    async def ensure(self) -> None:
        """Creates the durable consumer, or brings an existing one to this config. A NATS server that cannot
        change the existing consumer in place (before 2.10: its filter subject) gets it deleted and made again:
        the new one starts from the stream's first event, and the inbox drops what was handled already."""
        config = ConsumerConfig(
            durable_name=self.durable,
            filter_subject=self.filter_subject,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=self.max_deliver,
            ack_wait=self.ack_wait,
        )
        try:
            await self.js.add_consumer(self.stream, config)
        except BadRequestError as error:
            log.warning("consumer config changed: recreating it", durable=self.durable, error=str(error))
            await self.js.delete_consumer(self.stream, self.durable)
            await self.js.add_consumer(self.stream, config)

    async def run(self) -> None:
        await self.ensure()
        sub = await self.js.pull_subscribe_bind(self.durable, self.stream)
        while True:
            try:
                msgs = await sub.fetch(self.batch, timeout=1.0)
            except (TimeoutError, NatsTimeoutError):
                continue
            except Exception as exc:  # NATS reconnecting: back off briefly
                log.debug("fetch failed", durable=self.durable, error=repr(exc))
                await asyncio.sleep(0.5)
                continue
            for msg in msgs:
                await self.process(msg)

    async def process(self, msg: Msg) -> None:
        try:
            event = msgspec.json.decode(msg.data, type=CloudEvent)
        except msgspec.DecodeError as exc:
            await self._dead_letter(msg, f"undecodable event: {exc}")
            return
        if self.event_types is not None and event.type not in self.event_types:
            with contextlib.suppress(Exception):
                await msg.ack()
            return
        try:
            with tracer("gatehouse.consumer").start_as_current_span(
                f"consume {self.durable} {event.type}", context=extract_context(msg.headers)
            ):
                handled, result = await self._handle_once(event)
        except Exception as exc:
            delivered = msg.metadata.num_delivered
            if delivered >= self.max_deliver:
                await self._dead_letter(msg, repr(exc))
            else:
                delay = self.backoff[min(delivered - 1, len(self.backoff) - 1)] if self.backoff else 0
                log.warning(
                    "event handling failed",
                    durable=self.durable,
                    event_id=event.id,
                    attempt=delivered,
                    error=repr(exc),
                )
                with contextlib.suppress(Exception):
                    await msg.nak(delay=delay)
            return
        if handled and self.after_commit is not None:
            try:
                await self.after_commit(event, result)
            except Exception as exc:  # committed: a redelivery would find the inbox row and do nothing
                log.error("after-commit step failed", durable=self.durable, event_id=event.id, error=repr(exc))
        with contextlib.suppress(Exception):
            await msg.ack()

    async def _handle_once(self, event: CloudEvent) -> tuple[bool, Any]:
        """(whether the handler ran, what it returned); it does not run for an event handled before."""
        async with self.engine.begin() as conn:
            first = (
                await conn.execute(
                    sa.text(
                        f"INSERT INTO {self.inbox_schema}.inbox (consumer, event_id) "
                        "VALUES (:c, CAST(:e AS uuid)) ON CONFLICT DO NOTHING RETURNING 1"
                    ),
                    {"c": self.durable, "e": event.id},
                )
            ).scalar()
            if first is None:
                return False, None  # handled before: a redelivery or a duplicate publish
            return True, await self.handler(conn, event)

    async def _dead_letter(self, msg: Msg, reason: str) -> None:
        log.error("event dead-lettered", durable=self.durable, subject=msg.subject, reason=reason)
        headers = {
            "Gatehouse-Original-Subject": msg.subject,
            "Gatehouse-Error": reason[:500],
            "Gatehouse-Deliveries": str(msg.metadata.num_delivered),
        }
        try:
            await self.js.publish(self.dlq_subject, msg.data, headers=headers)
        except Exception as exc:  # keep it in the stream; it will be redelivered and tried again
            log.error("dead-letter publish failed", durable=self.durable, error=repr(exc))
            return
        with contextlib.suppress(Exception):
            await msg.term()
