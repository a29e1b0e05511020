"""Routes for application secrets (Applications tag)."""

from typing import Annotated, Any

import msgspec
from gatehouse_platform.actors import actor_of
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.applications import Application
from litestar import Request, delete, patch, post
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import Meta

from gatehouse_management.persistence.applications import SecretRow
from gatehouse_management.services.application_secrets import ApplicationSecretService

TAGS = ["Applications"]
AnyRequest = Request[Any, Any, Any]
SecretName = Annotated[str, Meta(min_length=1, max_length=256)]


class CreateSecret(msgspec.Struct, kw_only=True, rename="camel"):
    name: SecretName
    expires_at: int | None = None


class RenameSecret(msgspec.Struct, kw_only=True):
    name: SecretName


@post(
    "/api/applications/{id:str}/secrets",
    operation_id="CreateApplicationSecret",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Add application secret",
)
async def create_application_secret(
    request: AnyRequest, secrets: ApplicationSecretService, id: str, data: Annotated[CreateSecret, Body()]
) -> SecretRow:
    return await secrets.create(tenant_of(request), id, data.name, data.expires_at, actor_of(request))


@patch(
    "/api/applications/{id:str}/secrets/{name:str}",
    operation_id="UpdateApplicationSecret",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Update application secret",
)
async def update_application_secret(
    request: AnyRequest, secrets: ApplicationSecretService, id: str, name: str, data: Annotated[RenameSecret, Body()]
) -> SecretRow:
    return await secrets.rename(tenant_of(request), id, name, data.name, actor_of(request))


@delete(
    "/api/applications/{id:str}/secrets/{name:str}",
    operation_id="DeleteApplicationSecret",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete application secret",
)
async def delete_application_secret(request: AnyRequest, secrets: ApplicationSecretService, id: str, name: str) -> None:
    await secrets.delete(tenant_of(request), id, name, actor_of(request))


@delete(
    "/api/applications/{id:str}/legacy-secret",
    operation_id="DeleteApplicationLegacySecret",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Delete application legacy secret",
)
async def delete_application_legacy_secret(
    request: AnyRequest, secrets: ApplicationSecretService, id: str
) -> Application:
    return await secrets.delete_legacy(tenant_of(request), id, actor_of(request))


ROUTES = [
    create_application_secret,
    update_application_secret,
    delete_application_secret,
    delete_application_legacy_secret,
]
