"""Routes of an organization's members (users and machine-to-machine applications) and their roles there."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.pagination import parse_page
from gatehouse_platform.query import paged
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.organization_template import OrganizationRole, OrganizationScope
from gatehouse_schema.api.organizations import (
    ApplicationWithOrganizationRoles,
    UserWithOrganizationRoles,
)
from litestar import Request, Response, delete, get, post, put
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_organizations.api.organizations_bodies import (
    AddApplications,
    AddedUsers,
    AddUsers,
    ApplicationRoles,
    ApplicationsRoles,
    AssignedUserRoles,
    ReplaceApplications,
    ReplaceUsers,
    UserRoles,
    UsersRoles,
)
from gatehouse_organizations.services.memberships import APPLICATIONS, USERS, MembershipService

TAGS = ["Organizations"]
AnyRequest = Request[Any, Any, Any]
BASE = "/api/organizations/{id:str}"

# users


@get(f"{BASE}/users", operation_id="ListOrganizationUsers", tags=TAGS, summary="Get organization user members")
async def list_organization_users(
    request: AnyRequest,
    memberships: MembershipService,
    id: str,
    q: str | None = None,
    organization_role_id: Annotated[str | None, Parameter(query="organizationRoleId", min_length=1)] = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[UserWithOrganizationRoles]]:
    paging = parse_page(page, page_size)
    assert paging is not None
    total, items = await memberships.users(tenant_of(request), id, q or None, organization_role_id, paging)
    return paged(items, total, paging)


@post(
    f"{BASE}/users",
    operation_id="AddOrganizationUsers",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Add user members to organization",
)
async def add_organization_users(
    request: AnyRequest, memberships: MembershipService, id: str, data: Annotated[AddUsers, Body()]
) -> AddedUsers:
    await memberships.add(USERS, tenant_of(request), id, data.user_ids, actor_of(request))
    return AddedUsers(user_ids=data.user_ids)  # the ids as sent, as Logto echoes them


@put(
    f"{BASE}/users",
    operation_id="ReplaceOrganizationUsers",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Replace organization user members",
)
async def replace_organization_users(
    request: AnyRequest, memberships: MembershipService, id: str, data: Annotated[ReplaceUsers, Body()]
) -> None:
    await memberships.replace(USERS, tenant_of(request), id, data.user_ids, actor_of(request))


@delete(
    f"{BASE}/users/{{userId:str}}",
    operation_id="DeleteOrganizationUser",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove user member from organization",
)
async def delete_organization_user(request: AnyRequest, memberships: MembershipService, id: str, userId: str) -> None:
    await memberships.remove(USERS, tenant_of(request), id, userId, actor_of(request))


@post(
    f"{BASE}/users/roles",
    operation_id="AssignOrganizationRolesToUsers",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Assign roles to organization user members",
)
async def assign_organization_roles_to_users(
    request: AnyRequest, memberships: MembershipService, id: str, data: Annotated[UsersRoles, Body()]
) -> None:
    await memberships.assign_to_many(USERS, tenant_of(request), id, data.user_ids, data.organization_role_ids)


@get(
    f"{BASE}/users/{{userId:str}}/roles",
    operation_id="ListOrganizationUserRoles",
    tags=TAGS,
    summary="Get roles for a user in an organization",
)
async def list_organization_user_roles(
    request: AnyRequest,
    memberships: MembershipService,
    id: str,
    userId: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[OrganizationRole]]:
    paging = parse_page(page, page_size, optional=True)
    total, items = await memberships.roles(USERS, tenant_of(request), id, userId, paging)
    return paged(items, total, paging)


@post(
    f"{BASE}/users/{{userId:str}}/roles",
    operation_id="AssignOrganizationRolesToUser",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Add roles to a user in an organization",
)
async def assign_organization_roles_to_user(
    request: AnyRequest, memberships: MembershipService, id: str, userId: str, data: Annotated[UserRoles, Body()]
) -> AssignedUserRoles:
    role_ids = await memberships.grant(
        USERS, tenant_of(request), id, userId, data.organization_role_ids, data.organization_role_names
    )
    return AssignedUserRoles(organization_role_ids=role_ids)


@put(
    f"{BASE}/users/{{userId:str}}/roles",
    operation_id="ReplaceOrganizationUserRoles",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Update roles for a user in an organization",
)
async def replace_organization_user_roles(
    request: AnyRequest, memberships: MembershipService, id: str, userId: str, data: Annotated[UserRoles, Body()]
) -> None:
    await memberships.replace_roles(
        USERS, tenant_of(request), id, userId, data.organization_role_ids, data.organization_role_names
    )


@delete(
    f"{BASE}/users/{{userId:str}}/roles/{{organizationRoleId:str}}",
    operation_id="DeleteOrganizationUserRole",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove a role from a user in an organization",
)
async def delete_organization_user_role(
    request: AnyRequest, memberships: MembershipService, id: str, userId: str, organizationRoleId: str
) -> None:
    await memberships.revoke(USERS, tenant_of(request), id, userId, organizationRoleId)


@get(
    f"{BASE}/users/{{userId:str}}/scopes",
    operation_id="ListOrganizationUserScopes",
    tags=TAGS,
    summary="Get scopes for a user in an organization tailored by the organization roles",
)
async def list_organization_user_scopes(
    request: AnyRequest, memberships: MembershipService, id: str, userId: str
) -> list[OrganizationScope]:
    return await memberships.user_scopes(tenant_of(request), id, userId)


# applications


@get(
    f"{BASE}/applications",
    operation_id="ListOrganizationApplications",
    tags=TAGS,
    summary="Get organization applications",
)
async def list_organization_applications(
    request: AnyRequest,
    memberships: MembershipService,
    id: str,
    q: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[ApplicationWithOrganizationRoles]]:
    paging = parse_page(page, page_size)
    assert paging is not None
    total, items = await memberships.applications(tenant_of(request), id, q or None, paging)
    return paged(items, total, paging)


@post(
    f"{BASE}/applications",
    operation_id="AddOrganizationApplications",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Add organization application",
)
async def add_organization_applications(
    request: AnyRequest, memberships: MembershipService, id: str, data: Annotated[AddApplications, Body()]
) -> None:
    await memberships.add(APPLICATIONS, tenant_of(request), id, data.application_ids, actor_of(request))


@put(
    f"{BASE}/applications",
    operation_id="ReplaceOrganizationApplications",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Replace organization applications",
)
async def replace_organization_applications(
    request: AnyRequest, memberships: MembershipService, id: str, data: Annotated[ReplaceApplications, Body()]
) -> None:
    await memberships.replace(APPLICATIONS, tenant_of(request), id, data.application_ids, actor_of(request))


@delete(
    f"{BASE}/applications/{{applicationId:str}}",
    operation_id="DeleteOrganizationApplication",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove organization application",
)
async def delete_organization_application(
    request: AnyRequest, memberships: MembershipService, id: str, applicationId: str
) -> None:
    await memberships.remove(APPLICATIONS, tenant_of(request), id, applicationId, actor_of(request))


@post(
    f"{BASE}/applications/roles",
    operation_id="AssignOrganizationRolesToApplications",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Assign roles to applications in an organization",
)
async def assign_organization_roles_to_applications(
    request: AnyRequest, memberships: MembershipService, id: str, data: Annotated[ApplicationsRoles, Body()]
) -> None:
    await memberships.assign_to_many(
        APPLICATIONS, tenant_of(request), id, data.application_ids, data.organization_role_ids
    )


@get(
    f"{BASE}/applications/{{applicationId:str}}/roles",
    operation_id="ListOrganizationApplicationRoles",
    tags=TAGS,
    summary="Get organization application roles",
)
async def list_organization_application_roles(
    request: AnyRequest,
    memberships: MembershipService,
    id: str,
    applicationId: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[OrganizationRole]]:
    paging = parse_page(page, page_size)
    total, items = await memberships.roles(APPLICATIONS, tenant_of(request), id, applicationId, paging)
    return paged(items, total, paging)


@post(
    f"{BASE}/applications/{{applicationId:str}}/roles",
    operation_id="AssignOrganizationRolesToApplication",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Add organization application role",
)
async def assign_organization_roles_to_application(
    request: AnyRequest,
    memberships: MembershipService,
    id: str,
    applicationId: str,
    data: Annotated[ApplicationRoles, Body()],
) -> None:
    await memberships.grant(APPLICATIONS, tenant_of(request), id, applicationId, data.organization_role_ids)


@put(
    f"{BASE}/applications/{{applicationId:str}}/roles",
    operation_id="ReplaceOrganizationApplicationRoles",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Replace organization application roles",
)
async def replace_organization_application_roles(
    request: AnyRequest,
    memberships: MembershipService,
    id: str,
    applicationId: str,
    data: Annotated[ApplicationRoles, Body()],
) -> None:
    await memberships.replace_roles(APPLICATIONS, tenant_of(request), id, applicationId, data.organization_role_ids)


@delete(
    f"{BASE}/applications/{{applicationId:str}}/roles/{{organizationRoleId:str}}",
    operation_id="DeleteOrganizationApplicationRole",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove organization application role",
)
async def delete_organization_application_role(
    request: AnyRequest, memberships: MembershipService, id: str, applicationId: str, organizationRoleId: str
) -> None:
    await memberships.revoke(APPLICATIONS, tenant_of(request), id, applicationId, organizationRoleId)


ROUTES: list[Any] = [
    list_organization_users, add_organization_users, replace_organization_users, delete_organization_user,
    assign_organization_roles_to_users, list_organization_user_roles, assign_organization_roles_to_user,
    replace_organization_user_roles, delete_organization_user_role, list_organization_user_scopes,
    list_organization_applications, add_organization_applications, replace_organization_applications,
    delete_organization_application, assign_organization_roles_to_applications,
    list_organization_application_roles, assign_organization_roles_to_application,
    replace_organization_application_roles, delete_organization_application_role,
]  # fmt: skip
