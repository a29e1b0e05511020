"""Custom profile fields routes (Logto's `routes/custom-profile-fields.ts`)."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.errors import BadRequest
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, delete, get, post, put
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_management.api.custom_profile_field_bodies import (
    BATCH_LIMIT,
    BatchOfNewFields,
    CustomProfileField,
    FieldData,
    NewField,
    SieOrder,
)
from gatehouse_management.services.custom_profile_fields import CustomProfileFieldService

TAGS = ["Custom profile fields"]
AnyRequest = Request[Any, Any, Any]
PATH = "/api/custom-profile-fields"


@get(PATH, operation_id="ListCustomProfileFields", tags=TAGS, summary="Get all custom profile fields")
async def list_fields(
    request: AnyRequest, custom_profile_fields: CustomProfileFieldService
) -> list[CustomProfileField]:
    return await custom_profile_fields.catalog(tenant_of(request))


@post(
    PATH,
    operation_id="CreateCustomProfileField",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Create a custom profile field",
)
async def create_field(
    request: AnyRequest, custom_profile_fields: CustomProfileFieldService, data: Annotated[NewField, Body()]
) -> CustomProfileField:
    return (await custom_profile_fields.create(tenant_of(request), [data]))[0]


@post(
    f"{PATH}/batch",
    operation_id="CreateCustomProfileFieldsBatch",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Batch create custom profile fields",
)
async def create_fields(
    request: AnyRequest, custom_profile_fields: CustomProfileFieldService, data: Annotated[BatchOfNewFields, Body()]
) -> list[CustomProfileField]:
    if len(data) > BATCH_LIMIT:  # litestar does not apply the list's own constraints to a body
        raise BadRequest("guard.invalid_input", f"The request body is invalid: at most {BATCH_LIMIT} fields.")
    return await custom_profile_fields.create(tenant_of(request), data)


@post(
    f"{PATH}/properties/sie-order",
    operation_id="UpdateCustomProfileFieldsSieOrder",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Update the display order of the custom profile fields in Sign-in Experience.",
)
async def set_sie_order(
    request: AnyRequest, custom_profile_fields: CustomProfileFieldService, data: SieOrder
) -> list[CustomProfileField]:
    return await custom_profile_fields.set_sie_order(tenant_of(request), data.order)


@get(
    f"{PATH}/{{name:str}}",
    operation_id="GetCustomProfileFieldByName",
    tags=TAGS,
    summary="Get a custom profile field by name",
)
async def get_field(
    request: AnyRequest, custom_profile_fields: CustomProfileFieldService, name: str
) -> CustomProfileField:
    return await custom_profile_fields.get(tenant_of(request), name)


@put(
    f"{PATH}/{{name:str}}",
    operation_id="UpdateCustomProfileFieldByName",
    tags=TAGS,
    summary="Update a custom profile field by name",
)
async def update_field(
    request: AnyRequest,
    custom_profile_fields: CustomProfileFieldService,
    name: str,
    data: Annotated[FieldData, Body()],
) -> CustomProfileField:
    return await custom_profile_fields.update(tenant_of(request), name, data)


@delete(
    f"{PATH}/{{name:str}}",
    operation_id="DeleteCustomProfileFieldByName",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete a custom profile field by name",
)
async def delete_field(request: AnyRequest, custom_profile_fields: CustomProfileFieldService, name: str) -> None:
    await custom_profile_fields.delete(tenant_of(request), name, actor_of(request))


ROUTES = [list_fields, create_field, create_fields, set_sie_order, get_field, update_field, delete_field]
