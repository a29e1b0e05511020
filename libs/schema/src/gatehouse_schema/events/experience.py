"""Events of the experience context: Logto's interaction hook events."""

from typing import ClassVar

import msgspec

from gatehouse_schema.api.users import User
from gatehouse_schema.events.envelope import EventData


class InteractionApplication(msgspec.Struct, kw_only=True, rename="camel"):
    """The application the user signed in to, as Logto's interaction hooks describe it."""

    id: str
    name: str
    is_third_party: bool


class _InteractionHookEvent(EventData, kw_only=True, rename="camel"):
    context: ClassVar[str] = "experience"
    interaction_event: str
    interaction_id: str
    user_id: str
    user: User | None
    application: InteractionApplication | None

    def entity_id(self) -> str:
        return self.user_id


class PostSignIn(_InteractionHookEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "PostSignIn"
    description: ClassVar[str] = (
        "A user finished a sign-in through the Experience API (Logto's interaction hook): `userId`, the `user` "
        "(never password material), the `application` signed in to and the OIDC `interactionId`."
    )


class PostRegister(_InteractionHookEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "PostRegister"
    description: ClassVar[str] = (
        "A user registered through the Experience API and finished signing in (Logto's interaction hook); "
        "the same fields as `PostSignIn`."
    )


class PostResetPassword(_InteractionHookEvent, kw_only=True, rename="camel"):
    event_type: ClassVar[str] = "PostResetPassword"
    description: ClassVar[str] = (
        "A user reset their password through the Experience API's `ForgotPassword` interaction (Logto's "
        "interaction hook); the same fields as `PostSignIn` (`interactionEvent` is `ForgotPassword`)."
    )
