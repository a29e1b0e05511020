"""Users' social and enterprise SSO identities (Users group): linking through a social connector's round
trip, direct replacement, unlinking, and reading them with their token sets' metadata (`includeTokenSecret`, for
social identities and for enterprise SSO identities whose OIDC connector stores tokens)."""

from dataclasses import fields
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from gatehouse_platform.actors import actor_of
from gatehouse_platform.query import truthy
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.users import User
from litestar import Request, Response, delete, get, post, put
from litestar.openapi import ResponseSpec
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from msgspec import UNSET, UnsetType

from gatehouse_identity.persistence.secrets import SocialTokenSetSecret, SsoTokenSetSecret, TokenSetSecret
from gatehouse_identity.persistence.user_identities import SsoIdentity
from gatehouse_identity.services.social_links import SocialLinkService
from gatehouse_identity.services.sso_identities import SsoIdentityService
from gatehouse_identity.services.user_identities import UserIdentityService

TAGS = ["Users"]
AnyRequest = Request[Any, Any, Any]
IDENTITY = "/api/users/{userId:str}/identities/{target:str}"
TokenSecretFlag = Annotated[str | None, Parameter(query="includeTokenSecret")]


class IdentityBody(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    user_id: str
    details: dict[str, Any] | UnsetType = UNSET


class LinkBody(msgspec.Struct, kw_only=True, rename="camel"):
    connector_id: str
    connector_data: dict[str, Any]


class _SecretOut(msgspec.Struct, kw_only=True, rename="camel"):
    """Logto's desensitized token set secret: what is stored, never the tokens; each kind adds its relation."""

    tenant_id: str
    id: str
    user_id: str
    type: str
    metadata: dict[str, Any]
    created_at: int
    updated_at: int


class TokenSecretOut(_SecretOut, kw_only=True, rename="camel"):
    """Logto's desensitized social token set secret."""

    connector_id: str
    identity_id: str
    target: str


class SsoTokenSecretOut(_SecretOut, kw_only=True, rename="camel"):
    """Logto's desensitized enterprise SSO token set secret."""

    sso_connector_id: str
    issuer: str
    identity_id: str


class UserIdentity(msgspec.Struct, rename="camel", omit_defaults=True):
    identity: dict[str, Any]
    token_secret: TokenSecretOut | None = None


class SocialIdentity(msgspec.Struct, rename="camel", omit_defaults=True):
    identity: dict[str, Any]
    target: str
    token_secret: TokenSecretOut | None = None


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


class UserSsoIdentity(msgspec.Struct, rename="camel", omit_defaults=True):
    sso_identity: SsoIdentityOut
    token_secret: SsoTokenSecretOut | None = None


class SsoIdentityEntry(msgspec.Struct, rename="camel", omit_defaults=True):
    sso_identity: SsoIdentityOut
    sso_connector_id: str
    token_secret: SsoTokenSecretOut | None = None


class AllIdentities(msgspec.Struct, rename="camel"):
    social_identities: list[SocialIdentity]
    sso_identities: list[SsoIdentityEntry]


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


Out = TypeVar("Out", bound=_SecretOut)


def token_secret_out(secret: TokenSetSecret | None, out: type[Out]) -> Out | None:
    """The desensitized secret as `out` (the kind's): its fields, with the times in epoch milliseconds."""
    if secret is None:
        return None
    values = {f.name: getattr(secret, f.name) for f in fields(secret)}
    return out(**values | {"created_at": _ms(secret.created_at), "updated_at": _ms(secret.updated_at)})


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


@post(
    "/api/users/{userId:str}/identities",
    operation_id="CreateUserIdentity",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Link social identity to user",
)
async def link_identity(
    request: AnyRequest, social_links: SocialLinkService, userId: str, data: Annotated[LinkBody, Body()]
) -> dict[str, Any]:
    """The connector's provider round trip for `connectorData` (its `code`, `state`, `redirectUri`), then the
    identity under the connector's target; the token set too when the connector stores them."""
    return await social_links.link(
        tenant_of(request), userId, data.connector_id, data.connector_data, actor_of(request)
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
    social_links: SocialLinkService,
    include_token_secret: TokenSecretFlag = None,
) -> UserIdentity:
    tenant_id = tenant_of(request)
    identity = await user_identities.social_identity(tenant_id, userId, target)
    if not truthy(include_token_secret):
        return UserIdentity(identity)
    secrets = await social_links.token_secrets(tenant_id, userId, target)
    return UserIdentity(identity, token_secret_out(secrets.get(target), TokenSecretOut))


@get(
    "/api/users/{userId:str}/all-identities",
    operation_id="ListUserAllIdentities",
    tags=TAGS,
    summary="Retrieve social and enterprise SSO identities of a user",
)
async def all_identities(
    request: AnyRequest,
    user_identities: UserIdentityService,
    social_links: SocialLinkService,
    sso_identities: SsoIdentityService,
    userId: str,
    include_token_secret: TokenSecretFlag = None,
) -> AllIdentities:
    """With `includeTokenSecret`, each identity's token set (Logto matches an SSO identity's by its connector)."""
    tenant_id = tenant_of(request)
    social, sso = await user_identities.all_identities(tenant_id, userId)
    secrets: dict[str, SocialTokenSetSecret] = {}
    sso_secrets: dict[str, SsoTokenSetSecret] = {}
    if truthy(include_token_secret):
        secrets = await social_links.token_secrets(tenant_id, userId)
        sso_secrets = await sso_identities.token_secrets(tenant_id, userId)
    return AllIdentities(
        social_identities=[
            SocialIdentity(identity, target, token_secret_out(secrets.get(target), TokenSecretOut))
            for target, identity in social.items()
        ],
        sso_identities=[
            SsoIdentityEntry(
                sso_identity_out(i),
                i.sso_connector_id,
                token_secret_out(sso_secrets.get(i.sso_connector_id), SsoTokenSecretOut),
            )
            for i in sso
        ],
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
    sso_identities: SsoIdentityService,
    userId: str,
    ssoConnectorId: str,
    include_token_secret: TokenSecretFlag = None,
) -> UserSsoIdentity:
    """With `includeTokenSecret`, the token set kept through the connector, if any."""
    tenant_id = tenant_of(request)
    identity = await user_identities.sso_identity(tenant_id, userId, ssoConnectorId)
    if not truthy(include_token_secret):
        return UserSsoIdentity(sso_identity_out(identity))
    secrets = await sso_identities.token_secrets(tenant_id, userId, ssoConnectorId)
    return UserSsoIdentity(sso_identity_out(identity), token_secret_out(secrets.get(ssoConnectorId), SsoTokenSecretOut))


ROUTES = [link_identity, replace_identity, delete_identity, get_identity, all_identities, get_sso_identity]
