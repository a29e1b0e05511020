"""Routes of the Organization roles group (operation ids are Logto's)."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.pagination import DEFAULT_PAGE_SIZE, Page, parse_page
from gatehouse_platform.query import paged
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.organization_template import (
    OrganizationRole,
    OrganizationRoleWithScopes,
    OrganizationScope,
)
from gatehouse_schema.api.resources import Scope
from litestar import Request, Response, delete, get, patch, post, put
from litestar.params import Body
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_organizations.api.organization_roles_bodies import (
    AddOrganizationScopes,
    AddResourceScopes,
    CreateOrganizationRole,
    ReplaceOrganizationScopes,
    ReplaceResourceScopes,
    UpdateOrganizationRole,
)
from gatehouse_organizations.persistence.organization_roles import RESOURCE_SCOPE_LINKS, SCOPE_LINKS
from gatehouse_organizations.services.organization_roles import OrganizationRoleService

TAGS = ["Organization roles"]
AnyRequest = Request[Any, Any, Any]
ROLE = "/api/organization-roles/{id:str}"


def linked() -> Response[bytes]:
    """Logto answers a link request with 201 and no body."""
    return Response(b"", status_code=HTTP_201_CREATED)


def required_page(page: str | None, page_size: str | None) -> Page:
    """These lists are always paged (20 by default), as in Logto."""
    return parse_page(page, page_size) or Page(1, DEFAULT_PAGE_SIZE)  # never None when not optional


@get("/api/organization-roles", operation_id="ListOrganizationRoles", tags=TAGS, summary="Get organization roles")
async def list_organization_roles(
    request: AnyRequest,
    organization_roles: OrganizationRoleService,
    q: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[OrganizationRoleWithScopes]]:
    paging = required_page(page, page_size)
    total, items = await organization_roles.search(tenant_of(request), q or None, paging)
    return paged(items, total, paging)


@post(
    "/api/organization-roles",
    operation_id="CreateOrganizationRole",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Create an organization role",
)
async def create_organization_role(
    request: AnyRequest, organization_roles: OrganizationRoleService, data: Annotated[CreateOrganizationRole, Body()]
) -> OrganizationRole:
    return await organization_roles.create(tenant_of(request), data, actor_of(request))


@get(ROLE, operation_id="GetOrganizationRole", tags=TAGS, summary="Get organization role")
async def get_organization_role(
    request: AnyRequest, organization_roles: OrganizationRoleService, id: str
) -> OrganizationRole:
    return await organization_roles.get(tenant_of(request), id)


@patch(ROLE, operation_id="UpdateOrganizationRole", tags=TAGS, summary="Update organization role")
async def update_organization_role(
    request: AnyRequest,
    organization_roles: OrganizationRoleService,
    id: str,
    data: Annotated[UpdateOrganizationRole, Body()],
) -> OrganizationRole:
    return await organization_roles.update(tenant_of(request), id, data, actor_of(request))


@delete(
    ROLE,
    operation_id="DeleteOrganizationRole",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete organization role",
)
async def delete_organization_role(request: AnyRequest, organization_roles: OrganizationRoleService, id: str) -> None:
    await organization_roles.delete(tenant_of(request), id, actor_of(request))


# organization scopes of a role


@get(
    ROLE + "/scopes",
    operation_id="ListOrganizationRoleScopes",
    tags=TAGS,
    summary="Get organization role scopes",
)
async def list_organization_role_scopes(
    request: AnyRequest,
    organization_roles: OrganizationRoleService,
    id: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[OrganizationScope]]:
    paging = required_page(page, page_size)
    total, items = await organization_roles.role_scopes(tenant_of(request), id, paging)
    return paged(items, total, paging)


@post(
    ROLE + "/scopes",
    operation_id="CreateOrganizationRoleScope",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Assign organization scopes to organization role",
)
async def create_organization_role_scope(
    request: AnyRequest,
    organization_roles: OrganizationRoleService,
    id: str,
    data: Annotated[AddOrganizationScopes, Body()],
) -> Response[bytes]:
    await organization_roles.add_links(
        tenant_of(request), id, SCOPE_LINKS, data.organization_scope_ids, actor_of(request)
    )
    return linked()


@put(
    ROLE + "/scopes",
    operation_id="ReplaceOrganizationRoleScopes",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Replace organization scopes for organization role",
)
async def replace_organization_role_scopes(
    request: AnyRequest,
    organization_roles: OrganizationRoleService,
    id: str,
    data: Annotated[ReplaceOrganizationScopes, Body()],
) -> None:
    await organization_roles.replace_links(
        tenant_of(request), id, SCOPE_LINKS, data.organization_scope_ids, actor_of(request)
    )


@delete(
    ROLE + "/scopes/{organizationScopeId:str}",
    operation_id="DeleteOrganizationRoleScope",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove organization scope",
)
async def delete_organization_role_scope(
    request: AnyRequest, organization_roles: OrganizationRoleService, id: str, organizationScopeId: str
) -> None:
    await organization_roles.remove_link(tenant_of(request), id, SCOPE_LINKS, organizationScopeId, actor_of(request))


# API resource scopes of a role


@get(
    ROLE + "/resource-scopes",
    operation_id="ListOrganizationRoleResourceScopes",
    tags=TAGS,
    summary="Get organization role resource scopes",
)
async def list_organization_role_resource_scopes(
    request: AnyRequest,
    organization_roles: OrganizationRoleService,
    id: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[Scope]]:
    paging = required_page(page, page_size)
    total, items = await organization_roles.role_resource_scopes(tenant_of(request), id, paging)
    return paged(items, total, paging)


@post(
    ROLE + "/resource-scopes",
    operation_id="CreateOrganizationRoleResourceScope",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Assign resource scopes to organization role",
)
async def create_organization_role_resource_scope(
    request: AnyRequest,
    organization_roles: OrganizationRoleService,
    id: str,
    data: Annotated[AddResourceScopes, Body()],
) -> Response[bytes]:
    await organization_roles.add_links(tenant_of(request), id, RESOURCE_SCOPE_LINKS, data.scope_ids, actor_of(request))
    return linked()


@put(
    ROLE + "/resource-scopes",
    operation_id="ReplaceOrganizationRoleResourceScopes",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Replace resource scopes for organization role",
)
async def replace_organization_role_resource_scopes(
    request: AnyRequest,
    organization_roles: OrganizationRoleService,
    id: str,
    data: Annotated[ReplaceResourceScopes, Body()],
) -> None:
    await organization_roles.replace_links(
        tenant_of(request), id, RESOURCE_SCOPE_LINKS, data.scope_ids, actor_of(request)
    )


@delete(
    ROLE + "/resource-scopes/{scopeId:str}",
    operation_id="DeleteOrganizationRoleResourceScope",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove resource scope",
)
async def delete_organization_role_resource_scope(
    request: AnyRequest, organization_roles: OrganizationRoleService, id: str, scopeId: str
) -> None:
    await organization_roles.remove_link(tenant_of(request), id, RESOURCE_SCOPE_LINKS, scopeId, actor_of(request))


ROUTES = [
    list_organization_roles, create_organization_role, get_organization_role,
    update_organization_role, delete_organization_role,
    list_organization_role_scopes, create_organization_role_scope,
    replace_organization_role_scopes, delete_organization_role_scope,
    list_organization_role_resource_scopes, create_organization_role_resource_scope,
    replace_organization_role_resource_scopes, delete_organization_role_resource_scope,
]  # fmt: skip
