"""Users' social and enterprise SSO identities (Users group). `POST /api/users/{userId}/identities`
(link through a social connector's authorization round trip) is not served: Gatehouse runs no
social connectors. `includeTokenSecret` is accepted; no token set is ever returned, because token
sets are stored only by connectors with token storage, which Gatehouse does not run either."""

from datetime import datetime
from typing import Annotated, Any

import msgspec
from gatehouse_platform.actors import actor_of
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.users import User
from litestar import Request, Response, delete, get, put
from litestar.openapi import ResponseSpec
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from msgspec import UNSET, UnsetType

from gatehouse_identity.persistence.user_identities import SsoIdentity
from gatehouse_identity.services.user_identities import UserIdentityService

TAGS = ["Users"]
AnyRequest = Request[Any, Any, Any]
IDENTITY = "/api/users/{userId:str}/identities/{target:str}"
TokenSecretFlag = Annotated[str | None, Parameter(query="includeTokenSecret")]


class IdentityBody(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    user_id: str
    details: dict[str, Any] | UnsetType = UNSET


class UserIdentity(msgspec.Struct, rename="camel"):
    identity: dict[str, Any]


class SocialIdentity(msgspec.Struct, rename="camel"):
    identity: dict[str, Any]
    target: str


class SsoIdentityOut(msgspec.Struct, kw_only=True, rename="camel"):
    tenant_id: str
    id: str
    user_id: str
    issuer: str
    identity_id: str
    detail: dict[str, Any]
    created_at: int
    updated_at: int
    sso_connector_id: str


class UserSsoIdentity(msgspec.Struct, rename="camel"):
    sso_identity: SsoIdentityOut


class SsoIdentityEntry(msgspec.Struct, rename="camel"):
    sso_identity: SsoIdentityOut
    sso_connector_id: str


class AllIdentities(msgspec.Struct, rename="camel"):
    social_identities: list[SocialIdentity]
    sso_identities: list[SsoIdentityEntry]


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def sso_identity_out(identity: SsoIdentity) -> SsoIdentityOut:
    return SsoIdentityOut(
        tenant_id=identity.tenant_id,
        id=identity.id,
        user_id=identity.user_id,
        issuer=identity.issuer,
        identity_id=identity.identity_id,
        detail=identity.detail,
        created_at=_ms(identity.created_at),
        updated_at=_ms(identity.updated_at),
        sso_connector_id=identity.sso_connector_id,
    )


@put(
    IDENTITY,
    operation_id="ReplaceUserIdentity",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Update social identity of user",
    responses={HTTP_201_CREATED: ResponseSpec(data_container=dict[str, Any], description="The identity is created.")},
)
async def replace_identity(
    request: AnyRequest,
    user_identities: UserIdentityService,
    userId: str,
    target: str,
    data: Annotated[IdentityBody, Body()],
) -> Response[dict[str, Any]]:
    identity = msgspec.to_builtins(data)
    created, identities = await user_identities.link(tenant_of(request), userId, target, identity, actor_of(request))
    return Response(identities, status_code=HTTP_201_CREATED if created else HTTP_200_OK)


@delete(
    IDENTITY,
    operation_id="DeleteUserIdentity",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Delete social identity from user",
)
async def delete_identity(request: AnyRequest, user_identities: UserIdentityService, userId: str, target: str) -> User:
    return await user_identities.unlink(tenant_of(request), userId, target, actor_of(request))


@get(IDENTITY, operation_id="GetUserIdentity", tags=TAGS, summary="Retrieve a user's social identity")
async def get_identity(
    request: AnyRequest,
    user_identities: UserIdentityService,
    userId: str,
    target: str,
    include_token_secret: TokenSecretFlag = None,
) -> UserIdentity:
    return UserIdentity(await user_identities.social_identity(tenant_of(request), userId, target))


@get(
    "/api/users/{userId:str}/all-identities",
    operation_id="ListUserAllIdentities",
    tags=TAGS,
    summary="Retrieve social and enterprise SSO identities of a user",
)
async def all_identities(
    request: AnyRequest, user_identities: UserIdentityService, userId: str, include_token_secret: TokenSecretFlag = None
) -> AllIdentities:
    social, sso = await user_identities.all_identities(tenant_of(request), userId)
    return AllIdentities(
        social_identities=[SocialIdentity(identity, target) for target, identity in social.items()],
        sso_identities=[SsoIdentityEntry(sso_identity_out(i), i.sso_connector_id) for i in sso],
    )


@get(
    "/api/users/{userId:str}/sso-identities/{ssoConnectorId:str}",
    operation_id="GetUserSsoIdentity",
    tags=TAGS,
    summary="Retrieve a user's enterprise SSO identity",
)
async def get_sso_identity(
    request: AnyRequest,
    user_identities: UserIdentityService,
    userId: str,
    ssoConnectorId: str,
    include_token_secret: TokenSecretFlag = None,
) -> UserSsoIdentity:
    identity = await user_identities.sso_identity(tenant_of(request), userId, ssoConnectorId)
    return UserSsoIdentity(sso_identity_out(identity))


ROUTES = [replace_identity, delete_identity, get_identity, all_identities, get_sso_identity]
