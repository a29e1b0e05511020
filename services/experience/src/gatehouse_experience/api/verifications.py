"""Routes of Logto's Account API `Verifications` tag (operation ids are Logto's); the use case is
`verifications.py`. The caller is authenticated as for `/api/my-account` (the same guard)."""

from typing import Annotated, Any

import msgspec
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, post
from litestar.params import Body
from litestar.status_codes import HTTP_201_CREATED

from gatehouse_experience.api.account import authenticated, caller_of
from gatehouse_experience.verifications import Verifications

TAGS = ["Verifications"]
AnyRequest = Request[Any, Any, Any]


class PasswordBody(msgspec.Struct, kw_only=True):
    password: Annotated[str, msgspec.Meta(min_length=1)]


class CreatedVerification(msgspec.Struct, kw_only=True, rename="camel"):
    verification_record_id: str
    expires_at: str


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
    expires_at = record.expires_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return CreatedVerification(verification_record_id=record.id, expires_at=expires_at)


ROUTES = [create_verification_by_password]
