"""Routes of Logto's Account API (`My account` tag; operation ids are Logto's); the use cases are `account.py`.
The caller is authenticated by a guard, before the body is read, as Logto's auth middleware runs first."""

from typing import Annotated, Any

import msgspec
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, get, patch, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from msgspec import UNSET, UnsetType

from gatehouse_experience.account import AccountApi, Caller

TAGS = ["My account"]
AnyRequest = Request[Any, Any, Any]
VERIFICATION_HEADER = "logto-verification-id"
Username = Annotated[str, msgspec.Meta(pattern=r"^[A-Z_a-z]\w*$")]


async def authenticated(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    account: AccountApi = connection.app.state.ctx.components["account"]
    caller = await account.authenticate(tenant_of(connection), connection.headers.get("authorization"))
    connection.state.account_caller = caller


def caller_of(request: AnyRequest) -> Caller:
    caller: Caller = request.state.account_caller
    return caller


class UpdateProfileBody(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    name: str | UnsetType | None = UNSET
    avatar: str | UnsetType | None = UNSET
    username: Username | UnsetType | None = UNSET
    custom_data: dict[str, Any] | UnsetType = UNSET


class Address(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True, forbid_unknown_fields=True):
    formatted: str | UnsetType = UNSET
    street_address: str | UnsetType = UNSET
    locality: str | UnsetType = UNSET
    region: str | UnsetType = UNSET
    postal_code: str | UnsetType = UNSET
    country: str | UnsetType = UNSET


class OtherProfile(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True, forbid_unknown_fields=True):
    """Logto's `userProfileGuard`: the OIDC standard claims a user may keep in `profile`."""

    family_name: str | UnsetType = UNSET
    given_name: str | UnsetType = UNSET
    middle_name: str | UnsetType = UNSET
    nickname: str | UnsetType = UNSET
    preferred_username: str | UnsetType = UNSET
    profile: str | UnsetType = UNSET
    website: str | UnsetType = UNSET
    gender: str | UnsetType = UNSET
    birthdate: str | UnsetType = UNSET
    zoneinfo: str | UnsetType = UNSET
    locale: str | UnsetType = UNSET
    address: Address | UnsetType = UNSET


class NewPassword(msgspec.Struct, kw_only=True):
    password: Annotated[str, msgspec.Meta(min_length=1)]


@get("/api/my-account", operation_id="GetProfile", tags=TAGS, guards=[authenticated], summary="Get profile")
async def get_profile(request: AnyRequest, account: AccountApi) -> dict[str, Any]:
    return account.profile(caller_of(request))


@patch(
    "/api/my-account",
    operation_id="UpdateProfile",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_200_OK,
    summary="Update profile",
)
async def update_profile(
    request: AnyRequest, account: AccountApi, data: Annotated[UpdateProfileBody, Body()]
) -> dict[str, Any]:
    changes: dict[str, Any] = msgspec.to_builtins(data)  # the given keys only
    return await account.update_profile(tenant_of(request), caller_of(request), changes)


@patch(
    "/api/my-account/profile",
    operation_id="UpdateOtherProfile",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_200_OK,
    summary="Update other profile",
)
async def update_other_profile(
    request: AnyRequest, account: AccountApi, data: Annotated[OtherProfile, Body()]
) -> dict[str, Any]:
    return await account.update_other_profile(caller_of(request), msgspec.to_builtins(data))


@post(
    "/api/my-account/password",
    operation_id="UpdatePassword",
    tags=TAGS,
    guards=[authenticated],
    status_code=HTTP_204_NO_CONTENT,
    summary="Update password",
)
async def update_password(request: AnyRequest, account: AccountApi, data: Annotated[NewPassword, Body()]) -> None:
    verification_id = request.headers.get(VERIFICATION_HEADER)
    await account.update_password(tenant_of(request), caller_of(request), verification_id, data.password)


ROUTES = [get_profile, update_profile, update_other_profile, update_password]
