"""Routes of Logto's Experience API that the sign-in flow uses (operation ids are Logto's); the flow itself
is `sign_in.py` (verification codes: `verification_codes.py`; a `ForgotPassword` interaction's identification and
submit: `forgot_password.py`)."""

import re
from typing import Annotated, Any, Literal

import msgspec
from gatehouse_platform.actors import client_ip
from gatehouse_platform.errors import BadRequest
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.events import Actor
from gatehouse_schema.rpc.identity import PasswordIdentifier
from litestar import Request, Response, get, post, put
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_experience.api.interaction_cookie import interaction_cookie
from gatehouse_experience.registration import RegistrationFlow
from gatehouse_experience.sign_in import SignInFlow
from gatehouse_experience.verification_codes import CodeVerifications

TAGS = ["Experience"]
AnyRequest = Request[Any, Any, Any]


class InitInteraction(msgspec.Struct, kw_only=True, rename="camel"):
    interaction_event: Literal["SignIn", "Register", "ForgotPassword"]
    captcha_token: str | None = None


class Identifier(msgspec.Struct, kw_only=True):
    type: Literal["username", "email", "phone"]
    value: str


class PasswordBody(msgspec.Struct, kw_only=True):
    identifier: Identifier
    password: Annotated[str, msgspec.Meta(min_length=1)]


class CodeIdentifier(msgspec.Struct, kw_only=True):
    """Logto's `verificationCodeIdentifierGuard`: an email address or a phone number (digits)."""

    type: Literal["email", "phone"]
    value: str


class SendCodeBody(msgspec.Struct, kw_only=True, rename="camel"):
    identifier: CodeIdentifier
    interaction_event: Literal["SignIn", "Register", "ForgotPassword"]


class VerifyCodeBody(msgspec.Struct, kw_only=True, rename="camel"):
    identifier: CodeIdentifier
    verification_id: str
    code: str


# Logto's `emailRegEx` and `phoneRegEx`
CODE_IDENTIFIER_PATTERNS = {"email": re.compile(r"\S+@\S+\.\S+"), "phone": re.compile(r"\d+")}


def _code_identifier(identifier: CodeIdentifier) -> dict[str, str]:
    """400 `guard.invalid_input` for a value its type's pattern refuses (an email longer than 256 characters too)."""
    too_long = identifier.type == "email" and len(identifier.value) > 256
    if too_long or not CODE_IDENTIFIER_PATTERNS[identifier.type].fullmatch(identifier.value):
        message = f"`identifier.value` is not a valid {identifier.type}"
        raise BadRequest("guard.invalid_input", data={"message": message})
    return {"type": identifier.type, "value": identifier.value}


class VerificationId(msgspec.Struct, kw_only=True, rename="camel"):
    verification_id: str


class TotpBody(msgspec.Struct, kw_only=True, rename="camel"):
    code: Annotated[str, msgspec.Meta(min_length=1)]
    verification_id: str | None = None


class BackupCodeBody(msgspec.Struct, kw_only=True):
    code: Annotated[str, msgspec.Meta(min_length=1)]


class IdentifyBody(msgspec.Struct, kw_only=True, rename="camel"):
    verification_id: str | None = None
    link_social_identity: bool | None = None


class Redirect(msgspec.Struct, kw_only=True, rename="camel"):
    redirect_to: str


@put(
    "/api/experience",
    operation_id="InitInteraction",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Init new interaction",
)
async def init_interaction(request: AnyRequest, sign_in: SignInFlow, data: Annotated[InitInteraction, Body()]) -> None:
    await sign_in.start(tenant_of(request), interaction_cookie(request), data.interaction_event)


@post(
    "/api/experience/verification/password",
    operation_id="CreatePasswordVerification",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Create password verification record",
)
async def create_password_verification(
    request: AnyRequest, sign_in: SignInFlow, data: Annotated[PasswordBody, Body()]
) -> VerificationId:
    identifier = PasswordIdentifier(type=data.identifier.type, value=data.identifier.value)
    verification_id = await sign_in.verify_password(
        tenant_of(request), interaction_cookie(request), identifier, data.password
    )
    return VerificationId(verification_id=verification_id)


