"""Sign-in experience routes (Logto's `routes/sign-in-experience`): the tenant's `default` settings, the password
policy check and the username case-conflict report. `POST .../custom-ui-assets` is not served: it needs file
storage Gatehouse does not have."""

from typing import Annotated, Any

from gatehouse_platform.actors import actor_of
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, Response, get, patch, post
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_400_BAD_REQUEST

from gatehouse_management.api.sign_in_experience_bodies import (
    CaseConflicts,
    CheckPassword,
    PasswordAccepted,
    PasswordRejected,
    SignInExperience,
    UpdateSignInExperience,
)
from gatehouse_management.services.sign_in_experience import SignInExperienceService

TAGS = ["Sign-in experience"]
AnyRequest = Request[Any, Any, Any]


@get(
    "/api/sign-in-exp",
    operation_id="GetSignInExp",
    tags=TAGS,
    summary="Get default sign-in experience settings",
)
async def get_sign_in_exp(request: AnyRequest, sign_in_experience: SignInExperienceService) -> SignInExperience:
    return await sign_in_experience.get(tenant_of(request))


@patch(
    "/api/sign-in-exp",
    operation_id="UpdateSignInExp",
    tags=TAGS,
    summary="Update default sign-in experience settings",
)
async def update_sign_in_exp(
    request: AnyRequest,
    sign_in_experience: SignInExperienceService,
    data: Annotated[UpdateSignInExperience, Body()],
    remove_unused_demo_social_connector: Annotated[
        str | None, Parameter(query="removeUnusedDemoSocialConnector", required=False)
    ] = None,
) -> SignInExperience:
    # Logto deletes its unused demo social connectors when asked; Gatehouse has no demo connectors
    del remove_unused_demo_social_connector
    return await sign_in_experience.update(tenant_of(request), data, actor_of(request))


@post(
    "/api/sign-in-exp/default/check-password",
    operation_id="CheckPasswordWithDefaultSignInExperience",
    tags=TAGS,
    status_code=HTTP_200_OK,
    summary="Check if a password meets the password policy",
)
async def check_password_with_default_sign_in_experience(
    request: AnyRequest, sign_in_experience: SignInExperienceService, data: Annotated[CheckPassword, Body()]
) -> Response[PasswordAccepted | PasswordRejected]:
    result = await sign_in_experience.check_password(tenant_of(request), data.password, data.user_id or None)
    # a rejected password is Logto's 400 with the `{result: false, issues}` body
    status = HTTP_200_OK if isinstance(result, PasswordAccepted) else HTTP_400_BAD_REQUEST
    return Response(result, status_code=status)


@get(
    "/api/sign-in-exp/username-policy/case-sensitivity-conflicts",
    operation_id="GetUsernameCaseSensitivityConflicts",
    tags=TAGS,
    summary="Get username case-sensitivity conflicts",
)
async def get_username_case_sensitivity_conflicts(
    request: AnyRequest,
    sign_in_experience: SignInExperienceService,
    limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
) -> CaseConflicts:
    return await sign_in_experience.case_conflicts(tenant_of(request), limit)


ROUTES = [
    get_sign_in_exp,
    update_sign_in_exp,
    check_password_with_default_sign_in_experience,
    get_username_case_sensitivity_conflicts,
]
