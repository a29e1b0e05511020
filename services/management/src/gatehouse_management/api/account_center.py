"""Account center routes (Logto's `routes/account-center`)."""

from typing import Any

from gatehouse_platform.tenancy import tenant_of
from litestar import Request, get, patch

from gatehouse_management.api.account_center_bodies import AccountCenter, UpdateAccountCenter
from gatehouse_management.services.account_center import AccountCenterService

TAGS = ["Account center"]
AnyRequest = Request[Any, Any, Any]


@get(
    "/api/account-center",
    operation_id="GetAccountCenterSettings",
    tags=TAGS,
    summary="Get account center settings",
)
async def get_account_center(request: AnyRequest, account_center: AccountCenterService) -> AccountCenter:
    return await account_center.get(tenant_of(request))


@patch(
    "/api/account-center",
    operation_id="UpdateAccountCenterSettings",
    tags=TAGS,
    summary="Update account center settings",
)
async def update_account_center(
    request: AnyRequest, account_center: AccountCenterService, data: UpdateAccountCenter
) -> AccountCenter:
    return await account_center.update(tenant_of(request), data)


ROUTES = [get_account_center, update_account_center]
