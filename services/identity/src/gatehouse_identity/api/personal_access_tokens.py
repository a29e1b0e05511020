"""A user's personal access tokens (Users group), with Logto's body-based and legacy path-based
rename and delete routes. Logto returns the token value in every response; so does Gatehouse."""

from datetime import datetime
from typing import Annotated, Any

import msgspec
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, delete, get, patch, post
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET, Meta, UnsetType

from gatehouse_identity.persistence.personal_access_tokens import PersonalAccessToken
from gatehouse_identity.services.personal_access_tokens import PersonalAccessTokenService

TAGS = ["Users"]
AnyRequest = Request[Any, Any, Any]
PATS = "/api/users/{userId:str}/personal-access-tokens"
TokenName = Annotated[str, Meta(min_length=1, max_length=256)]


class PersonalAccessTokenOut(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    user_id: str
    name: str
    value: str
    created_at: int
    expires_at: int | None


class CreatePersonalAccessToken(msgspec.Struct, kw_only=True, rename="camel"):
    name: TokenName
    expires_at: float | UnsetType | None = UNSET


class RenamePersonalAccessToken(msgspec.Struct, kw_only=True, rename="camel"):
    name: TokenName
    current_name: str | UnsetType = UNSET


class NewTokenName(msgspec.Struct, rename="camel"):
    name: TokenName


class TokenNameBody(msgspec.Struct, rename="camel"):
    name: str


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _out(token: PersonalAccessToken) -> PersonalAccessTokenOut:
    return PersonalAccessTokenOut(
        tenant_id=token.tenant_id,
        user_id=token.user_id,
        name=token.name,
        value=token.value,
        created_at=_ms(token.created_at),
        expires_at=None if token.expires_at is None else _ms(token.expires_at),
    )


@get(PATS, operation_id="ListUserPersonalAccessTokens", tags=TAGS, summary="Get personal access tokens")
async def list_tokens(
    request: AnyRequest, personal_access_tokens: PersonalAccessTokenService, userId: str
) -> list[PersonalAccessTokenOut]:
    return [_out(t) for t in await personal_access_tokens.of_user(tenant_of(request), userId)]


@post(
    PATS,
    operation_id="CreateUserPersonalAccessToken",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Add personal access token",
)
async def create_token(
    request: AnyRequest,
    personal_access_tokens: PersonalAccessTokenService,
    userId: str,
    data: Annotated[CreatePersonalAccessToken, Body()],
) -> PersonalAccessTokenOut:
    expires_at = None if data.expires_at is UNSET else data.expires_at
    return _out(await personal_access_tokens.create(tenant_of(request), userId, data.name, expires_at))


@patch(PATS, operation_id="UpdatePersonalAccessTokenName", tags=TAGS, summary="Update personal access token")
async def rename_token(
    request: AnyRequest,
    personal_access_tokens: PersonalAccessTokenService,
    userId: str,
    data: Annotated[RenamePersonalAccessToken, Body()],
) -> PersonalAccessTokenOut:
    """Without `currentName` the token named `name` is "renamed" in place (Logto's compatibility rule)."""
    current = data.name if data.current_name is UNSET else data.current_name
    return _out(await personal_access_tokens.rename(tenant_of(request), userId, current, data.name))


@post(
    f"{PATS}/delete",
    operation_id="DeletePersonalAccessTokenPost",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete personal access token",
)
async def delete_token_by_body(
    request: AnyRequest,
    personal_access_tokens: PersonalAccessTokenService,
    userId: str,
    data: Annotated[TokenNameBody, Body()],
) -> None:
    await personal_access_tokens.delete(tenant_of(request), userId, data.name)


@patch(
    f"{PATS}/{{name:str}}",
    operation_id="UpdateUserPersonalAccessToken",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Update personal access token",
)
async def rename_token_by_path(
    request: AnyRequest,
    personal_access_tokens: PersonalAccessTokenService,
    userId: str,
    name: str,
    data: Annotated[NewTokenName, Body()],
) -> PersonalAccessTokenOut:
    return _out(await personal_access_tokens.rename(tenant_of(request), userId, name, data.name))


@delete(
    f"{PATS}/{{name:str}}",
    operation_id="DeleteUserPersonalAccessToken",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete personal access token",
)
async def delete_token_by_path(
    request: AnyRequest, personal_access_tokens: PersonalAccessTokenService, userId: str, name: str
) -> None:
    await personal_access_tokens.delete(tenant_of(request), userId, name)


ROUTES = [list_tokens, create_token, rename_token, delete_token_by_body, rename_token_by_path, delete_token_by_path]
