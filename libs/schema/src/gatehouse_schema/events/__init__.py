"""The event catalogue: every event type Gatehouse publishes. `docs/events.md` is generated from it."""

from gatehouse_schema.events.envelope import (
    SYSTEM_ACTOR,
    Actor,
    CloudEvent,
    EventData,
    event_subject,
    make_event,
)
from gatehouse_schema.events.identity import SigningKeyRotated
from gatehouse_schema.events.management import (
    ApplicationCreated,
    ApplicationDataUpdated,
    ApplicationDeleted,
    ResourceCreated,
    ResourceDataUpdated,
    ResourceDeleted,
    ScopeCreated,
    ScopeDataUpdated,
    ScopeDeleted,
)

CATALOGUE: tuple[type[EventData], ...] = (
    ApplicationCreated,
    ApplicationDataUpdated,
    ApplicationDeleted,
    ResourceCreated,
    ResourceDataUpdated,
    ResourceDeleted,
    ScopeCreated,
    ScopeDataUpdated,
    ScopeDeleted,
    SigningKeyRotated,
)

__all__ = [
    "CATALOGUE",
    "SYSTEM_ACTOR",
    "Actor",
    "ApplicationCreated",
    "ApplicationDataUpdated",
    "ApplicationDeleted",
    "CloudEvent",
    "EventData",
    "ResourceCreated",
    "ResourceDataUpdated",
    "ResourceDeleted",
    "ScopeCreated",
    "ScopeDataUpdated",
    "ScopeDeleted",
    "SigningKeyRotated",
    "event_subject",
    "make_event",
]
