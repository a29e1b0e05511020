"""Consumes every event of the stream and records it as an audit log entry.

Runs as the durable consumer `hooks_audit-audit-log`; the platform's consumer gives it
at-least-once delivery and the inbox makes the entry appear once.
"""

from datetime import datetime
from typing import Any

import msgspec
from gatehouse_schema.events import CloudEvent
from gatehouse_schema.ids import generate_id
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_hooks_audit.persistence.logs import LogStore


def log_payload(event: CloudEvent) -> dict[str, Any]:
    """Logto's log payload (`key`, `result`, `ip`, `userAgent`, `applicationId`, `userId`), plus the
    event's id, source and subject, and its data as `params`."""
    payload: dict[str, Any] = {
        "key": event.type,
        "result": "Success",
        "eventId": event.id,
        "source": event.source,
    }
    if event.subject:
        payload["subject"] = event.subject
    actor = event.actor
    if actor is not None:
        if actor.ip:
            payload["ip"] = actor.ip
        if actor.user_agent:
            payload["userAgent"] = actor.user_agent
        if actor.type == "application" and actor.id:
            payload["applicationId"] = actor.id
        if actor.type == "user" and actor.id:
            payload["userId"] = actor.id
    payload["params"] = msgspec.json.decode(event.data)
    return payload


class AuditLogRecorder:
    def __init__(self, store: LogStore) -> None:
        self.store = store

    async def __call__(self, conn: AsyncConnection, event: CloudEvent) -> None:
        await self.store.insert(
            conn,
            {
                "tenant_id": event.tenantid,
                "id": generate_id(),
                "key": event.type,
                "payload": log_payload(event),
                "created_at": datetime.fromisoformat(event.time.replace("Z", "+00:00")),
            },
        )
