"""Events of the management context."""

from typing import ClassVar

from gatehouse_schema.api.applications import Application
from gatehouse_schema.events.envelope import EventData


class _ManagementEvent(EventData, kw_only=True):
    context: ClassVar[str] = "management"


class ApplicationCreated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Application.Created"
    description: ClassVar[str] = "An application was created."
    data: Application

    def entity_id(self) -> str:
        return self.data.id


class ApplicationDataUpdated(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Application.Data.Updated"
    description: ClassVar[str] = (
        "An application's data changed (including its secrets: the payload names the change, never the value)."
    )
    data: Application
    changed: list[str]

    def entity_id(self) -> str:
        return self.data.id


class ApplicationDeleted(_ManagementEvent, kw_only=True):
    event_type: ClassVar[str] = "Application.Deleted"
    description: ClassVar[str] = "An application was deleted."
    data: Application

    def entity_id(self) -> str:
        return self.data.id
