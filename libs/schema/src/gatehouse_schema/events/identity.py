"""Events of the identity context."""

from typing import ClassVar

from gatehouse_schema.api.users import User
from gatehouse_schema.events.envelope import EventData


class SigningKeyRotated(EventData, kw_only=True, rename="camel"):
    context: ClassVar[str] = "identity"
    event_type: ClassVar[str] = "SigningKey.Rotated"
    description: ClassVar[str] = (
        "The OIDC signing keys changed (created, rotated or deleted): token validators refetch the JWKS."
    )
    key_ids: list[str]


class _UserEvent(EventData, kw_only=True, rename="camel"):
    context: ClassVar[str] = "identity"
    data: User

    def entity_id(self) -> str:
        return self.data.id


class UserCreated(_UserEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "User.Created"
    description: ClassVar[str] = "A user was created (the payload never carries password material)."


class UserDataUpdated(_UserEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "User.Data.Updated"
    description: ClassVar[str] = (
        "A user's data changed: profile fields, custom data, password, password expiration or logto config "
        "(`changed` names the fields; the payload never carries password material)."
    )
    changed: list[str]


class UserDeleted(_UserEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "User.Deleted"
    description: ClassVar[str] = "A user was deleted."


class UserSuspensionStatusUpdated(_UserEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "User.SuspensionStatus.Updated"
    description: ClassVar[str] = "A user was suspended or reinstated (`data.isSuspended`)."