@post(
    "/api/experience/verification/verification-code",
    operation_id="CreateAndSendVerificationCode",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Create and send verification code",
)
async def create_and_send_verification_code(
    request: AnyRequest, codes: CodeVerifications, data: Annotated[SendCodeBody, Body()]
) -> VerificationId:
    identifier = _code_identifier(data.identifier)
    verification_id = await codes.send(
        tenant_of(request), interaction_cookie(request), identifier, data.interaction_event
    )
    return VerificationId(verification_id=verification_id)


@post(
    "/api/experience/verification/verification-code/verify",
    operation_id="VerifyVerificationCodeVerification",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Verify verification code",
)
async def verify_verification_code_verification(
    request: AnyRequest, codes: CodeVerifications, data: Annotated[VerifyCodeBody, Body()]
) -> VerificationId:
    identifier = _code_identifier(data.identifier)
    verification_id = await codes.verify(
        tenant_of(request), interaction_cookie(request), identifier, data.verification_id, data.code
    )
    return VerificationId(verification_id=verification_id)


@post(
    "/api/experience/identification",
    operation_id="IdentifyUser",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Identify user for the current interaction",
)
async def identify_user(
    request: AnyRequest,
    sign_in: SignInFlow,
    registration: RegistrationFlow,
    data: Annotated[IdentifyBody, Body()],
) -> Response[None]:
    """`Register`: creates the user (201, as Logto); otherwise identifies one by a verification (204)."""
    if await registration.identify(tenant_of(request), interaction_cookie(request), data.verification_id):
        return Response(None, status_code=HTTP_201_CREATED)
    await sign_in.identify(
        tenant_of(request), interaction_cookie(request), data.verification_id, bool(data.link_social_identity)
    )
    return Response(None, status_code=HTTP_204_NO_CONTENT)


@post(
    "/api/experience/submit",
    operation_id="SubmitInteraction",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Submit interaction",
)
async def submit_interaction(request: AnyRequest, sign_in: SignInFlow) -> Response[Redirect | bytes]:
    """`{redirectTo}`; a `ForgotPassword` (the password reset) answers 200 without a body, as Logto."""
    actor = Actor(type="user", ip=client_ip(request), user_agent=request.headers.get("user-agent"))
    redirect_to = await sign_in.submit(tenant_of(request), interaction_cookie(request), actor)
    return Response(b"" if redirect_to is None else Redirect(redirect_to=redirect_to), status_code=HTTP_200_OK)


@post(
    "/api/experience/verification/totp/verify",
    operation_id="VerifyTotpVerification",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Verify TOTP verification code",
)
async def verify_totp_verification(
    request: AnyRequest, sign_in: SignInFlow, data: Annotated[TotpBody, Body()]
) -> VerificationId:
    verification_id = await sign_in.verify_totp(
        tenant_of(request), interaction_cookie(request), data.code, data.verification_id
    )
    return VerificationId(verification_id=verification_id)


@post(
    "/api/experience/verification/backup-code/verify",
    operation_id="VerifyBackupCode",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Verify backup code",
)
async def verify_backup_code(
    request: AnyRequest, sign_in: SignInFlow, data: Annotated[BackupCodeBody, Body()]
) -> VerificationId:
    return VerificationId(
        verification_id=await sign_in.verify_backup_code(tenant_of(request), interaction_cookie(request), data.code)
    )


@get(
    "/api/experience/interaction",
    operation_id="GetInteraction",
    tags=TAGS,
    summary="Get public interaction data",
)
async def get_interaction(request: AnyRequest, sign_in: SignInFlow) -> dict[str, Any]:
    return await sign_in.public_state(tenant_of(request), interaction_cookie(request))


ROUTES = [
    get_interaction,
    init_interaction,
    create_password_verification,
    create_and_send_verification_code,
    verify_verification_code_verification,
    identify_user,
    submit_interaction,
    verify_totp_verification,
    verify_backup_code,
]
