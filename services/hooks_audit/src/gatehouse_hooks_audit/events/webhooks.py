"""Delivers Logto's data hook events to the tenant's webhooks (`hooks_audit-webhooks`).

In the consumer's inbox transaction, `WebhookPlanner` reads the tenant's enabled hooks subscribed to the
event and builds one delivery per hook. After the commit, `WebhookDispatcher.enqueue` hands them to a pool
of workers, which POST (no transaction open) and record one execution log each (`TriggerHook.<event>`) in
`audit.logs`. A redelivered or republished event finds its inbox row, so no hook is sent an event twice;
deliveries queued when the process stops are lost (Logto's hooks are fire-and-forget as well).
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from gatehouse_platform.logging import get_logger
from gatehouse_schema.events import CloudEvent
from gatehouse_schema.ids import generate_id
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_hooks_audit.delivery import EndpointError, WebhookSender, describe
from gatehouse_hooks_audit.hook_events import INTERACTION_HOOK_EVENTS, LOG_KEY_PREFIX, subscribes
from gatehouse_hooks_audit.persistence.hooks import HookStore
from gatehouse_hooks_audit.persistence.logs import LogStore

WEBHOOKS_CONSUMER = "hooks_audit-webhooks"
CONCURRENCY = 10  # Logto sends a trigger's webhooks 10 at a time
QUEUE_SIZE = 1000  # a full queue holds the consumer back

log = get_logger("gatehouse.hooks_audit.webhooks")

# Logto omits the empty ones (`truncateMembershipDelta`)
_MEMBERSHIP_DELTAS = ("addedUserIds", "removedUserIds", "addedApplicationIds", "removedApplicationIds")


def iso_ms(value: datetime) -> str:
    """JavaScript's `toISOString()`: UTC, milliseconds, `Z`."""
    value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def event_time(event: CloudEvent) -> datetime:
    return datetime.fromisoformat(event.time.replace("Z", "+00:00"))


def data_hook_payload(event: CloudEvent) -> dict[str, Any]:
    """Logto's data hook payload without `hookId`: `event`, `createdAt`, the request's `userAgent` and `ip`,
    then the event's own fields (`data` for an entity; `organizationId` and the membership changes, ...).
    Gatehouse's events do not carry the Management API request (`path`, `method`, `status`, `params`,
    `matchedRoute`), so those optional fields are absent."""
    payload: dict[str, Any] = {"event": event.type, "createdAt": iso_ms(event_time(event))}
    if event.actor is not None:
        if event.actor.user_agent:
            payload["userAgent"] = event.actor.user_agent
        if event.actor.ip:  # interaction hooks name it `userIp`, data hooks `ip` (Logto's payloads)
            payload["userIp" if event.type in INTERACTION_HOOK_EVENTS else "ip"] = event.actor.ip
    data = msgspec.json.decode(event.data)
    if isinstance(data, dict):
        if event.type == "Organization.Membership.Updated":
            data = {k: v for k, v in data.items() if not (k in _MEMBERSHIP_DELTAS and not v)}
        payload.update(data)
    return payload


@dataclass(frozen=True)
class Delivery:
    tenant_id: str
    hook_id: str
    event: str
    config: dict[str, Any]
    signing_key: str
    payload: dict[str, Any]  # with `hookId`


class WebhookPlanner:
    """The consumer's handler: which hooks get this event (read in the inbox transaction)."""

    def __init__(self, hooks: HookStore) -> None:
        self.hooks = hooks

    async def __call__(self, conn: AsyncConnection, event: CloudEvent) -> list[Delivery]:
        found = [
            h for h in await self.hooks.enabled_hooks(conn, event.tenantid) if subscribes(h.event, h.events, event.type)
        ]
        if not found:
            return []
        base = data_hook_payload(event)
        return [
            Delivery(event.tenantid, h.id, event.type, h.config, h.signing_key, {**base, "hookId": h.id}) for h in found
        ]


async def execute(sender: WebhookSender, delivery: Delivery) -> dict[str, Any]:
    """Sends one delivery; the execution log's payload (Logto's `LogEntry` of `sendWebhook`)."""
    entry: dict[str, Any] = {
        "key": LOG_KEY_PREFIX + delivery.event,
        "result": "Success",
        "hookId": delivery.hook_id,
        "hookRequest": {"body": delivery.payload},
    }
    try:
        answer = await sender.post(delivery.config, delivery.payload, delivery.signing_key)
        entry["response"] = answer.as_log()
    except EndpointError as exc:
        entry.update(result="Error", response=exc.answer.as_log(), error=str(exc))
    except Exception as exc:  # unreachable, refused, timed out, not an http(s) URL
        entry.update(result="Error", error=describe(exc))
    return entry


class WebhookDispatcher:
    """A queue of deliveries and the workers that send them and record their execution logs."""

    def __init__(self, engine: AsyncEngine, sender: WebhookSender, logs: LogStore) -> None:
        self.engine = engine
        self.sender = sender
        self.logs = logs
        self.queue: asyncio.Queue[Delivery] = asyncio.Queue(QUEUE_SIZE)

    async def enqueue(self, event: CloudEvent, deliveries: list[Delivery]) -> None:
        """The consumer's after-commit step."""
        for delivery in deliveries:
            await self.queue.put(delivery)

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(CONCURRENCY):
                    group.create_task(self._work())
        finally:
            await self.sender.close()

    async def _work(self) -> None:
        while True:
            delivery = await self.queue.get()
            try:
                await self.deliver(delivery)
            except Exception as exc:  # the log could not be written: say so, keep working
                log.error("webhook execution log failed", hook_id=delivery.hook_id, error=repr(exc))
            finally:
                self.queue.task_done()

    async def deliver(self, delivery: Delivery) -> None:
        entry = await execute(self.sender, delivery)
        log.info("webhook sent", hook_id=delivery.hook_id, hook_event=delivery.event, result=entry["result"])
        async with self.engine.begin() as conn:
            await self.logs.insert(
                conn,
                {
                    "tenant_id": delivery.tenant_id,
                    "id": generate_id(),
                    "key": entry["key"],
                    "payload": entry,
                    "created_at": datetime.now(UTC),
                },
            )
