"""Routes of the Configs group for token claims: JWT customizers (`/api/configs/jwt-customizer*`) and
the ID token's extended claims (`/api/configs/id-token`). Customizers are the declarative subset of
`domain.token_claims`: a non-empty `script` is refused with 400 `jwt_customizer.script_not_supported`.
"""

from typing import Annotated, Any, Literal

import msgspec
from gatehouse_platform.actors import actor_of
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, Response, delete, get, patch, post, put
from litestar.openapi import ResponseSpec
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET, UnsetType

from gatehouse_identity.domain.token_claims import CONFIG_KEYS, ID_TOKEN_KEY, preview_customizer
from gatehouse_identity.oidc.token_configs import TokenConfigs

TAGS = ["Configs"]
AnyRequest = Request[Any, Any, Any]
CUSTOMIZER = "/api/configs/jwt-customizer/{tokenTypePath:str}"
TokenType = Literal["access-token", "client-credentials"]
ExtendedClaim = Literal[
    "custom_data", "identities", "sso_identities", "roles", "organizations", "organization_data", "organization_roles"
]


class JwtCustomizerBody(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """PUT replaces, PATCH merges; absent fields stay absent (`UNSET`)."""

    script: str | UnsetType = UNSET
    environment_variables: dict[str, str] | UnsetType = UNSET
    context_sample: dict[str, Any] | UnsetType = UNSET
    token_sample: dict[str, Any] | UnsetType = UNSET
    block_issuance_on_error: bool | UnsetType = UNSET


class JwtCustomizer(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    script: str
    environment_variables: dict[str, str] | UnsetType = UNSET
    context_sample: dict[str, Any] | UnsetType = UNSET
    token_sample: dict[str, Any] | UnsetType = UNSET
    block_issuance_on_error: bool | UnsetType = UNSET


class JwtCustomizerTest(msgspec.Struct, kw_only=True, rename="camel"):
    token_type: TokenType
    token: dict[str, Any]
    context: dict[str, Any]
    script: str = ""
    environment_variables: dict[str, str] = msgspec.field(default_factory=dict)


class IdTokenConfig(msgspec.Struct, kw_only=True, rename="camel"):
    enabled_extended_claims: list[ExtendedClaim] = msgspec.field(default_factory=list)


def _stored(body: JwtCustomizerBody) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(body)
    return out


def _render(value: dict[str, Any]) -> JwtCustomizer:
    return msgspec.convert(value, JwtCustomizer)


@get("/api/configs/jwt-customizer", operation_id="ListJwtCustomizers", tags=TAGS, summary="List JWT customizers")
async def list_customizers(request: AnyRequest, token_configs: TokenConfigs) -> list[JwtCustomizer]:
    return [_render(v) for v in await token_configs.list_customizers(tenant_of(request))]


@put(
    CUSTOMIZER,
    operation_id="UpsertJwtCustomizer",
    tags=TAGS,
    summary="Create or update JWT customizer",
    responses={HTTP_201_CREATED: ResponseSpec(data_container=JwtCustomizer, description="The created JWT customizer.")},
)
async def upsert_customizer(
    request: AnyRequest,
    token_configs: TokenConfigs,
    tokenTypePath: TokenType,
    data: Annotated[JwtCustomizerBody, Body()],
) -> Response[JwtCustomizer]:
    stored, created = await token_configs.put_customizer(
        tenant_of(request), tokenTypePath, _stored(data), actor_of(request)
    )
    return Response(_render(stored), status_code=HTTP_201_CREATED if created else HTTP_200_OK)


@patch(CUSTOMIZER, operation_id="UpdateJwtCustomizer", tags=TAGS, summary="Update JWT customizer")
async def update_customizer(
    request: AnyRequest,
    token_configs: TokenConfigs,
    tokenTypePath: TokenType,
    data: Annotated[JwtCustomizerBody, Body()],
) -> JwtCustomizer:
    stored = await token_configs.patch_customizer(tenant_of(request), tokenTypePath, _stored(data), actor_of(request))
    return _render(stored)


@get(CUSTOMIZER, operation_id="GetJwtCustomizer", tags=TAGS, summary="Get JWT customizer")
async def get_customizer(request: AnyRequest, token_configs: TokenConfigs, tokenTypePath: TokenType) -> JwtCustomizer:
    return _render(await token_configs.get(tenant_of(request), CONFIG_KEYS[tokenTypePath]))


@delete(
    CUSTOMIZER,
    operation_id="DeleteJwtCustomizer",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete JWT customizer",
)
async def delete_customizer(request: AnyRequest, token_configs: TokenConfigs, tokenTypePath: TokenType) -> None:
    await token_configs.delete(tenant_of(request), CONFIG_KEYS[tokenTypePath], actor_of(request))


@post(
    "/api/configs/jwt-customizer/test",
    operation_id="TestJwtCustomizer",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Test JWT customizer",
)
async def test_customizer(data: Annotated[JwtCustomizerTest, Body()]) -> dict[str, Any]:
    """The sample token with the declared claims added from the sample context (no script runs)."""
    return preview_customizer(data.token_type, data.script, data.environment_variables, data.token, data.context)


@get("/api/configs/id-token", operation_id="GetIdTokenConfig", tags=TAGS, summary="Get ID token claims config")
async def get_id_token_config(request: AnyRequest, token_configs: TokenConfigs) -> IdTokenConfig:
    return msgspec.convert(await token_configs.get(tenant_of(request), ID_TOKEN_KEY), IdTokenConfig)


@put(
    "/api/configs/id-token",
    operation_id="UpsertIdTokenConfig",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Create or update ID token claims config",
)
async def upsert_id_token_config(
    request: AnyRequest, token_configs: TokenConfigs, data: Annotated[IdTokenConfig, Body()]
) -> IdTokenConfig:
    stored = await token_configs.put_id_token(tenant_of(request), list(data.enabled_extended_claims), actor_of(request))
    return msgspec.convert(stored, IdTokenConfig)


ROUTES = [
    list_customizers,
    upsert_customizer,
    update_customizer,
    get_customizer,
    delete_customizer,
    test_customizer,
    get_id_token_config,
    upsert_id_token_config,
]
