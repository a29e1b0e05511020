"""Routes of Logto's Experience API that the registration uses besides the sign-in's (operation ids are
Logto's): switching the interaction event and adding to the profile; the flow is `registration.py`. The
`ForgotPassword` interaction's new password has its own route (`forgot_password.py`)."""

from typing import Annotated, Any, Literal

import msgspec
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, post, put
from litestar.params import Body
from litestar.status_codes import HTTP_204_NO_CONTENT

from gatehouse_experience.api.interaction_cookie import interaction_cookie
from gatehouse_experience.forgot_password import ForgotPasswordFlow
from gatehouse_experience.registration import RegistrationFlow

TAGS = ["Experience"]
AnyRequest = Request[Any, Any, Any]


class UpdateInteractionEvent(msgspec.Struct, kw_only=True, rename="camel"):
    interaction_event: Literal["SignIn", "Register", "ForgotPassword"]


class NewPassword(msgspec.Struct, kw_only=True):
    password: str


class _Profile(msgspec.Struct, kw_only=True, tag_field="type"):
    pass


class UsernameProfile(_Profile, tag="username"):
    value: str


class PasswordProfile(_Profile, tag="password"):
    value: str


class EmailProfile(_Profile, tag="email", rename="camel"):
    verification_id: str


class PhoneProfile(_Profile, tag="phone", rename="camel"):
    verification_id: str


class SocialProfile(_Profile, tag="social", rename="camel"):
    verification_id: str


# `extraProfile` (custom profile fields) is not served: it is refused as an unknown `type`
AddUserProfileBody = UsernameProfile | PasswordProfile | EmailProfile | PhoneProfile | SocialProfile


@put(
    "/api/experience/interaction-event",
    operation_id="UpdateInteractionEvent",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Update interaction event",
)
async def update_interaction_event(
    request: AnyRequest, registration: RegistrationFlow, data: Annotated[UpdateInteractionEvent, Body()]
) -> None:
    await registration.set_event(tenant_of(request), interaction_cookie(request), data.interaction_event)


@post(
    "/api/experience/profile",
    operation_id="AddUserProfile",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Add user profile",
)
async def add_user_profile(
    request: AnyRequest, registration: RegistrationFlow, data: Annotated[AddUserProfileBody, Body()]
) -> None:
    value = data.value if isinstance(data, UsernameProfile | PasswordProfile) else None
    kind = type(data).__struct_config__.tag
    await registration.add_profile(tenant_of(request), interaction_cookie(request), str(kind), value)


@put(
    "/api/experience/profile/password",
    operation_id="ResetUserPassword",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Reset user password",
)
async def reset_user_password(
    request: AnyRequest, forgot_password: ForgotPasswordFlow, data: Annotated[NewPassword, Body()]
) -> None:
    await forgot_password.reset_password(tenant_of(request), interaction_cookie(request), data.password)


ROUTES = [update_interaction_event, add_user_profile, reset_user_password]
