"""Routes of an organization's just-in-time provisioning rules (Organizations group, Logto's operation ids):
email domains, enterprise SSO connectors and default organization roles."""

from typing import Annotated, Any

from gatehouse_platform.pagination import parse_page
from gatehouse_platform.query import paged
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.api.organization_template import OrganizationRole
from gatehouse_schema.api.organizations import OrganizationJitEmailDomain
from gatehouse_schema.api.sso_connectors import SsoConnector
from litestar import Request, Response, delete, get, post, put
from litestar.params import Body
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_organizations.api.organizations_bodies import (
    JitEmailDomain,
    JitEmailDomains,
    JitRoles,
    JitSsoConnectors,
    ReplaceJitRoles,
    ReplaceJitSsoConnectors,
)
from gatehouse_organizations.services.organization_jit import OrganizationJitService

TAGS = ["Organizations"]
AnyRequest = Request[Any, Any, Any]
DOMAINS = "/api/organizations/{id:str}/jit/email-domains"
ROLES = "/api/organizations/{id:str}/jit/roles"
SSO_CONNECTORS = "/api/organizations/{id:str}/jit/sso-connectors"

# email domains


@get(DOMAINS, operation_id="ListOrganizationJitEmailDomains", tags=TAGS, summary="Get organization JIT email domains")
async def list_organization_jit_email_domains(
    request: AnyRequest,
    organization_jit: OrganizationJitService,
    id: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[OrganizationJitEmailDomain]]:
    paging = parse_page(page, page_size)
    assert paging is not None
    total, items = await organization_jit.email_domains(tenant_of(request), id, paging)
    return paged(items, total, paging)


@post(
    DOMAINS,
    operation_id="CreateOrganizationJitEmailDomain",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Add organization JIT email domain",
)
async def create_organization_jit_email_domain(
    request: AnyRequest, organization_jit: OrganizationJitService, id: str, data: Annotated[JitEmailDomain, Body()]
) -> OrganizationJitEmailDomain:
    return await organization_jit.add_email_domain(tenant_of(request), id, data.email_domain)


@put(
    DOMAINS,
    operation_id="ReplaceOrganizationJitEmailDomains",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Replace organization JIT email domains",
)
async def replace_organization_jit_email_domains(
    request: AnyRequest, organization_jit: OrganizationJitService, id: str, data: Annotated[JitEmailDomains, Body()]
) -> None:
    await organization_jit.replace_email_domains(tenant_of(request), id, data.email_domains)


@delete(
    DOMAINS + "/{emailDomain:str}",
    operation_id="DeleteOrganizationJitEmailDomain",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove organization JIT email domain",
)
async def delete_organization_jit_email_domain(
    request: AnyRequest, organization_jit: OrganizationJitService, id: str, emailDomain: str
) -> None:
    await organization_jit.remove_email_domain(tenant_of(request), id, emailDomain)


# roles


@get(ROLES, operation_id="ListOrganizationJitRoles", tags=TAGS, summary="Get organization JIT default roles")
async def list_organization_jit_roles(
    request: AnyRequest,
    organization_jit: OrganizationJitService,
    id: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[OrganizationRole]]:
    paging = parse_page(page, page_size, optional=True)  # Logto: every role when no page is asked for
    total, items = await organization_jit.roles(tenant_of(request), id, paging)
    return paged(items, total, paging)


@post(
    ROLES,
    operation_id="CreateOrganizationJitRole",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Add organization JIT default roles",
)
async def create_organization_jit_role(
    request: AnyRequest, organization_jit: OrganizationJitService, id: str, data: Annotated[JitRoles, Body()]
) -> None:
    await organization_jit.add_roles(tenant_of(request), id, data.organization_role_ids)


@put(
    ROLES,
    operation_id="ReplaceOrganizationJitRoles",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Replace organization JIT default roles",
)
async def replace_organization_jit_roles(
    request: AnyRequest, organization_jit: OrganizationJitService, id: str, data: Annotated[ReplaceJitRoles, Body()]
) -> None:
    await organization_jit.replace_roles(tenant_of(request), id, data.organization_role_ids)


@delete(
    ROLES + "/{organizationRoleId:str}",
    operation_id="DeleteOrganizationJitRole",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove organization JIT default role",
)
async def delete_organization_jit_role(
    request: AnyRequest, organization_jit: OrganizationJitService, id: str, organizationRoleId: str
) -> None:
    await organization_jit.remove_role(tenant_of(request), id, organizationRoleId)


# enterprise SSO connectors


@get(
    SSO_CONNECTORS,
    operation_id="ListOrganizationJitSsoConnectors",
    tags=TAGS,
    summary="Get organization JIT SSO connectors",
)
async def list_organization_jit_sso_connectors(
    request: AnyRequest,
    organization_jit: OrganizationJitService,
    id: str,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[SsoConnector]]:
    paging = parse_page(page, page_size, optional=True)  # Logto: every connector when no page is asked for
    total, items = await organization_jit.sso_connectors(tenant_of(request), id, paging)
    return paged(items, total, paging)


@post(
    SSO_CONNECTORS,
    operation_id="CreateOrganizationJitSsoConnector",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Add organization JIT SSO connectors",
)
async def create_organization_jit_sso_connector(
    request: AnyRequest, organization_jit: OrganizationJitService, id: str, data: Annotated[JitSsoConnectors, Body()]
) -> None:
    await organization_jit.add_sso_connectors(tenant_of(request), id, data.sso_connector_ids)


@put(
    SSO_CONNECTORS,
    operation_id="ReplaceOrganizationJitSsoConnectors",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Replace organization JIT SSO connectors",
)
async def replace_organization_jit_sso_connectors(
    request: AnyRequest,
    organization_jit: OrganizationJitService,
    id: str,
    data: Annotated[ReplaceJitSsoConnectors, Body()],
) -> None:
    await organization_jit.replace_sso_connectors(tenant_of(request), id, data.sso_connector_ids)


@delete(
    SSO_CONNECTORS + "/{ssoConnectorId:str}",
    operation_id="DeleteOrganizationJitSsoConnector",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove organization JIT SSO connector",
)
async def delete_organization_jit_sso_connector(
    request: AnyRequest, organization_jit: OrganizationJitService, id: str, ssoConnectorId: str
) -> None:
    await organization_jit.remove_sso_connector(tenant_of(request), id, ssoConnectorId)


ROUTES: list[Any] = [
    list_organization_jit_email_domains, create_organization_jit_email_domain,
    replace_organization_jit_email_domains, delete_organization_jit_email_domain,
    list_organization_jit_roles, create_organization_jit_role, replace_organization_jit_roles,
    delete_organization_jit_role,
    list_organization_jit_sso_connectors, create_organization_jit_sso_connector,
    replace_organization_jit_sso_connectors, delete_organization_jit_sso_connector,
]  # fmt: skip
