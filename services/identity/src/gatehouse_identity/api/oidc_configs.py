"""Routes of Logto's OIDC configs (the Configs group): signing and cookie keys, session TTL.

Responses never carry key material: private keys show as id, creation time, key type and status;
cookie keys as id and creation time, as Logto's `GET /api/configs/oidc/{keyType}` does.
"""

from typing import Annotated, Any, Literal

import msgspec
from gatehouse_platform.actors import actor_of
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, delete, get, patch, post
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT
from msgspec import UNSET, Meta, UnsetType

from gatehouse_identity.keys.rotation import CookieKeyState, KeyState, epoch_ms, epoch_s, key_family
from gatehouse_identity.keys.rotation import KeyStatus as Status
from gatehouse_identity.keys.service import KeyType, OidcKeyService
from gatehouse_identity.keys.session_config import OidcSessionConfig

TAGS = ["Configs"]
AnyRequest = Request[Any, Any, Any]
KEYS = "/api/configs/oidc/{keyType:str}"
ONE_YEAR = 365 * 24 * 60 * 60


class OidcKey(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """Logto's redacted key: `createdAt` in seconds, `effectiveAt` (a pending `Next` key's) in milliseconds."""

    id: str
    created_at: int
    signing_key_algorithm: Literal["RSA", "EC"] | UnsetType = UNSET
    status: Literal["Next", "Current", "Previous"] | UnsetType = UNSET
    effective_at: int | UnsetType = UNSET


class RotateKeys(msgspec.Struct, kw_only=True, rename="camel"):
    """`signingKeyAlgorithm` applies to private keys only; `rotationGracePeriod` is in seconds."""

    signing_key_algorithm: Literal["RSA", "EC"] = "EC"
    rotation_grace_period: Annotated[float, Meta(ge=0, le=ONE_YEAR)] = 0


class SessionConfig(msgspec.Struct, kw_only=True):
    ttl: int


class SessionConfigPatch(msgspec.Struct, kw_only=True):
    ttl: Annotated[int, Meta(ge=1, le=ONE_YEAR)] | UnsetType = UNSET


def render_private(key: KeyState) -> OidcKey:
    return OidcKey(
        id=key.id,
        created_at=epoch_s(key.created_at),
        signing_key_algorithm="EC" if key_family(key.algorithm) == "EC" else "RSA",
        status=key.status.value,
        effective_at=epoch_ms(key.effective_at) if key.status is Status.NEXT else UNSET,
    )


def render_cookie(key: CookieKeyState) -> OidcKey:
    return OidcKey(id=key.id, created_at=epoch_s(key.created_at))


@get(
    "/api/configs/oidc/session",
    operation_id="GetOidcSessionConfig",
    tags=TAGS,
    summary="Get OIDC session config",
)
async def get_session_config(request: AnyRequest, session_config: OidcSessionConfig) -> SessionConfig:
    return msgspec.convert(await session_config.get(tenant_of(request)), SessionConfig)


@patch(
    "/api/configs/oidc/session",
    operation_id="UpdateOidcSessionConfig",
    tags=TAGS,
    summary="Update OIDC session config",
)
async def update_session_config(
    request: AnyRequest, session_config: OidcSessionConfig, data: Annotated[SessionConfigPatch, Body()]
) -> SessionConfig:
    changes = msgspec.to_builtins(data)  # UNSET fields are left out
    return msgspec.convert(await session_config.update(tenant_of(request), changes), SessionConfig)


@get(KEYS, operation_id="GetOidcKeys", tags=TAGS, summary="Get OIDC keys")
async def get_keys(request: AnyRequest, oidc_keys: OidcKeyService, keyType: KeyType) -> list[OidcKey]:
    tenant_id = tenant_of(request)
    if keyType is KeyType.PRIVATE_KEYS:
        return [render_private(k) for k in await oidc_keys.private_keys(tenant_id)]
    return [render_cookie(k) for k in await oidc_keys.cookie_keys(tenant_id)]


@post(f"{KEYS}/rotate", operation_id="RotateOidcKeys", tags=TAGS, status_code=HTTP_200_OK, summary="Rotate OIDC keys")
async def rotate_keys(
    request: AnyRequest, oidc_keys: OidcKeyService, keyType: KeyType, data: Annotated[RotateKeys, Body()]
) -> list[OidcKey]:
    tenant_id, actor = tenant_of(request), actor_of(request)
    if keyType is KeyType.PRIVATE_KEYS:
        keys = await oidc_keys.rotate_private_key(
            tenant_id, data.signing_key_algorithm, data.rotation_grace_period, actor
        )
        return [render_private(k) for k in keys]
    return [render_cookie(k) for k in await oidc_keys.rotate_cookie_key(tenant_id, actor)]


@delete(
    f"{KEYS}/{{keyId:str}}",
    operation_id="DeleteOidcKey",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete OIDC key",
)
async def delete_key(request: AnyRequest, oidc_keys: OidcKeyService, keyType: KeyType, keyId: str) -> None:
    tenant_id, actor = tenant_of(request), actor_of(request)
    if keyType is KeyType.PRIVATE_KEYS:
        await oidc_keys.delete_private_key(tenant_id, keyId, actor)
    else:
        await oidc_keys.delete_cookie_key(tenant_id, keyId, actor)


ROUTES = [get_session_config, update_session_config, get_keys, rotate_keys, delete_key]
