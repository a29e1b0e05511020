"""Tenant resolution per request. One tenant (`default`) is served; a host mapping can come later."""

from typing import Any

from litestar.connection import ASGIConnection


def tenant_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    tenant: str = connection.app.state.ctx.settings.default_tenant_id
    return tenant
