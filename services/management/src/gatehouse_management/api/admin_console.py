"""Admin console config routes (Logto's `routes/logto-config`, tag Configs)."""

from typing import Any

from gatehouse_platform.tenancy import tenant_of
from litestar import Request, get, patch

from gatehouse_management.api.admin_console_bodies import AdminConsoleData, UpdateAdminConsoleData
from gatehouse_management.services.admin_console import AdminConsoleService

TAGS = ["Configs"]
AnyRequest = Request[Any, Any, Any]
PATH = "/api/configs/admin-console"


@get(PATH, operation_id="GetAdminConsoleConfig", tags=TAGS, summary="Get admin console config")
async def get_admin_console_config(request: AnyRequest, admin_console: AdminConsoleService) -> AdminConsoleData:
    return await admin_console.get(tenant_of(request))


@patch(PATH, operation_id="UpdateAdminConsoleConfig", tags=TAGS, summary="Update admin console config")
async def update_admin_console_config(
    request: AnyRequest, admin_console: AdminConsoleService, data: UpdateAdminConsoleData
) -> AdminConsoleData:
    return await admin_console.update(tenant_of(request), data)


ROUTES = [get_admin_console_config, update_admin_console_config]
