"""The transactional outbox: events are rows written with the state change, published by a relay.

`Outbox.append` runs inside the command's transaction, so an event exists if and only if the
change committed. `OutboxRelay` publishes pending rows to JetStream in order (woken by
LISTEN/NOTIFY, polling as a fallback), with `Nats-Msg-Id` = event id so a row published twice
(e.g. NATS acknowledged but the relay crashed before marking it) is dropped by the stream.
If NATS is down the rows wait; nothing is lost.
"""

import asyncio
import contextlib
from typing import Any

import asyncpg
import msgspec
import sqlalchemy as sa
from gatehouse_schema.events import Actor, CloudEvent, EventData, event_subject, make_event
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_platform.db import asyncpg_dsn
from gatehouse_platform.logging import get_logger
from gatehouse_platform.tracing import current_traceparent

log = get_logger("gatehouse.outbox")


class Outbox:
    """Appends events to a context schema's outbox table, in the caller's transaction."""

    def __init__(self, schema: str, subject_prefix: str) -> None:
        self.schema = schema
        self.subject_prefix = subject_prefix
        self._insert = sa.text(
            f"INSERT INTO {schema}.outbox (id, subject, payload, headers) "
            "VALUES (CAST(:id AS uuid), :subject, :payload, CAST(:headers AS jsonb))"
        )

    async def append(
        self, conn: AsyncConnection, data: EventData, *, tenant_id: str, actor: Actor | None = None
    ) -> CloudEvent:
        event = make_event(data, tenant_id=tenant_id, actor=actor, traceparent=current_traceparent())
        subject = event_subject(self.subject_prefix, tenant_id, data.context, data.event_type)
        headers = {"traceparent": event.traceparent} if event.traceparent else {}
        await conn.execute(
            self._insert,
            {
                "id": event.id,
                "subject": subject,
                "payload": msgspec.json.encode(event),
                "headers": msgspec.json.encode(headers).decode(),
            },
        )
        return event


class OutboxRelay:
    """Publishes a schema's pending outbox rows to JetStream, oldest first."""

    def __init__(
        self,
        engine: AsyncEngine,
        database_url: str,
        schema: str,
        js: JetStreamContext,
        *,
        poll_interval: float = 1.0,
        batch_size: int = 200,
        publish_timeout: float = 2.0,
        retention_hours: float = 24.0,
    ) -> None:
        self.engine = engine
        self.database_url = database_url
        self.schema = schema
        self.js = js
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.publish_timeout = publish_timeout
        self.retention_hours = retention_hours
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._leading = False

    async def drain(self) -> int:
        """Publish pending rows until none are left or publishing fails; returns how many were sent."""
        sent = 0
        while True:
            n, complete = await self._publish_batch()
            sent += n
            if not complete or n < self.batch_size:
                return sent

    async def _publish_batch(self) -> tuple[int, bool]:
        schema = self.schema
        async with self.engine.begin() as conn:
            rows = (
                await conn.execute(
                    sa.text(
                        f"SELECT id::text AS id, subject, payload, headers FROM {schema}.outbox "
                        "WHERE published_at IS NULL ORDER BY created_at, id LIMIT :n FOR UPDATE SKIP LOCKED"
                    ),
                    {"n": self.batch_size},
                )
            ).all()
            published: list[str] = []
            complete = True
            for row in rows:
                headers: dict[str, Any] = dict(row.headers or {})
                headers["Nats-Msg-Id"] = row.id
                try:
                    await self.js.publish(
                        row.subject, bytes(row.payload), timeout=self.publish_timeout, headers=headers
                    )
                except Exception as exc:  # NATS down or slow: keep the row for the next round
                    log.warning("outbox publish failed", schema=schema, event_id=row.id, error=repr(exc))
                    await conn.execute(
                        sa.text(f"UPDATE {schema}.outbox SET attempts = attempts + 1 WHERE id = CAST(:id AS uuid)"),
                        {"id": row.id},
                    )
                    complete = False
                    break
                published.append(row.id)
            if published:
                await conn.execute(
                    sa.text(f"UPDATE {schema}.outbox SET published_at = now() WHERE id = ANY(CAST(:ids AS uuid[]))"),
                    {"ids": published},
                )
        return len(published), complete

    async def purge_published(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.text(
                    f"DELETE FROM {self.schema}.outbox WHERE published_at IS NOT NULL "
                    "AND published_at < now() - make_interval(hours => :h)"
                ),
                {"h": self.retention_hours},
            )

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _lead(self) -> bool:
        """Whether this relay is its schema's publisher. One relay per schema publishes at a time (the
        holder of a session advisory lock, taken on the LISTEN connection and so released when that
        connection ends): the rows go out in order, and the workers and replicas of a service do not all
        wake on every NOTIFY to compete for the same rows. The others try again every poll interval."""
        with contextlib.suppress(Exception):
            if self._listener is None or self._listener.is_closed():
                self._listener = await asyncpg.connect(asyncpg_dsn(self.database_url))
                self._leading = False
            if not self._leading:
                lock = f"gatehouse_outbox_relay:{self.schema}"
                self._leading = bool(await self._listener.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock))
                if self._leading:
                    await self._listener.add_listener(f"{self.schema}_outbox", self._notified)
        return self._leading and self._listener is not None and not self._listener.is_closed()

    async def run(self) -> None:
        """Forever: drain (when this relay is the schema's publisher), then sleep until NOTIFY or the poll
        interval."""
        rounds = 0
        try:
            while True:
                leading = await self._lead()
                self._wake.clear()
                if not leading:
                    await asyncio.sleep(self.poll_interval)
                    continue
                try:
                    await self.drain()
                    rounds += 1
                    if rounds % 3600 == 0:
                        await self.purge_published()
                except Exception as exc:  # database hiccup: try again next round
                    log.warning("outbox relay round failed", schema=self.schema, error=repr(exc))
                # asyncio.timeout, not wait_for: on 3.11 wait_for returns normally when it is cancelled
                # in the same loop turn as the NOTIFY wakes it, and this loop would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_interval):
                        await self._wake.wait()
        finally:
            if self._listener is not None and not self._listener.is_closed():
                with contextlib.suppress(Exception):
                    await self._listener.close(timeout=2.0)
