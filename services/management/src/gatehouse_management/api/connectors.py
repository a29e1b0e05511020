"""Connectors routes (Logto's `routes/connector/index.ts`, `authorization-uri.ts` and `config-testing.ts`)."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, delete, get, patch, post
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from gatehouse_management.api.connector_bodies import (
    AuthorizationUri,
    AuthorizationUriRequest,
    Connector,
    ConnectorTestRequest,
    NewConnector,
    UpdateConnector,
)
from gatehouse_management.services.connectors import ConnectorService

TAGS = ["Connectors"]
AnyRequest = Request[Any, Any, Any]
PATH = "/api/connectors"


@post(PATH, operation_id="CreateConnector", tags=TAGS, status_code=HTTP_200_OK, summary="Create connector")
async def create_connector(
    request: AnyRequest, connectors: ConnectorService, data: Annotated[NewConnector, Body()]
) -> Connector:
    return await connectors.create(tenant_of(request), data, actor_of(request))


@get(PATH, operation_id="ListConnectors", tags=TAGS, summary="Get connectors")
async def list_connectors(
    request: AnyRequest,
    connectors: ConnectorService,
    target: Annotated[
        str | None, Parameter(query="target", required=False, description="Filter connectors by target.")
    ] = None,
) -> list[Connector]:
    return await connectors.all(tenant_of(request), target)


@get(f"{PATH}/{{id:str}}", operation_id="GetConnector", tags=TAGS, summary="Get connector")
async def get_connector(request: AnyRequest, connectors: ConnectorService, id: str) -> Connector:
    return await connectors.get(tenant_of(request), id)


@patch(f"{PATH}/{{id:str}}", operation_id="UpdateConnector", tags=TAGS, summary="Update connector")
async def update_connector(
    request: AnyRequest, connectors: ConnectorService, id: str, data: Annotated[UpdateConnector, Body()]
) -> Connector:
    return await connectors.update(tenant_of(request), id, data, actor_of(request))


@delete(
    f"{PATH}/{{id:str}}",
    operation_id="DeleteConnector",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete connector",
)
async def delete_connector(request: AnyRequest, connectors: ConnectorService, id: str) -> None:
    await connectors.delete(tenant_of(request), id, actor_of(request))


@post(
    f"{PATH}/{{connectorId:str}}/authorization-uri",
    operation_id="CreateConnectorAuthorizationUri",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Get connector's authorization URI",
)
async def create_authorization_uri(
    request: AnyRequest, connectors: ConnectorService, connectorId: str, data: AuthorizationUriRequest
) -> AuthorizationUri:
    url = await connectors.authorization_uri(tenant_of(request), connectorId, data.state, data.redirect_uri)
    return AuthorizationUri(redirect_to=url)


@post(
    f"{PATH}/{{factoryId:str}}/test",
    operation_id="CreateConnectorTest",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Test passwordless connector",
    description="Test a passwordless (email or SMS) connector by sending a test message to the given phone number "
    "or email address.",
)
async def create_connector_test(
    connectors: ConnectorService, factoryId: str, data: Annotated[ConnectorTestRequest, Body()]
) -> None:
    await connectors.send_test(factoryId, data)


ROUTES = [
    create_connector,
    list_connectors,
    get_connector,
    update_connector,
    delete_connector,
    create_authorization_uri,
    create_connector_test,
]
