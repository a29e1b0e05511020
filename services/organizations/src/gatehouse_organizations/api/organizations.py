"""Routes of the Organizations group and the membership routes of Users and Applications (Logto's operation ids);
`ROUTES` also holds the members', the user consent organizations', the just-in-time provisioning rules' and the
Organization invitations routes."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.pagination import parse_page
from gatehouse_platform.query import paged, truthy
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.organizations import Organization, OrganizationWithFeatured, OrganizationWithRoles
from litestar import Request, Response, delete, get, patch, post
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_organizations.api import (
    consent_organizations,
    organization_invitations,
    organization_jit,
    organization_members,
)
from gatehouse_organizations.api.organizations_bodies import CreateOrganization, UpdateOrganization
from gatehouse_organizations.services.organizations import OrganizationService

TAGS = ["Organizations"]
AnyRequest = Request[Any, Any, Any]


@post(
    "/api/organizations",
    operation_id="CreateOrganization",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Create an organization",
)
async def create_organization(
    request: AnyRequest, organizations: OrganizationService, data: Annotated[CreateOrganization, Body()]
) -> Organization:
    return await organizations.create(tenant_of(request), data, actor_of(request))


@get("/api/organizations", operation_id="ListOrganizations", tags=TAGS, summary="Get organizations")
async def list_organizations(
    request: AnyRequest,
    organizations: OrganizationService,
    q: str | None = None,
    show_featured: Annotated[str | None, Parameter(query="showFeatured")] = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[OrganizationWithFeatured]]:
    paging = parse_page(page, page_size)
    assert paging is not None
    total, items = await organizations.search(tenant_of(request), q or None, paging, featured=truthy(show_featured))
    return paged(items, total, paging)


@get("/api/organizations/{id:str}", operation_id="GetOrganization", tags=TAGS, summary="Get organization")
async def get_organization(request: AnyRequest, organizations: OrganizationService, id: str) -> Organization:
    return await organizations.get(tenant_of(request), id)


@patch("/api/organizations/{id:str}", operation_id="UpdateOrganization", tags=TAGS, summary="Update organization")
async def update_organization(
    request: AnyRequest, organizations: OrganizationService, id: str, data: Annotated[UpdateOrganization, Body()]
) -> Organization:
    return await organizations.update(tenant_of(request), id, data, actor_of(request))


@delete(
    "/api/organizations/{id:str}",
    operation_id="DeleteOrganization",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete organization",
)
async def delete_organization(request: AnyRequest, organizations: OrganizationService, id: str) -> None:
    await organizations.delete(tenant_of(request), id, actor_of(request))


@get(
    "/api/users/{userId:str}/organizations",
    operation_id="ListUserOrganizations",
    tags=["Users"],
    summary="Get organizations for a user",
)
async def list_user_organizations(
    request: AnyRequest, organizations: OrganizationService, userId: str
) -> list[OrganizationWithRoles]:
    return await organizations.of_user(tenant_of(request), userId)


@get(
    "/api/applications/{id:str}/organizations",
    operation_id="ListApplicationOrganizations",
    tags=["Applications"],
    summary="Get application organizations",
)
async def list_application_organizations(
    request: AnyRequest,
    organizations: OrganizationService,
    id: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[OrganizationWithRoles]]:
    paging = parse_page(page, page_size, optional=True)
    total, items = await organizations.of_application(tenant_of(request), id, paging)
    return paged(items, total, paging)


ROUTES: list[Any] = [
    create_organization, list_organizations, get_organization, update_organization, delete_organization,
    list_user_organizations, list_application_organizations,
    *organization_members.ROUTES, *consent_organizations.ROUTES, *organization_jit.ROUTES,
    *organization_invitations.ROUTES,
]  # fmt: skip
