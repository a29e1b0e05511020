"""Per-application settings routes (Applications tag): custom data, sign-in experience, access
control, user consent scopes, and Protected-app custom domains."""

from typing import Annotated, Any

import msgspec
from gatehouse_platform.actors import actor_of
from gatehouse_platform.errors import BadRequest, GatehouseError
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, Response, delete, get, patch, post, put
from litestar.params import Body
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_management.api.application_settings_bodies import (
    AccessControl,
    ApplicationSignInExperience,
    ReplaceSignInExperience,
)
from gatehouse_management.api.consent_bodies import AssignConsentScopes, ConsentScopes, ScopeType
from gatehouse_management.services.application_settings import ApplicationSettingsService
from gatehouse_management.services.consent_scopes import ConsentScopeService

TAGS = ["Applications"]
AnyRequest = Request[Any, Any, Any]
SCOPE_TYPES = set(ScopeType.__args__)  # type: ignore[attr-defined]


@patch(
    "/api/applications/{applicationId:str}/custom-data",
    operation_id="UpdateApplicationCustomData",
    tags=TAGS,
    summary="Update application custom data",
)
async def update_application_custom_data(
    request: AnyRequest,
    app_settings: ApplicationSettingsService,
    applicationId: str,
    data: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    return await app_settings.update_custom_data(tenant_of(request), applicationId, data, actor_of(request))


@get(
    "/api/applications/{applicationId:str}/sign-in-experience",
    operation_id="GetApplicationSignInExperience",
    tags=TAGS,
    summary="Get the application level sign-in experience",
)
async def get_application_sign_in_experience(
    request: AnyRequest, app_settings: ApplicationSettingsService, applicationId: str
) -> ApplicationSignInExperience:
    return await app_settings.sign_in_experience(tenant_of(request), applicationId)


@put(
    "/api/applications/{applicationId:str}/sign-in-experience",
    operation_id="ReplaceApplicationSignInExperience",
    tags=TAGS,
    summary="Update application level sign-in experience",
)
async def replace_application_sign_in_experience(
    request: AnyRequest,
    app_settings: ApplicationSettingsService,
    applicationId: str,
    data: Annotated[ReplaceSignInExperience, Body()],
) -> Response[ApplicationSignInExperience]:
    stored, created = await app_settings.replace_sign_in_experience(
        tenant_of(request), applicationId, data, actor_of(request)
    )
    return Response(stored, status_code=HTTP_201_CREATED if created else HTTP_200_OK)


@get(
    "/api/applications/{applicationId:str}/access-control",
    operation_id="GetApplicationAccessControl",
    tags=TAGS,
    summary="Get application access control",
)
async def get_application_access_control(
    request: AnyRequest, app_settings: ApplicationSettingsService, applicationId: str
) -> AccessControl:
    return await app_settings.access_control(tenant_of(request), applicationId)


@put(
    "/api/applications/{applicationId:str}/access-control",
    operation_id="ReplaceApplicationAccessControl",
    tags=TAGS,
    summary="Replace application access control",
)
async def replace_application_access_control(
    request: AnyRequest,
    app_settings: ApplicationSettingsService,
    applicationId: str,
    data: Annotated[AccessControl, Body()],
) -> AccessControl:
    return await app_settings.replace_access_control(tenant_of(request), applicationId, data, actor_of(request))


@post(
    "/api/applications/{applicationId:str}/user-consent-scopes",
    operation_id="CreateApplicationUserConsentScope",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Assign user consent scopes to application",
)
async def create_application_user_consent_scope(
    request: AnyRequest,
    consent: ConsentScopeService,
    applicationId: str,
    data: Annotated[AssignConsentScopes, Body()],
) -> None:
    await consent.assign(tenant_of(request), applicationId, data, actor_of(request))


@get(
    "/api/applications/{applicationId:str}/user-consent-scopes",
    operation_id="ListApplicationUserConsentScopes",
    tags=TAGS,
    summary="List all the user consent scopes of an application",
)
async def list_application_user_consent_scopes(
    request: AnyRequest, consent: ConsentScopeService, applicationId: str
) -> ConsentScopes:
    return await consent.list_scopes(tenant_of(request), applicationId)


@delete(
    "/api/applications/{applicationId:str}/user-consent-scopes/{scopeType:str}/{scopeId:str}",
    operation_id="DeleteApplicationUserConsentScope",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove user consent scope from application",
)
async def delete_application_user_consent_scope(
    request: AnyRequest, consent: ConsentScopeService, applicationId: str, scopeType: str, scopeId: str
) -> None:
    if scopeType not in SCOPE_TYPES:
        raise BadRequest("guard.invalid_input", f"The request path is invalid: unknown scope type `{scopeType}`.")
    await consent.remove(tenant_of(request), applicationId, scopeType, scopeId, actor_of(request))


class CustomDomain(msgspec.Struct):
    domain: str


def _not_configured() -> GatehouseError:
    return GatehouseError("application.protected_app_not_configured", status=501)


@get(
    "/api/applications/{id:str}/protected-app-metadata/custom-domains",
    operation_id="ListApplicationProtectedAppMetadataCustomDomains",
    tags=TAGS,
    summary="Get the list of custom domains of the protected application",
)
async def list_protected_app_custom_domains(
    request: AnyRequest, app_settings: ApplicationSettingsService, id: str
) -> list[dict[str, Any]]:
    app = await app_settings.require_protected_app(tenant_of(request), id)
    domains: list[dict[str, Any]] = (app.protected_app_metadata or {}).get("customDomains", [])
    return domains


@post(
    "/api/applications/{id:str}/protected-app-metadata/custom-domains",
    operation_id="CreateApplicationProtectedAppMetadataCustomDomain",
    tags=TAGS,
    status_code=HTTP_201_CREATED,
    summary="Add a custom domain to the protected application",
)
async def create_protected_app_custom_domain(
    request: AnyRequest, app_settings: ApplicationSettingsService, id: str, data: Annotated[CustomDomain, Body()]
) -> None:
    await app_settings.require_protected_app(tenant_of(request), id)
    raise _not_configured()


@delete(
    "/api/applications/{id:str}/protected-app-metadata/custom-domains/{domain:str}",
    operation_id="DeleteApplicationProtectedAppMetadataCustomDomain",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Remove custom domain",
)
async def delete_protected_app_custom_domain(
    request: AnyRequest, app_settings: ApplicationSettingsService, id: str, domain: str
) -> None:
    await app_settings.require_protected_app(tenant_of(request), id)
    raise _not_configured()


ROUTES = [
    update_application_custom_data,
    get_application_sign_in_experience,
    replace_application_sign_in_experience,
    get_application_access_control,
    replace_application_access_control,
    create_application_user_consent_scope,
    list_application_user_consent_scopes,
    delete_application_user_consent_scope,
    list_protected_app_custom_domains,
    create_protected_app_custom_domain,
    delete_protected_app_custom_domain,
]
