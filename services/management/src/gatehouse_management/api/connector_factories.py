"""Connector factories routes (Logto's `routes/connector/factory.ts`): the factories Gatehouse ships."""

from litestar import get

from gatehouse_management.api.connector_bodies import ConnectorFactoryInfo
from gatehouse_management.services.connectors import ConnectorService

TAGS = ["Connector factories"]


@get("/api/connector-factories", operation_id="ListConnectorFactories", tags=TAGS, summary="Get connector factories")
async def list_factories(connectors: ConnectorService) -> list[ConnectorFactoryInfo]:
    return connectors.factory_list()


@get(
    "/api/connector-factories/{id:str}",
    operation_id="GetConnectorFactory",
    tags=TAGS,
    summary="Get connector factory",
)
async def get_factory(connectors: ConnectorService, id: str) -> ConnectorFactoryInfo:
    return connectors.factory(id)


ROUTES = [list_factories, get_factory]
