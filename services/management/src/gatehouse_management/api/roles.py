"""Routes of the Roles group (operation ids are Logto's)."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.errors import BadRequest
from gatehouse_platform.pagination import parse_page
from gatehouse_platform.query import paged, search_term
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.applications import Application
from gatehouse_schema.api.roles import Role, RoleWithStats, ScopeWithResource
from gatehouse_schema.api.users import User
from litestar import Request, Response, delete, get, patch, post
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_management.api.role_bodies import ApplicationIds, CreateRole, ScopeIds, UpdateRole, UserIds
from gatehouse_management.persistence.roles import RoleFilter
from gatehouse_management.services.role_assignments import RoleAssignmentService
from gatehouse_management.services.roles import RoleService

TAGS = ["Roles"]
AnyRequest = Request[Any, Any, Any]


@get("/api/roles", operation_id="ListRoles", tags=TAGS, summary="Get roles")
async def list_roles(
    request: AnyRequest,
    roles: RoleService,
    exclude_user_id: Annotated[str | None, Parameter(query="excludeUserId")] = None,
    exclude_application_id: Annotated[str | None, Parameter(query="excludeApplicationId")] = None,
    type: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[RoleWithStats]]:
    if type is not None and type not in {"User", "MachineToMachine"}:
        raise BadRequest(
            "guard.invalid_input", "The request query is invalid: `type` must be User or MachineToMachine."
        )
    paging = parse_page(page, page_size)
    where = RoleFilter(
        type=type,
        exclude_user_id=exclude_user_id,
        exclude_application_id=exclude_application_id,
        search=search_term(request),
    )
    total, items = await roles.search(tenant_of(request), where, paging)
    return paged(items, total, paging)


@post("/api/roles", operation_id="CreateRole", tags=TAGS, status_code=HTTP_200_OK, summary="Create a role")
async def create_role(request: AnyRequest, roles: RoleService, data: Annotated[CreateRole, Body()]) -> Role:
    return await roles.create(tenant_of(request), data, actor_of(request))


@get("/api/roles/{id:str}", operation_id="GetRole", tags=TAGS, summary="Get role")
async def get_role(request: AnyRequest, roles: RoleService, id: str) -> Role:
    return await roles.get(tenant_of(request), id)


@patch("/api/roles/{id:str}", operation_id="UpdateRole", tags=TAGS, summary="Update role")
async def update_role(request: AnyRequest, roles: RoleService, id: str, data: Annotated[UpdateRole, Body()]) -> Role:
    return await roles.update(tenant_of(request), id, data, actor_of(request))


@delete(
    "/api/roles/{id:str}", operation_id="DeleteRole", tags=TAGS, status_code=HTTP_204_NO_CONTENT, summary="Delete role"
)
async def delete_role(request: AnyRequest, roles: RoleService, id: str) -> None:
    await roles.delete(tenant_of(request), id, actor_of(request))


@get("/api/roles/{id:str}/users", operation_id="ListRoleUsers", tags=TAGS, summary="Get role users")
async def list_role_users(
    request: AnyRequest,
    assignments: RoleAssignmentService,
    id: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[User]]:
    paging = parse_page(page, page_size)
    total, items = await assignments.role_users(tenant_of(request), id, search_term(request), paging)
    return paged(items, total, paging)


@post(
    "/api/roles/{id:str}/users",
    operation_id="CreateRoleUser",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Assign role to users",
)
async def create_role_user(
    request: AnyRequest, assignments: RoleAssignmentService, id: str, data: Annotated[UserIds, Body()]
) -> None:
    await assignments.add_role_users(tenant_of(request), id, data.user_ids, actor_of(request))


@delete(
    "/api/roles/{id:str}/users/{userId:str}",
    operation_id="DeleteRoleUser",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove role from user",
)
async def delete_role_user(request: AnyRequest, assignments: RoleAssignmentService, id: str, userId: str) -> None:
    await assignments.remove_role_user(tenant_of(request), id, userId, actor_of(request))


@get(
    "/api/roles/{id:str}/applications", operation_id="ListRoleApplications", tags=TAGS, summary="Get role applications"
)
async def list_role_applications(
    request: AnyRequest,
    assignments: RoleAssignmentService,
    id: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[Application]]:
    paging = parse_page(page, page_size)
    total, items = await assignments.role_applications(tenant_of(request), id, search_term(request), paging)
    return paged(items, total, paging)


@post(
    "/api/roles/{id:str}/applications",
    operation_id="CreateRoleApplication",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Assign role to applications",
)
async def create_role_application(
    request: AnyRequest, assignments: RoleAssignmentService, id: str, data: Annotated[ApplicationIds, Body()]
) -> None:
    await assignments.add_role_applications(tenant_of(request), id, data.application_ids, actor_of(request))


@delete(
    "/api/roles/{id:str}/applications/{applicationId:str}",
    operation_id="DeleteRoleApplication",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove role from application",
)
async def delete_role_application(
    request: AnyRequest, assignments: RoleAssignmentService, id: str, applicationId: str
) -> None:
    await assignments.remove_role_application(tenant_of(request), id, applicationId, actor_of(request))


@get("/api/roles/{id:str}/scopes", operation_id="ListRoleScopes", tags=TAGS, summary="Get role scopes")
async def list_role_scopes(
    request: AnyRequest, roles: RoleService, id: str, page: str | None = None, page_size: str | None = None
) -> Response[list[ScopeWithResource]]:
    paging = parse_page(page, page_size, optional=True)
    total, items = await roles.scopes(tenant_of(request), id, search_term(request), paging)
    return paged(items, total, paging)


@post(
    "/api/roles/{id:str}/scopes",
    operation_id="CreateRoleScope",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Link scopes to role",
)
async def create_role_scope(
    request: AnyRequest, roles: RoleService, id: str, data: Annotated[ScopeIds, Body()]
) -> list[ScopeWithResource]:
    return await roles.add_scopes(tenant_of(request), id, data.scope_ids, actor_of(request))


@delete(
    "/api/roles/{id:str}/scopes/{scopeId:str}",
    operation_id="DeleteRoleScope",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Unlink scope from role",
)
async def delete_role_scope(request: AnyRequest, roles: RoleService, id: str, scopeId: str) -> None:
    await roles.remove_scope(tenant_of(request), id, scopeId, actor_of(request))


ROUTES = [
    list_roles, create_role, get_role, update_role, delete_role,
    list_role_users, create_role_user, delete_role_user,
    list_role_applications, create_role_application, delete_role_application,
    list_role_scopes, create_role_scope, delete_role_scope,
]  # fmt: skip
