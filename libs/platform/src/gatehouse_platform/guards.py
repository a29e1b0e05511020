"""Route guards: the Management API accepts identity's access tokens for the tenant's management
resource with scope `all`, exactly as Logto does."""

from typing import Any

from gatehouse_schema.contexts import MANAGEMENT_API_SCOPE, management_resource_indicator
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from gatehouse_platform.tenancy import tenant_of
from gatehouse_platform.tokens import bearer_token, require_audience_and_scope


async def management_api_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    ctx = connection.app.state.ctx
    token = await ctx.validator.validate(bearer_token(connection.headers.get("authorization")))
    tenant_id = tenant_of(connection)
    require_audience_and_scope(token, management_resource_indicator(tenant_id), MANAGEMENT_API_SCOPE)
    connection.scope["gatehouse_token"] = token  # type: ignore[typeddict-unknown-key]
