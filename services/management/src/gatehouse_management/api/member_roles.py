"""Role assignment from the holder's side: `/api/users/{userId}/roles` (Users tag) and
`/api/applications/{applicationId}/roles` (Applications tag)."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.pagination import parse_page
from gatehouse_platform.query import paged, search_term
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.roles import Role
from litestar import Request, Response, delete, get, post, put
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_management.api.role_bodies import AssignedRoles, ReplacedRoles, RoleIds
from gatehouse_management.services.role_assignments import RoleAssignmentService

AnyRequest = Request[Any, Any, Any]


@get("/api/users/{userId:str}/roles", operation_id="ListUserRoles", tags=["Users"], summary="Get roles for user")
async def list_user_roles(
    request: AnyRequest,
    assignments: RoleAssignmentService,
    userId: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[Role]]:
    paging = parse_page(page, page_size, optional=True)
    total, items = await assignments.user_roles(tenant_of(request), userId, search_term(request), paging)
    return paged(items, total, paging)


@post(
    "/api/users/{userId:str}/roles",
    operation_id="AssignUserRoles",
    tags=["Users"],
    status_code=HTTP_201_CREATED,
    summary="Assign roles to user",
)
async def assign_user_roles(
    request: AnyRequest, assignments: RoleAssignmentService, userId: str, data: Annotated[RoleIds, Body()]
) -> AssignedRoles:
    added = await assignments.assign_user_roles(tenant_of(request), userId, data.role_ids, actor_of(request))
    return AssignedRoles(role_ids=data.role_ids, added_role_ids=added)


@put(
    "/api/users/{userId:str}/roles",
    operation_id="ReplaceUserRoles",
    tags=["Users"],
    status_code=HTTP_200_OK,
    summary="Update roles for user",
)
async def replace_user_roles(
    request: AnyRequest, assignments: RoleAssignmentService, userId: str, data: Annotated[RoleIds, Body()]
) -> ReplacedRoles:
    await assignments.assign_user_roles(tenant_of(request), userId, data.role_ids, actor_of(request), replace=True)
    return ReplacedRoles(role_ids=data.role_ids)


@delete(
    "/api/users/{userId:str}/roles/{roleId:str}",
    operation_id="DeleteUserRole",
    tags=["Users"],
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove role from user",
)
async def delete_user_role(request: AnyRequest, assignments: RoleAssignmentService, userId: str, roleId: str) -> None:
    await assignments.remove_user_role(tenant_of(request), userId, roleId, actor_of(request))


@get(
    "/api/applications/{applicationId:str}/roles",
    operation_id="ListApplicationRoles",
    tags=["Applications"],
    summary="Get application API resource roles",
)
async def list_application_roles(
    request: AnyRequest,
    assignments: RoleAssignmentService,
    applicationId: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[Role]]:
    paging = parse_page(page, page_size, optional=True)
    total, items = await assignments.application_roles(tenant_of(request), applicationId, search_term(request), paging)
    return paged(items, total, paging)


@post(
    "/api/applications/{applicationId:str}/roles",
    operation_id="AssignApplicationRoles",
    tags=["Applications"],
    status_code=HTTP_201_CREATED,
    summary="Assign API resource roles to application",
)
async def assign_application_roles(
    request: AnyRequest, assignments: RoleAssignmentService, applicationId: str, data: Annotated[RoleIds, Body()]
) -> AssignedRoles:
    added = await assignments.assign_application_roles(
        tenant_of(request), applicationId, data.role_ids, actor_of(request)
    )
    return AssignedRoles(role_ids=data.role_ids, added_role_ids=added)


@put(
    "/api/applications/{applicationId:str}/roles",
    operation_id="ReplaceApplicationRoles",
    tags=["Applications"],
    status_code=HTTP_200_OK,
    summary="Update API resource roles for application",
)
async def replace_application_roles(
    request: AnyRequest, assignments: RoleAssignmentService, applicationId: str, data: Annotated[RoleIds, Body()]
) -> None:
    await assignments.assign_application_roles(
        tenant_of(request), applicationId, data.role_ids, actor_of(request), replace=True
    )


@delete(
    "/api/applications/{applicationId:str}/roles/{roleId:str}",
    operation_id="DeleteApplicationRole",
    tags=["Applications"],
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove a API resource role from application",
)
async def delete_application_role(
    request: AnyRequest, assignments: RoleAssignmentService, applicationId: str, roleId: str
) -> None:
    await assignments.remove_application_role(tenant_of(request), applicationId, roleId, actor_of(request))


ROUTES = [
    list_user_roles, assign_user_roles, replace_user_roles, delete_user_role,
    list_application_roles, assign_application_roles, replace_application_roles, delete_application_role,
]  # fmt: skip
