"""Routes of Logto's Experience API for enterprise SSO (operation ids are Logto's); the use case is `sso.py`. A
record they make identifies a user at `POST /api/experience/identification`; `GET /api/experience/sso-connectors`
is anonymous (no interaction needed)."""

from typing import Annotated, Any

import msgspec
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, get, post
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK

from gatehouse_experience.api.interaction_cookie import interaction_cookie
from gatehouse_experience.api.social import AuthorizationUri, AuthorizationUriBody, VerificationId
from gatehouse_experience.sso import SsoVerifications

TAGS = ["Experience"]
AnyRequest = Request[Any, Any, Any]
SSO = "/api/experience/verification/sso/{connectorId:str}"


class VerifyBody(msgspec.Struct, kw_only=True, rename="camel"):
    """As the social verify body, but `verificationId` is required."""

    connector_data: dict[str, Any]
    verification_id: str


class ConnectorIds(msgspec.Struct, kw_only=True, rename="camel"):
    connector_ids: list[str]


@post(
    f"{SSO}/authorization-uri",
    operation_id="CreateEnterpriseSsoVerification",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Create enterprise SSO verification",
)
async def create_enterprise_sso_verification(
    request: AnyRequest,
    sso: SsoVerifications,
    connectorId: str,
    data: Annotated[AuthorizationUriBody, Body()],
) -> AuthorizationUri:
    uri, verification_id = await sso.authorization_uri(
        tenant_of(request), interaction_cookie(request), connectorId, data.state, data.redirect_uri
    )
    return AuthorizationUri(authorization_uri=uri, verification_id=verification_id)


@post(
    f"{SSO}/verify",
    operation_id="VerifyEnterpriseSsoVerification",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Verify enterprise SSO verification",
)
async def verify_enterprise_sso_verification(
    request: AnyRequest,
    sso: SsoVerifications,
    connectorId: str,
    data: Annotated[VerifyBody, Body()],
) -> VerificationId:
    verification_id = await sso.verify(
        tenant_of(request), interaction_cookie(request), connectorId, data.connector_data, data.verification_id
    )
    return VerificationId(verification_id=verification_id)


@get(
    "/api/experience/sso-connectors",
    operation_id="GetEnabledSsoConnectors",
    tags=TAGS,
    summary="Get enabled SSO connectors by the given email's domain",
)
async def get_enabled_sso_connectors(
    request: AnyRequest, sso: SsoVerifications, email: Annotated[str, Parameter(query="email")]
) -> ConnectorIds:
    return ConnectorIds(connector_ids=await sso.connectors_for_email(tenant_of(request), email))


ROUTES = [create_enterprise_sso_verification, verify_enterprise_sso_verification, get_enabled_sso_connectors]
