"""Events of the identity context."""

from typing import ClassVar

from gatehouse_schema.events.envelope import EventData


class SigningKeyRotated(EventData, kw_only=True, rename="camel"):
    context: ClassVar[str] = "identity"
    event_type: ClassVar[str] = "SigningKey.Rotated"
    description: ClassVar[str] = (
        "The OIDC signing keys changed (created, rotated or deleted): token validators refetch the JWKS."
    )
    key_ids: list[str]
