"""Routes of the Applications group handled by management (operation ids are Logto's)."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.errors import BadRequest
from gatehouse_platform.pagination import TOTAL_NUMBER_HEADER, parse_page
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.applications import Application
from litestar import Request, Response, delete, get, patch, post
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from gatehouse_management.api.application_bodies import CreateApplication, UpdateApplication
from gatehouse_management.persistence.applications import ApplicationFilter, SecretRow
from gatehouse_management.services.applications import ApplicationService

TAGS = ["Applications"]
APP_TYPES = {"Native", "SPA", "Traditional", "MachineToMachine", "Protected", "SAML"}


def _bool_param(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    if value in {"true", "false"}:
        return value == "true"
    raise BadRequest("guard.invalid_input", f"The request query is invalid: `{name}` must be true or false.")


@get("/api/applications", operation_id="ListApplications", tags=TAGS, summary="Get applications")
async def list_applications(
    request: Request[Any, Any, Any],
    applications: ApplicationService,
    types: list[str] | None = None,
    is_third_party: Annotated[str | None, Parameter(query="isThirdParty")] = None,
    exclude_role_id: Annotated[str | None, Parameter(query="excludeRoleId")] = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[Application]]:
    for t in types or []:
        if t not in APP_TYPES:
            raise BadRequest("guard.invalid_input", f"The request query is invalid: unknown type `{t}`.")
    paging = parse_page(page, page_size, optional=True)
    where = ApplicationFilter(
        types=types or (),
        is_third_party=_bool_param(is_third_party, "isThirdParty"),
        exclude_role_id=exclude_role_id,
    )
    total, items = await applications.search(tenant_of(request), where, paging)
    headers = {TOTAL_NUMBER_HEADER: str(total)} if paging is not None else {}
    return Response(items, headers=headers)


@post(
    "/api/applications",
    operation_id="CreateApplication",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Create an application",
)
async def create_application(
    request: Request[Any, Any, Any],
    applications: ApplicationService,
    data: Annotated[CreateApplication, Body()],
) -> Application:
    return await applications.create(tenant_of(request), data, actor_of(request))


@get("/api/applications/{id:str}", operation_id="GetApplication", tags=TAGS, summary="Get application")
async def get_application(request: Request[Any, Any, Any], applications: ApplicationService, id: str) -> Application:
    return await applications.get(tenant_of(request), id)


@patch("/api/applications/{id:str}", operation_id="UpdateApplication", tags=TAGS, summary="Update application")
async def update_application(
    request: Request[Any, Any, Any],
    applications: ApplicationService,
    id: str,
    data: Annotated[UpdateApplication, Body()],
) -> Application:
    return await applications.update(tenant_of(request), id, data, actor_of(request))


@delete(
    "/api/applications/{id:str}",
    operation_id="DeleteApplication",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete application",
)
async def delete_application(request: Request[Any, Any, Any], applications: ApplicationService, id: str) -> None:
    await applications.delete(tenant_of(request), id, actor_of(request))


@get(
    "/api/applications/{id:str}/secrets",
    operation_id="ListApplicationSecrets",
    tags=TAGS,
    summary="Get application secrets",
)
async def list_application_secrets(
    request: Request[Any, Any, Any], applications: ApplicationService, id: str
) -> list[SecretRow]:
    return await applications.list_secrets(tenant_of(request), id)


ROUTES = [
    list_applications,
    create_application,
    get_application,
    update_application,
    delete_application,
    list_application_secrets,
]
