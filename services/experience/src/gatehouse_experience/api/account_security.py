"""Routes of the security part of Logto's Account API (`My account` tag; operation ids are Logto's); the use
cases are `account_security.py`. Callers are authenticated by the same guard as `/api/my-account`."""

from typing import Annotated, Any

import msgspec
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.mfa_secrets import generate_backup_codes, generate_totp_secret
from litestar import Request, delete, get, patch, post
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from msgspec import UNSET, UnsetType

from gatehouse_experience.account_security import AccountSecurity
from gatehouse_experience.api.account import VERIFICATION_HEADER, authenticated, caller_of

TAGS = ["My account"]
AnyRequest = Request[Any, Any, Any]
ME = "/api/my-account"


class LogtoConfigsBody(msgspec.Struct, kw_only=True, rename="camel"):
    mfa: dict[str, Any] | UnsetType = UNSET
    passkey_sign_in: dict[str, Any] | UnsetType = UNSET


class TotpBody(msgspec.Struct, kw_only=True, tag_field="type", tag="Totp"):
    secret: str
    code: str | UnsetType = UNSET


class BackupCodesBody(msgspec.Struct, kw_only=True, tag_field="type", tag="BackupCode"):
    codes: list[str]


class TotpSecret(msgspec.Struct, kw_only=True):
    secret: str


class BackupCodes(msgspec.Struct, kw_only=True):
    codes: list[str]


def verification_of(request: AnyRequest) -> str | None:
    return request.headers.get(VERIFICATION_HEADER)


@get(
    f"{ME}/logto-configs", operation_id="GetLogtoConfig", tags=TAGS, guards=[authenticated], summary="Get logto config"
)
async def get_logto_configs(request: AnyRequest, account_security: AccountSecurity) -> Any:
    return await account_security.logto_configs(caller_of(request))


@patch(
    f"{ME}/logto-configs",
    operation_id="UpdateLogtoConfig",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_200_OK,
    summary="Update logto config",
)
async def update_logto_configs(
    request: AnyRequest, account_security: AccountSecurity, data: Annotated[LogtoConfigsBody, Body()]
) -> Any:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    return await account_security.update_logto_configs(caller_of(request), changes)


@get(
    f"{ME}/identities/{{target:str}}/access-token",
    operation_id="GetSocialIdentityAccessToken",
    tags=TAGS,
    guards=[authenticated],
    summary="Get social identity access token",
)
async def get_social_access_token(request: AnyRequest, account_security: AccountSecurity, target: str) -> Any:
    return await account_security.social_access_token(caller_of(request), target)


@get(
    f"{ME}/sso-identities/{{connectorId:str}}/access-token",
    operation_id="GetEnterpriseSsoIdentityAccessToken",
    tags=TAGS,
    guards=[authenticated],
    summary="Retrieve the access token issued by a third-party enterprise SSO provider",
)
async def get_sso_access_token(request: AnyRequest, account_security: AccountSecurity, connectorId: str) -> Any:
    return await account_security.sso_access_token(caller_of(request), connectorId)


MFA = f"{ME}/mfa-verifications"


@get(MFA, operation_id="GetMfaVerifications", tags=TAGS, guards=[authenticated], summary="Get MFA verifications")
async def get_mfa_verifications(request: AnyRequest, account_security: AccountSecurity) -> Any:
    return await account_security.mfa_verifications(caller_of(request))


@post(
    MFA,
    operation_id="AddMfaVerification",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_204_NO_CONTENT,
    summary="Add an MFA verification",
)
async def add_mfa_verification(
    request: AnyRequest, account_security: AccountSecurity, data: Annotated[TotpBody | BackupCodesBody, Body()]
) -> None:
    body: dict[str, Any] = msgspec.to_builtins(data)
    await account_security.add_mfa(tenant_of(request), caller_of(request), verification_of(request), body)


@delete(
    f"{MFA}/{{verificationId:str}}",
    operation_id="DeleteMfaVerification",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete an MFA verification",
)
async def delete_mfa_verification(request: AnyRequest, account_security: AccountSecurity, verificationId: str) -> None:
    await account_security.delete_mfa(tenant_of(request), caller_of(request), verification_of(request), verificationId)


@post(
    f"{MFA}/totp-secret/generate",
    operation_id="GenerateTotpSecret",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_200_OK,
    summary="Generate a TOTP secret",
)
async def generate_totp(request: AnyRequest) -> TotpSecret:
    return TotpSecret(secret=generate_totp_secret())


@post(
    f"{MFA}/backup-codes/generate",
    operation_id="GenerateMyAccountBackupCodes",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_200_OK,
    summary="Generate backup codes",
)
async def generate_codes(request: AnyRequest) -> BackupCodes:
    return BackupCodes(codes=generate_backup_codes())


@get(
    f"{MFA}/backup-codes", operation_id="GetBackupCodes", tags=TAGS, guards=[authenticated], summary="Get backup codes"
)
async def get_backup_codes(request: AnyRequest, account_security: AccountSecurity) -> Any:
    return await account_security.backup_codes(tenant_of(request), caller_of(request), verification_of(request))


# sessions and grants are not registered yet: identity's OIDC provider does not issue the `sessions` scope
ROUTES = [
    get_logto_configs,
    update_logto_configs,
    get_social_access_token,
    get_sso_access_token,
    get_mfa_verifications,
    add_mfa_verification,
    delete_mfa_verification,
    generate_totp,
    generate_codes,
    get_backup_codes,
]
