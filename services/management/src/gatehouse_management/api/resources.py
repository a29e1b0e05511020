"""Routes of the Resources group (operation ids are Logto's)."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.pagination import parse_page
from gatehouse_platform.query import bool_param, paged, search_term
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.resources import Resource, ResourceWithScopes, Scope
from litestar import Request, Response, delete, get, patch, post
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_management.api.resource_bodies import (
    CreateResource,
    CreateScope,
    UpdateResource,
    UpdateResourceIsDefault,
    UpdateScope,
)
from gatehouse_management.services.resources import ResourceService

TAGS = ["Resources"]
AnyRequest = Request[Any, Any, Any]


@get("/api/resources", operation_id="ListResources", tags=TAGS, summary="Get API resources")
async def list_resources(
    request: AnyRequest,
    resources: ResourceService,
    include_scopes: Annotated[str | None, Parameter(query="includeScopes")] = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[ResourceWithScopes] | list[Resource]]:
    paging = parse_page(page, page_size, optional=True)
    with_scopes = bool_param(include_scopes, "includeScopes") or False
    total, items = await resources.search(tenant_of(request), paging, with_scopes)
    return paged(items, total, paging)


@post(
    "/api/resources",
    operation_id="CreateResource",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Create an API resource",
)
async def create_resource(
    request: AnyRequest, resources: ResourceService, data: Annotated[CreateResource, Body()]
) -> ResourceWithScopes:
    return await resources.create(tenant_of(request), data, actor_of(request))


@get("/api/resources/{id:str}", operation_id="GetResource", tags=TAGS, summary="Get API resource")
async def get_resource(request: AnyRequest, resources: ResourceService, id: str) -> Resource:
    return await resources.get(tenant_of(request), id)


@patch("/api/resources/{id:str}", operation_id="UpdateResource", tags=TAGS, summary="Update API resource")
async def update_resource(
    request: AnyRequest, resources: ResourceService, id: str, data: Annotated[UpdateResource, Body()]
) -> Resource:
    return await resources.update(tenant_of(request), id, data, actor_of(request))


@patch(
    "/api/resources/{id:str}/is-default",
    operation_id="UpdateResourceIsDefault",
    tags=TAGS,
    summary="Set API resource as default",
)
async def update_resource_is_default(
    request: AnyRequest, resources: ResourceService, id: str, data: Annotated[UpdateResourceIsDefault, Body()]
) -> Resource:
    return await resources.set_default(tenant_of(request), id, data.is_default, actor_of(request))


@delete(
    "/api/resources/{id:str}",
    operation_id="DeleteResource",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete API resource",
)
async def delete_resource(request: AnyRequest, resources: ResourceService, id: str) -> None:
    await resources.delete(tenant_of(request), id, actor_of(request))


@get(
    "/api/resources/{resourceId:str}/scopes",
    operation_id="ListResourceScopes",
    tags=TAGS,
    summary="Get API resource scopes",
)
async def list_resource_scopes(
    request: AnyRequest,
    resources: ResourceService,
    resourceId: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[Scope]]:
    paging = parse_page(page, page_size, optional=True)
    total, items = await resources.list_scopes(tenant_of(request), resourceId, search_term(request), paging)
    return paged(items, total, paging)


@post(
    "/api/resources/{resourceId:str}/scopes",
    operation_id="CreateResourceScope",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Create API resource scope",
)
async def create_resource_scope(
    request: AnyRequest, resources: ResourceService, resourceId: str, data: Annotated[CreateScope, Body()]
) -> Scope:
    return await resources.create_scope(tenant_of(request), resourceId, data, actor_of(request))


@patch(
    "/api/resources/{resourceId:str}/scopes/{scopeId:str}",
    operation_id="UpdateResourceScope",
    tags=TAGS,
    summary="Update API resource scope",
)
async def update_resource_scope(
    request: AnyRequest,
    resources: ResourceService,
    resourceId: str,
    scopeId: str,
    data: Annotated[UpdateScope, Body()],
) -> Scope:
    return await resources.update_scope(tenant_of(request), resourceId, scopeId, data, actor_of(request))


@delete(
    "/api/resources/{resourceId:str}/scopes/{scopeId:str}",
    operation_id="DeleteResourceScope",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete API resource scope",
)
async def delete_resource_scope(request: AnyRequest, resources: ResourceService, resourceId: str, scopeId: str) -> None:
    await resources.delete_scope(tenant_of(request), resourceId, scopeId, actor_of(request))


ROUTES = [
    list_resources,
    create_resource,
    get_resource,
    update_resource,
    update_resource_is_default,
    delete_resource,
    list_resource_scopes,
    create_resource_scope,
    update_resource_scope,
    delete_resource_scope,
]
