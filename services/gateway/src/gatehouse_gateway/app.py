"""The gateway: a litestar app for its own routes, in front of which the route table sends
everything that belongs to a service straight to the streaming proxy."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from gatehouse_platform.config import load_settings
from gatehouse_platform.logging import configure_logging
from gatehouse_platform.observability import ObservabilityMiddleware
from gatehouse_platform.openapi import merge_documents
from gatehouse_platform.service import EXCEPTION_HANDLERS, health, tune_gc
from gatehouse_platform.tracing import configure_tracing
from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.status_codes import HTTP_204_NO_CONTENT
from litestar.types import Receive, Scope, Send

from gatehouse_gateway.config import GatewaySettings
from gatehouse_gateway.openapi_source import OpenApiSource
from gatehouse_gateway.proxy import Proxy
from gatehouse_gateway.routes import GATEWAY_ROUTES, SERVICES, RouteTable


def upstreams_of(settings: GatewaySettings) -> dict[str, str]:
    return {name: getattr(settings, f"{name}_url") for name in SERVICES}


@get(
    "/api/status",
    operation_id="GetStatus",
    tags=["Status"],
    status_code=HTTP_204_NO_CONTENT,
    summary="Health check",
)
async def status() -> None:
    return None


async def _merged(state: State, only: str | None) -> dict[str, Any]:
    source: OpenApiSource = state.openapi
    settings: GatewaySettings = state.settings
    return merge_documents(await source.documents(), server_url=settings.public_url, only=only)


@get("/api/swagger.json", operation_id="GetSwaggerJson", tags=["Swagger.json"], summary="Get Swagger JSON")
async def swagger(state: State) -> dict[str, Any]:
    return await _merged(state, None)


@get("/api/.well-known/management.openapi.json", include_in_schema=False)
async def management_openapi(state: State) -> dict[str, Any]:
    return await _merged(state, "management")


@get("/api/.well-known/experience.openapi.json", include_in_schema=False)
async def experience_openapi(state: State) -> dict[str, Any]:
    return await _merged(state, "experience")


@get("/api/.well-known/user.openapi.json", include_in_schema=False)
async def user_openapi(state: State) -> dict[str, Any]:
    return await _merged(state, "user")


@get("/ready", include_in_schema=False)
async def ready(state: State) -> Response[dict[str, Any]]:
    """The gateway is ready when it can route; upstream health is each service's own /ready."""
    return Response({"status": "ready"})


class Gateway:
    """ASGI entry: service routes go to the proxy, the rest to the litestar app (which answers 404)."""

    def __init__(self, app: Litestar, proxy: Proxy, table: RouteTable, access_log: bool) -> None:
        self.app = app
        self.proxy = proxy
        self.table = table
        self.own = frozenset(GATEWAY_ROUTES)
        self.traced = ObservabilityMiddleware(self._route, access_log)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.traced(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        service = None if path in self.own else self.table.resolve(path)
        if service is None:
            await self.app(scope, receive, send)
        else:
            await self.proxy(scope, receive, send, service)


def create_app(settings: GatewaySettings | None = None) -> Gateway:
    settings = settings or load_settings(GatewaySettings)
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    upstreams = upstreams_of(settings)
    proxy = Proxy(
        upstreams,
        max_body_bytes=settings.max_body_bytes,
        timeout=settings.upstream_timeout,
        connect_timeout=settings.upstream_connect_timeout,
        pool_size=settings.upstream_pool_size,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await proxy.start()
        tune_gc()
        try:
            yield
        finally:
            await proxy.close()

    app = Litestar(
        route_handlers=[health, ready, status, swagger, management_openapi, experience_openapi, user_openapi],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        state=State({"settings": settings, "openapi": OpenApiSource(upstreams)}),
        openapi_config=OpenAPIConfig(title="Gatehouse gateway", version="1.0.0", path="/openapi"),
    )
    return Gateway(app, proxy, RouteTable(), settings.log_level == "debug")
