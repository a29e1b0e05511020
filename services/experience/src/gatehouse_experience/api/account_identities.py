"""Routes of the social identities of Logto's Account API (`My account` tag; operation ids are Logto's); the use
cases are `account_identities.py`. Callers are authenticated by the same guard as `/api/my-account`."""

from typing import Annotated, Any

import msgspec
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, delete, post, put
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from gatehouse_experience.account_identities import AccountIdentities
from gatehouse_experience.api.account import VERIFICATION_HEADER, authenticated, caller_of

TAGS = ["My account"]
AnyRequest = Request[Any, Any, Any]
IDENTITIES = "/api/my-account/identities"


class NewIdentity(msgspec.Struct, kw_only=True, rename="camel"):
    new_identifier_verification_record_id: str


class SocialVerificationId(msgspec.Struct, kw_only=True, rename="camel"):
    verification_record_id: Annotated[str, msgspec.Meta(min_length=1)]


@post(
    IDENTITIES,
    operation_id="AddUserIdentities",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_204_NO_CONTENT,
    summary="Add a user identity",
)
async def add_identity(
    request: AnyRequest, account_identities: AccountIdentities, data: Annotated[NewIdentity, Body()]
) -> None:
    verification_id = request.headers.get(VERIFICATION_HEADER)
    await account_identities.link(
        tenant_of(request), caller_of(request), verification_id, data.new_identifier_verification_record_id
    )


@put(
    IDENTITIES,
    operation_id="ReplaceMyAccountIdentity",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_204_NO_CONTENT,
    summary="Replace a user identity",
)
async def replace_identity(
    request: AnyRequest, account_identities: AccountIdentities, data: Annotated[NewIdentity, Body()]
) -> None:
    verification_id = request.headers.get(VERIFICATION_HEADER)
    await account_identities.link(
        tenant_of(request),
        caller_of(request),
        verification_id,
        data.new_identifier_verification_record_id,
        replace=True,
    )


@delete(
    f"{IDENTITIES}/{{target:str}}",
    operation_id="DeleteIdentity",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete a user identity",
)
async def delete_identity(request: AnyRequest, account_identities: AccountIdentities, target: str) -> None:
    verification_id = request.headers.get(VERIFICATION_HEADER)
    await account_identities.unlink(tenant_of(request), caller_of(request), verification_id, target)


@put(
    f"{IDENTITIES}/{{target:str}}/access-token",
    operation_id="UpdateSocialIdentityAccessTokenByVerificationId",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_200_OK,
    summary="Update the access token for a social identity by verification ID",
)
async def keep_social_access_token(
    request: AnyRequest,
    account_identities: AccountIdentities,
    target: str,
    data: Annotated[SocialVerificationId, Body()],
) -> Any:
    return await account_identities.keep_token_set(
        tenant_of(request), caller_of(request), target, data.verification_record_id
    )


ROUTES = [add_identity, replace_identity, delete_identity, keep_social_access_token]
