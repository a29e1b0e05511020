"""Routes of Logto's CIMD config (the Configs group): the tenant's OAuth Client ID Metadata Document switch.

Enabling is refused with 422 (see `services.cimd_config`): Gatehouse does not fetch client ID metadata
documents.
"""

from typing import Annotated, Any

import msgspec
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, get, patch
from litestar.params import Body
from msgspec import UNSET, UnsetType

from gatehouse_identity.services.cimd_config import CimdConfigService

TAGS = ["Configs"]
AnyRequest = Request[Any, Any, Any]
PATH = "/api/configs/cimd"


class CimdConfig(msgspec.Struct, kw_only=True):
    enabled: bool


class CimdConfigPatch(msgspec.Struct, kw_only=True):
    enabled: bool | UnsetType = UNSET


@get(PATH, operation_id="GetCimdConfig", tags=TAGS, summary="Get CIMD config")
async def get_cimd_config(request: AnyRequest, cimd_config: CimdConfigService) -> CimdConfig:
    return msgspec.convert(await cimd_config.get(tenant_of(request)), CimdConfig)


@patch(PATH, operation_id="UpdateCimdConfig", tags=TAGS, summary="Update CIMD config")
async def update_cimd_config(
    request: AnyRequest, cimd_config: CimdConfigService, data: Annotated[CimdConfigPatch, Body()]
) -> CimdConfig:
    changes = msgspec.to_builtins(data)  # UNSET fields are left out
    return msgspec.convert(await cimd_config.update(tenant_of(request), changes), CimdConfig)


ROUTES = [get_cimd_config, update_cimd_config]
