"""Routes of the Organization scopes group (operation ids are Logto's)."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.pagination import parse_page
from gatehouse_platform.query import paged
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.organization_template import OrganizationScope
from litestar import Request, Response, delete, get, patch, post
from litestar.params import Body
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_organizations.api.organization_scopes_bodies import CreateOrganizationScope, UpdateOrganizationScope
from gatehouse_organizations.services.organization_scopes import OrganizationScopeService

TAGS = ["Organization scopes"]
AnyRequest = Request[Any, Any, Any]


@get("/api/organization-scopes", operation_id="ListOrganizationScopes", tags=TAGS, summary="Get organization scopes")
async def list_organization_scopes(
    request: AnyRequest,
    organization_scopes: OrganizationScopeService,
    q: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[OrganizationScope]]:
    """Every scope when no page is asked for (Logto's pagination is optional here)."""
    paging = parse_page(page, page_size, optional=True)
    total, items = await organization_scopes.search(tenant_of(request), q or None, paging)
    return paged(items, total, paging)


@post(
    "/api/organization-scopes",
    operation_id="CreateOrganizationScope",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Create an organization scope",
)
async def create_organization_scope(
    request: AnyRequest, organization_scopes: OrganizationScopeService, data: Annotated[CreateOrganizationScope, Body()]
) -> OrganizationScope:
    return await organization_scopes.create(tenant_of(request), data, actor_of(request))


@get(
    "/api/organization-scopes/{id:str}",
    operation_id="GetOrganizationScope",
    tags=TAGS,
    summary="Get organization scope",
)
async def get_organization_scope(
    request: AnyRequest, organization_scopes: OrganizationScopeService, id: str
) -> OrganizationScope:
    return await organization_scopes.get(tenant_of(request), id)


@patch(
    "/api/organization-scopes/{id:str}",
    operation_id="UpdateOrganizationScope",
    tags=TAGS,
    summary="Update organization scope",
)
async def update_organization_scope(
    request: AnyRequest,
    organization_scopes: OrganizationScopeService,
    id: str,
    data: Annotated[UpdateOrganizationScope, Body()],
) -> OrganizationScope:
    return await organization_scopes.update(tenant_of(request), id, data, actor_of(request))


@delete(
    "/api/organization-scopes/{id:str}",
    operation_id="DeleteOrganizationScope",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete organization scope",
)
async def delete_organization_scope(
    request: AnyRequest, organization_scopes: OrganizationScopeService, id: str
) -> None:
    await organization_scopes.delete(tenant_of(request), id, actor_of(request))


ROUTES = [
    list_organization_scopes,
    create_organization_scope,
    get_organization_scope,
    update_organization_scope,
    delete_organization_scope,
]
