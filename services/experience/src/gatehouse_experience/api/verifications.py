"""Routes of Logto's Account API `Verifications` tag (operation ids are Logto's): password and social records;
the use case is `verifications.py`. The caller is authenticated as for `/api/my-account` (the same guard)."""

from datetime import datetime
from typing import Annotated, Any

import msgspec
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, post
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from gatehouse_experience.api.account import authenticated, caller_of
from gatehouse_experience.verifications import Verifications

TAGS = ["Verifications"]
AnyRequest = Request[Any, Any, Any]


class PasswordBody(msgspec.Struct, kw_only=True):
    password: Annotated[str, msgspec.Meta(min_length=1)]


class CreatedVerification(msgspec.Struct, kw_only=True, rename="camel"):
    verification_record_id: str
    expires_at: str


class SocialBody(msgspec.Struct, kw_only=True, rename="camel"):
    """Logto's `socialAuthorizationUrlPayloadGuard` with the `connectorId`; an empty `state` or `redirectUri` is
    400 `session.insufficient_info`, as Logto."""

    connector_id: str
    state: str
    redirect_uri: str
    scope: str | None = None


class CreatedSocialVerification(msgspec.Struct, kw_only=True, rename="camel"):
    verification_record_id: str
    authorization_uri: str
    expires_at: str


class VerifySocialBody(msgspec.Struct, kw_only=True, rename="camel"):
    connector_data: dict[str, Any]
    verification_record_id: str


class VerificationRecordId(msgspec.Struct, kw_only=True, rename="camel"):
    verification_record_id: str


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@post(
    "/api/verifications/password",
    operation_id="CreateVerificationByPassword",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_201_CREATED,
    summary="Create a record by password",
)
async def create_verification_by_password(
    request: AnyRequest, verifications: Verifications, data: Annotated[PasswordBody, Body()]
) -> CreatedVerification:
    record = await verifications.by_password(tenant_of(request), caller_of(request).user.id, data.password)
    return CreatedVerification(verification_record_id=record.id, expires_at=iso(record.expires_at))


@post(
    "/api/verifications/social",
    operation_id="CreateVerificationBySocial",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_201_CREATED,
    summary="Create a social verification record",
)
async def create_verification_by_social(
    request: AnyRequest, verifications: Verifications, data: Annotated[SocialBody, Body()]
) -> CreatedSocialVerification:
    user_id = caller_of(request).user.id
    record, uri = await verifications.by_social(
        tenant_of(request), user_id, data.connector_id, data.state, data.redirect_uri, data.scope
    )
    return CreatedSocialVerification(
        verification_record_id=record.id, authorization_uri=uri, expires_at=iso(record.expires_at)
    )


@post(
    "/api/verifications/social/verify",
    operation_id="VerifyVerificationBySocial",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_200_OK,
    summary="Verify a social verification record",
)
async def verify_verification_by_social(
    request: AnyRequest, verifications: Verifications, data: Annotated[VerifySocialBody, Body()]
) -> VerificationRecordId:
    user_id = caller_of(request).user.id
    await verifications.verify_social(tenant_of(request), user_id, data.verification_record_id, data.connector_data)
    return VerificationRecordId(verification_record_id=data.verification_record_id)


ROUTES = [create_verification_by_password, create_verification_by_social, verify_verification_by_social]
