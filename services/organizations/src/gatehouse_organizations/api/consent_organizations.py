"""Routes of the organizations a user consented a third-party application to (Applications group, Logto's
operation ids)."""

from typing import Annotated, Any

from gatehouse_platform.pagination import parse_page
from gatehouse_platform.query import paged
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, Response, delete, get, post, put
from litestar.params import Body
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_organizations.api.organizations_bodies import ConsentOrganizationIds, ConsentOrganizations
from gatehouse_organizations.services.consent_organizations import ConsentOrganizationService

TAGS = ["Applications"]
AnyRequest = Request[Any, Any, Any]
BASE = "/api/applications/{id:str}/users/{userId:str}/consent-organizations"


@get(
    BASE,
    operation_id="ListApplicationUserConsentOrganizations",
    tags=TAGS,
    summary="List all the user consented organizations of a application.",
)
async def list_application_user_consent_organizations(
    request: AnyRequest,
    consent_organizations: ConsentOrganizationService,
    id: str,
    userId: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[ConsentOrganizations]:
    paging = parse_page(page, page_size)
    assert paging is not None
    total, found = await consent_organizations.organizations(tenant_of(request), id, userId, paging)
    return paged(ConsentOrganizations(organizations=found), total, paging)


@put(
    BASE,
    operation_id="ReplaceApplicationUserConsentOrganizations",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Grant a list of organization access of a user for a application.",
)
async def replace_application_user_consent_organizations(
    request: AnyRequest,
    consent_organizations: ConsentOrganizationService,
    id: str,
    userId: str,
    data: Annotated[ConsentOrganizationIds, Body()],
) -> None:
    await consent_organizations.replace(tenant_of(request), id, userId, data.organization_ids)


@post(
    BASE,
    operation_id="CreateApplicationUserConsentOrganization",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Grant a list of organization access of a user for a application.",
)
async def create_application_user_consent_organization(
    request: AnyRequest,
    consent_organizations: ConsentOrganizationService,
    id: str,
    userId: str,
    data: Annotated[ConsentOrganizationIds, Body()],
) -> None:
    await consent_organizations.grant(tenant_of(request), id, userId, data.organization_ids)


@delete(
    f"{BASE}/{{organizationId:str}}",
    operation_id="DeleteApplicationUserConsentOrganization",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Revoke a user's access to an organization for a application.",
)
async def delete_application_user_consent_organization(
    request: AnyRequest, consent_organizations: ConsentOrganizationService, id: str, userId: str, organizationId: str
) -> None:
    await consent_organizations.revoke(tenant_of(request), id, userId, organizationId)


ROUTES: list[Any] = [
    list_application_user_consent_organizations,
    replace_application_user_consent_organizations,
    create_application_user_consent_organization,
    delete_application_user_consent_organization,
]
