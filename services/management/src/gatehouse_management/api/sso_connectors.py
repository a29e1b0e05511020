"""SSO connectors and SSO connector providers routes (Logto's `routes/sso-connector/index.ts` and
`signing-key.ts`). Not served: the IdP-initiated auth config routes (a Logto dev feature, not in the contract)."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.pagination import parse_page
from gatehouse_platform.query import paged
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, Response, delete, get, patch, post
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_management.api.sso_connector_bodies import (
    NewSigningKey,
    NewSsoConnector,
    SigningKey,
    SsoConnector,
    SsoConnectorProvider,
    SsoConnectorWithProviderConfig,
    UpdateSigningKey,
    UpdateSsoConnector,
)
from gatehouse_management.services.sso_connectors import SsoConnectorService
from gatehouse_management.services.sso_signing_keys import SamlSigningKeyService

TAGS = ["SSO connectors"]
AnyRequest = Request[Any, Any, Any]
PATH = "/api/sso-connectors"
KEYS = f"{PATH}/{{id:str}}/signing-keys"


@get(
    "/api/sso-connector-providers",
    operation_id="ListSsoConnectorProviders",
    tags=["SSO connector providers"],
    summary="List all the supported SSO connector provider details",
)
async def list_providers(sso_connectors: SsoConnectorService) -> list[SsoConnectorProvider]:
    return sso_connectors.providers()


@post(PATH, operation_id="CreateSsoConnector", tags=TAGS, status_code=HTTP_200_OK, summary="Create SSO connector")
async def create_sso_connector(
    request: AnyRequest, sso_connectors: SsoConnectorService, data: Annotated[NewSsoConnector, Body()]
) -> SsoConnector:
    return await sso_connectors.create(tenant_of(request), data, actor_of(request))


@get(PATH, operation_id="ListSsoConnectors", tags=TAGS, summary="List SSO connectors")
async def list_sso_connectors(
    request: AnyRequest, sso_connectors: SsoConnectorService, page: str | None = None, page_size: str | None = None
) -> Response[list[SsoConnectorWithProviderConfig]]:
    paging = parse_page(page, page_size, optional=True)
    total, items = await sso_connectors.page(tenant_of(request), paging)
    return paged(items, total, paging)


@get(f"{PATH}/{{id:str}}", operation_id="GetSsoConnector", tags=TAGS, summary="Get SSO connector")
async def get_sso_connector(
    request: AnyRequest, sso_connectors: SsoConnectorService, id: str
) -> SsoConnectorWithProviderConfig:
    return await sso_connectors.get(tenant_of(request), id)


@patch(f"{PATH}/{{id:str}}", operation_id="UpdateSsoConnector", tags=TAGS, summary="Update SSO connector")
async def update_sso_connector(
    request: AnyRequest, sso_connectors: SsoConnectorService, id: str, data: Annotated[UpdateSsoConnector, Body()]
) -> SsoConnectorWithProviderConfig:
    return await sso_connectors.update(tenant_of(request), id, data, actor_of(request))


@delete(
    f"{PATH}/{{id:str}}",
    operation_id="DeleteSsoConnector",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete SSO connector",
)
async def delete_sso_connector(request: AnyRequest, sso_connectors: SsoConnectorService, id: str) -> None:
    await sso_connectors.delete(tenant_of(request), id, actor_of(request))


@get(KEYS, operation_id="ListSsoConnectorSigningKeys", tags=TAGS, summary="List SP signing keys")
async def list_signing_keys(request: AnyRequest, saml_signing_keys: SamlSigningKeyService, id: str) -> list[SigningKey]:
    return await saml_signing_keys.all(tenant_of(request), id)


@post(
    KEYS,
    operation_id="CreateSsoConnectorSigningKey",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Create an SP signing key",
)
async def create_signing_key(
    request: AnyRequest,
    saml_signing_keys: SamlSigningKeyService,
    id: str,
    data: Annotated[NewSigningKey | None, Body()] = None,
) -> SigningKey:
    """A body-less request creates an inactive key, as Logto's body parser reads it as `{}`."""
    return await saml_signing_keys.create(tenant_of(request), id, data is not None and data.active)


@patch(
    f"{KEYS}/{{keyId:str}}",
    operation_id="UpdateSsoConnectorSigningKey",
    tags=TAGS,
    summary="Activate or deactivate an SP signing key",
)
async def update_signing_key(
    request: AnyRequest,
    saml_signing_keys: SamlSigningKeyService,
    id: str,
    keyId: str,
    data: Annotated[UpdateSigningKey, Body()],
) -> SigningKey:
    return await saml_signing_keys.set_active(tenant_of(request), id, keyId, data.active)


@delete(
    f"{KEYS}/{{keyId:str}}",
    operation_id="DeleteSsoConnectorSigningKey",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete an SP signing key",
)
async def delete_signing_key(
    request: AnyRequest,
    saml_signing_keys: SamlSigningKeyService,
    id: str,
    keyId: str,
) -> None:
    await saml_signing_keys.delete(tenant_of(request), id, keyId)


ROUTES = [
    list_providers,
    create_sso_connector,
    list_sso_connectors,
    get_sso_connector,
    update_sso_connector,
    delete_sso_connector,
    list_signing_keys,
    create_signing_key,
    update_signing_key,
    delete_signing_key,
]
