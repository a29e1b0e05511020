"""A user's MFA verifications (Users group). Only TOTP and backup codes can be bound here, as in
Logto: a WebAuthn credential needs the user's authenticator, so any other type is 400."""

from typing import Annotated, Any, Literal

import msgspec
from gatehouse_platform.actors import actor_of
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, delete, get, post
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from msgspec import UNSET, UnsetType

from gatehouse_identity.domain.mfa import qr_data_url
from gatehouse_identity.services.user_mfa import UserMfaService

TAGS = ["Users"]
AnyRequest = Request[Any, Any, Any]
MFA = "/api/users/{userId:str}/mfa-verifications"


class MfaVerification(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    id: str
    created_at: str
    type: str
    last_used_at: str | UnsetType = UNSET
    agent: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    remain_codes: int | UnsetType = UNSET


class CreateMfaVerification(msgspec.Struct, kw_only=True, rename="camel"):
    type: Literal["Totp", "BackupCode"]
    secret: str | UnsetType = UNSET
    codes: list[str] | UnsetType = UNSET


class TotpBound(msgspec.Struct, tag_field="type", tag="Totp", rename="camel"):
    secret: str
    secret_qr_code: str


class BackupCodesBound(msgspec.Struct, tag_field="type", tag="BackupCode", rename="camel"):
    codes: list[str]


def _service_host(request: AnyRequest) -> str:
    """The host the caller addressed (the gateway forwards it), which authenticator apps show as issuer."""
    forwarded = request.headers.get("x-forwarded-host")
    if forwarded:
        return forwarded.split(",", 1)[0].strip().rsplit(":", 1)[0]
    return request.url.hostname or "localhost"


@get(MFA, operation_id="ListUserMfaVerifications", tags=TAGS, summary="Get user's MFA verifications")
async def list_mfa(request: AnyRequest, user_mfa: UserMfaService, userId: str) -> list[MfaVerification]:
    return msgspec.convert(await user_mfa.factors(tenant_of(request), userId), list[MfaVerification])


@post(
    MFA,
    operation_id="CreateUserMfaVerification",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Create an MFA verification for a user",
)
async def create_mfa(
    request: AnyRequest, user_mfa: UserMfaService, userId: str, data: Annotated[CreateMfaVerification, Body()]
) -> TotpBound | BackupCodesBound:
    tenant, actor = tenant_of(request), actor_of(request)
    if data.type == "Totp":
        secret = None if data.secret is UNSET else data.secret
        bound = await user_mfa.bind_totp(tenant, userId, secret, _service_host(request), actor)
        return TotpBound(bound.secret, qr_data_url(bound.key_uri))
    codes = None if data.codes is UNSET else data.codes
    return BackupCodesBound(await user_mfa.bind_backup_codes(tenant, userId, codes, actor))


@delete(
    f"{MFA}/{{verificationId:str}}",
    operation_id="DeleteUserMfaVerification",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete an MFA verification for a user",
)
async def delete_mfa(request: AnyRequest, user_mfa: UserMfaService, userId: str, verificationId: str) -> None:
    await user_mfa.delete(tenant_of(request), userId, verificationId, actor_of(request))


ROUTES = [list_mfa, create_mfa, delete_mfa]
