"""Routes of Logto's Experience API for social verifications (operation ids are Logto's); the use case is
`social.py`. A record they make identifies a user at `POST /api/experience/identification`."""

from typing import Annotated, Any

import msgspec
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, post
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK

from gatehouse_experience.api.interaction_cookie import interaction_cookie
from gatehouse_experience.social import SocialVerifications

TAGS = ["Experience"]
AnyRequest = Request[Any, Any, Any]
SOCIAL = "/api/experience/verification/social/{connectorId:str}"


class AuthorizationUriBody(msgspec.Struct, kw_only=True, rename="camel"):
    """Logto's `socialAuthorizationUrlPayloadGuard` without `scope` (the Experience API omits it; SSO connectors
    ignore it); an empty `state` or `redirectUri` is 400 `session.insufficient_info`, as Logto."""

    state: str
    redirect_uri: str


class AuthorizationUri(msgspec.Struct, kw_only=True, rename="camel"):
    authorization_uri: str
    verification_id: str


class VerifyBody(msgspec.Struct, kw_only=True, rename="camel"):
    connector_data: dict[str, Any]
    verification_id: str | None = None


class VerificationId(msgspec.Struct, kw_only=True, rename="camel"):
    verification_id: str


@post(
    f"{SOCIAL}/authorization-uri",
    operation_id="CreateSocialVerification",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Create social verification",
)
async def create_social_verification(
    request: AnyRequest,
    social: SocialVerifications,
    connectorId: str,
    data: Annotated[AuthorizationUriBody, Body()],
) -> AuthorizationUri:
    uri, verification_id = await social.authorization_uri(
        tenant_of(request), interaction_cookie(request), connectorId, data.state, data.redirect_uri
    )
    return AuthorizationUri(authorization_uri=uri, verification_id=verification_id)


@post(
    f"{SOCIAL}/verify",
    operation_id="VerifySocialVerification",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Verify social verification",
)
async def verify_social_verification(
    request: AnyRequest,
    social: SocialVerifications,
    connectorId: str,
    data: Annotated[VerifyBody, Body()],
) -> VerificationId:
    verification_id = await social.verify(
        tenant_of(request), interaction_cookie(request), connectorId, data.connector_data, data.verification_id
    )
    return VerificationId(verification_id=verification_id)


ROUTES = [create_social_verification, verify_social_verification]
