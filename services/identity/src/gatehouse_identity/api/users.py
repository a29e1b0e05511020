"""Routes of the Users group that identity serves (operation ids are Logto's). Role assignment
(`/api/users/{userId}/roles`) is management's; organizations' user routes are organizations'."""

from typing import Annotated, Any

import msgspec
from gatehouse_platform.actors import actor_of
from gatehouse_platform.pagination import parse_page
from gatehouse_platform.query import paged, search_term, truthy
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.users import User
from litestar import Request, Response, delete, get, patch, post
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from gatehouse_identity.api.user_bodies import (
    CreateUser,
    CustomDataPatch,
    HasPassword,
    LogtoConfigPatch,
    LogtoConfigs,
    PasswordBody,
    PasswordExpiration,
    ProfilePatch,
    Suspension,
    UpdateUser,
    UserDetail,
)
from gatehouse_identity.api.user_identities import sso_identity_out
from gatehouse_identity.services.user_identities import UserIdentityService
from gatehouse_identity.services.users import UserService

TAGS = ["Users"]
AnyRequest = Request[Any, Any, Any]
USER = "/api/users/{userId:str}"


@get("/api/users", operation_id="ListUsers", tags=TAGS, summary="Get users")
async def list_users(
    request: AnyRequest, users: UserService, page: str | None = None, page_size: str | None = None
) -> Response[list[User]]:
    paging = parse_page(page, page_size)
    assert paging is not None
    total, items = await users.search(tenant_of(request), search_term(request), paging)
    return paged(items, total, paging)


@post("/api/users", operation_id="CreateUser", tags=TAGS, status_code=HTTP_200_OK, summary="Create user")
async def create_user(request: AnyRequest, users: UserService, data: Annotated[CreateUser, Body()]) -> User:
    return await users.create(tenant_of(request), data, actor_of(request))


@get(USER, operation_id="GetUser", tags=TAGS, summary="Get user")
async def get_user(
    request: AnyRequest,
    users: UserService,
    user_identities: UserIdentityService,
    userId: str,
    include_sso_identities: Annotated[str | None, Parameter(query="includeSsoIdentities")] = None,
    include_password_hash: Annotated[str | None, Parameter(query="includePasswordHash")] = None,
) -> User | UserDetail:
    """Password digests are never returned: `includePasswordHash` is accepted and ignored."""
    tenant = tenant_of(request)
    user = await users.get(tenant, userId)
    if truthy(include_sso_identities):
        sso = [msgspec.to_builtins(sso_identity_out(i)) for i in await user_identities.sso_identities(tenant, userId)]
        return UserDetail(**msgspec.structs.asdict(user), sso_identities=sso)
    return user


@patch(USER, operation_id="UpdateUser", tags=TAGS, summary="Update user")
async def update_user(
    request: AnyRequest, users: UserService, userId: str, data: Annotated[UpdateUser, Body()]
) -> User:
    return await users.update(tenant_of(request), userId, data, actor_of(request))


@delete(USER, operation_id="DeleteUser", tags=TAGS, status_code=HTTP_204_NO_CONTENT, summary="Delete user")
async def delete_user(request: AnyRequest, users: UserService, userId: str) -> None:
    await users.delete(tenant_of(request), userId, actor_of(request))


@get(f"{USER}/custom-data", operation_id="ListUserCustomData", tags=TAGS, summary="Get user custom data")
async def get_custom_data(request: AnyRequest, users: UserService, userId: str) -> dict[str, Any]:
    return await users.custom_data(tenant_of(request), userId)


@patch(f"{USER}/custom-data", operation_id="UpdateUserCustomData", tags=TAGS, summary="Update user custom data")
async def update_custom_data(
    request: AnyRequest, users: UserService, userId: str, data: Annotated[CustomDataPatch, Body()]
) -> dict[str, Any]:
    return await users.merge_custom_data(tenant_of(request), userId, data.custom_data, actor_of(request))


@patch(f"{USER}/profile", operation_id="UpdateUserProfile", tags=TAGS, summary="Update user profile")
async def update_profile(
    request: AnyRequest, users: UserService, userId: str, data: Annotated[ProfilePatch, Body()]
) -> dict[str, Any]:
    patch_ = msgspec.to_builtins(data.profile)
    return await users.merge_profile(tenant_of(request), userId, patch_, actor_of(request))


@patch(f"{USER}/password", operation_id="UpdateUserPassword", tags=TAGS, summary="Update user password")
async def update_password(
    request: AnyRequest, users: UserService, userId: str, data: Annotated[PasswordBody, Body()]
) -> User:
    return await users.set_password(tenant_of(request), userId, data.password, actor_of(request))


@post(
    f"{USER}/password/verify",
    operation_id="VerifyUserPassword",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Verify user password",
)
async def verify_password(
    request: AnyRequest, users: UserService, userId: str, data: Annotated[PasswordBody, Body()]
) -> None:
    await users.verify_password(tenant_of(request), userId, data.password)


@get(f"{USER}/has-password", operation_id="GetUserHasPassword", tags=TAGS, summary="Check if user has password")
async def has_password(request: AnyRequest, users: UserService, userId: str) -> HasPassword:
    return HasPassword(await users.has_password(tenant_of(request), userId))


@patch(
    f"{USER}/password/expiration",
    operation_id="UpdateUserPasswordExpiration",
    tags=TAGS,
    summary="Update user password expiration",
)
async def update_password_expiration(
    request: AnyRequest, users: UserService, userId: str, data: Annotated[PasswordExpiration, Body()]
) -> User:
    return await users.set_password_expired(tenant_of(request), userId, data.is_expired, actor_of(request))


@patch(f"{USER}/is-suspended", operation_id="UpdateUserIsSuspended", tags=TAGS, summary="Update user suspension status")
async def update_is_suspended(
    request: AnyRequest, users: UserService, userId: str, data: Annotated[Suspension, Body()]
) -> User:
    return await users.set_suspended(tenant_of(request), userId, data.is_suspended, actor_of(request))


@get(f"{USER}/logto-configs", operation_id="ListUserLogtoConfigs", tags=TAGS, summary="Get user logto config")
async def get_logto_configs(request: AnyRequest, users: UserService, userId: str) -> LogtoConfigs:
    return msgspec.convert(await users.logto_configs(tenant_of(request), userId), LogtoConfigs)


@patch(f"{USER}/logto-configs", operation_id="UpdateUserLogtoConfigs", tags=TAGS, summary="Update user logto config")
async def update_logto_configs(
    request: AnyRequest, users: UserService, userId: str, data: Annotated[LogtoConfigPatch, Body()]
) -> LogtoConfigs:
    config = await users.update_logto_configs(tenant_of(request), userId, data, actor_of(request))
    return msgspec.convert(config, LogtoConfigs)


ROUTES = [
    list_users, create_user, get_user, update_user, delete_user,
    get_custom_data, update_custom_data, update_profile,
    update_password, verify_password, has_password, update_password_expiration,
    update_is_suspended, get_logto_configs, update_logto_configs,
]  # fmt: skip
