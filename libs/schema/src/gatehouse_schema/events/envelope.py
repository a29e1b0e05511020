"""The CloudEvents 1.0 envelope every Gatehouse event travels in, and the base of event payloads.

An event payload is a Struct that declares its own `event_type` (Logto's hook name where one
exists) and `context` (the owning bounded context, which is also the NATS subject segment).
Readers ignore unknown fields, so a version may only add optional fields.
"""

import builtins
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import msgspec

from gatehouse_schema.ids import event_id

SPEC_VERSION = "1.0"


class Actor(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Who caused the event."""

    type: Literal["user", "application", "system"]
    id: str | None = None
    ip: str | None = None
    user_agent: str | None = msgspec.field(default=None, name="userAgent")


SYSTEM_ACTOR = Actor(type="system")


class EventData(msgspec.Struct, kw_only=True):
    """Base of every event payload."""

    event_type: ClassVar[str]
    context: ClassVar[str]
    description: ClassVar[str] = ""

    def entity_id(self) -> str | None:
        return None


class CloudEvent(msgspec.Struct, kw_only=True):
    """A CloudEvents 1.0 JSON envelope with Gatehouse's extensions (tenantid, traceparent, actor)."""

    specversion: str = SPEC_VERSION
    id: str
    source: str
    type: str
    time: str
    subject: str | None = None
    datacontenttype: str = "application/json"
    data: msgspec.Raw = msgspec.Raw(b"null")
    tenantid: str
    traceparent: str | None = None
    actor: Actor | None = None

    def decode_data(self, type_: "builtins.type[Any]") -> Any:
        return msgspec.json.decode(self.data, type=type_)


def event_subject(prefix: str, tenant_id: str, context: str, event_type: str) -> str:
    """`<prefix>.evt.<tenant>.<context>.<type>`, e.g. `gatehouse.evt.default.management.Application.Created`."""
    return f"{prefix}.evt.{tenant_id}.{context}.{event_type}"


def make_event(
    data: EventData, *, tenant_id: str, actor: Actor | None = None, traceparent: str | None = None
) -> CloudEvent:
    return CloudEvent(
        id=event_id(),
        source=f"/gatehouse/{data.context}",
        type=data.event_type,
        subject=data.entity_id(),
        time=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        data=msgspec.Raw(msgspec.json.encode(data)),
        tenantid=tenant_id,
        traceparent=traceparent,
        actor=actor,
    )
