"""The gateway: granian's RSGI interface in front, where the route table sends everything that belongs
to a service straight to the streaming proxy, and a litestar app for its own routes behind a small ASGI
bridge. RSGI instead of ASGI for the front because the proxy is the one hot path here: its request and
response calls cost about 40 % less CPU per proxied request (docs/architecture.md, bench/RESULTS.md)."""

import asyncio
import os
import time
from typing import Any

from gatehouse_platform import tracing
from gatehouse_platform.config import load_settings
from gatehouse_platform.logging import configure_logging, get_logger, request_id_var
from gatehouse_platform.openapi import merge_documents
from gatehouse_platform.service import EXCEPTION_HANDLERS, health, tune_gc
from gatehouse_platform.tracing import configure_tracing
from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.status_codes import HTTP_204_NO_CONTENT
from opentelemetry.trace import SpanContext, SpanKind

from gatehouse_gateway.asgi_bridge import call_asgi
from gatehouse_gateway.config import GatewaySettings
from gatehouse_gateway.openapi_source import OpenApiSource
from gatehouse_gateway.proxy import Proxy, RSGIScope
from gatehouse_gateway.routes import GATEWAY_ROUTES, SERVICES, RouteTable

log = get_logger("gatehouse.http")
_tracer = tracing.tracer("gatehouse.http")


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


@get(
    "/api/.well-known/management.openapi.json",
    operation_id="GetWellKnownManagementOpenapiJson",
    tags=["Well-known"],
    summary="Get Management API swagger JSON",
)
async def management_openapi(state: State) -> dict[str, Any]:
    return await _merged(state, "management")


@get(
    "/api/.well-known/experience.openapi.json",
    operation_id="GetWellKnownExperienceOpenapiJson",
    tags=["Well-known"],
    summary="Get Experience API swagger JSON",
)
async def experience_openapi(state: State) -> dict[str, Any]:
    return await _merged(state, "experience")


@get(
    "/api/.well-known/user.openapi.json",
    operation_id="GetWellKnownUserOpenapiJson",
    tags=["Well-known"],
    summary="Get User API swagger JSON",
)
async def user_openapi(state: State) -> dict[str, Any]:
    return await _merged(state, "user")


@get("/ready", include_in_schema=False)
async def ready(state: State) -> Response[dict[str, Any]]:
    """The gateway is ready when it can route; upstream health is each service's own /ready."""
    return Response({"status": "ready"})


class _StatusRecorder:
    """The RSGI protocol, noting the status it answers with (for the access log)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.status = 500

    def __call__(self) -> Any:
        return self.inner()

    def __aiter__(self) -> Any:
        return self.inner.__aiter__()

    def client_disconnect(self) -> Any:
        return self.inner.client_disconnect()

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.inner.response_bytes(status, headers, body)

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Any:
        self.status = status
        return self.inner.response_stream(status, headers)


class Gateway:
    """The RSGI application granian serves (`--interface rsgi`): request id and trace context for every
    request, then the proxy for service routes and the litestar app for the rest (which answers 404)."""

    def __init__(self, app: Litestar, proxy: Proxy, table: RouteTable, access_log: bool) -> None:
        self.app = app
        self.proxy = proxy
        self.table = table
        self.own = frozenset(GATEWAY_ROUTES)
        self.access_log = access_log

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.proxy.start()
        tune_gc()

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.proxy.close()

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        headers = scope.headers
        request_id = headers.get("x-request-id") or os.urandom(16).hex()
        traceparent, tracestate = headers.get("traceparent"), headers.get("tracestate")
        recorder = _StatusRecorder(protocol) if self.access_log else None
        started = time.perf_counter()
        id_token = request_id_var.set(request_id)
        try:
            if tracing.recording():
                await self._traced(scope, recorder or protocol, request_id, traceparent, tracestate)
            else:
                # the gateway's span is only a context here: its ids go upstream as the parent (no SDK span,
                # nothing made current: the proxy is handed the context)
                parent = tracing.parse_traceparent(
                    traceparent.encode("latin-1") if traceparent else None,
                    tracestate.encode("latin-1") if tracestate else None,
                )
                await self._route(scope, recorder or protocol, request_id, tracing.child_context(parent))
            if recorder is not None:
                log.info(
                    "request",
                    method=scope.method,
                    path=scope.path,
                    status=recorder.status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
        finally:
            request_id_var.reset(id_token)

    async def _traced(
        self, scope: Any, protocol: Any, request_id: str, traceparent: str | None, tracestate: str | None
    ) -> None:
        """Spans are exported: a recording SERVER span from the SDK around the request."""
        carrier = {k: v for k, v in (("traceparent", traceparent), ("tracestate", tracestate)) if v}
        with _tracer.start_as_current_span(
            f"{scope.method} {scope.path}", context=tracing.extract_context(carrier), kind=SpanKind.SERVER
        ) as span:
            span.set_attribute("http.request.method", scope.method)
            span.set_attribute("url.path", scope.path)
            await self._route(scope, protocol, request_id, None)

    async def _route(self, scope: RSGIScope, protocol: Any, request_id: str, span: SpanContext | None) -> None:
        """`span`: the gateway's span context when spans are not exported (else the SDK's current span)."""
        path = scope.path
        service = None if path in self.own else self.table.resolve(path)
        if service is None:
            if span is None:
                await call_asgi(self.app, scope, protocol, request_id)
                return
            token = tracing.enter_span(span)  # the litestar routes' log lines carry the trace ids
            try:
                await call_asgi(self.app, scope, protocol, request_id)
            finally:
                tracing.exit_span(token)
        else:
            await self.proxy(scope, protocol, service, request_id, span)


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

    app = Litestar(
        route_handlers=[health, ready, status, swagger, management_openapi, experience_openapi, user_openapi],
        exception_handlers=EXCEPTION_HANDLERS,
        state=State({"settings": settings, "openapi": OpenApiSource(upstreams)}),
        openapi_config=OpenAPIConfig(title="Gatehouse gateway", version="1.0.0", path="/openapi"),
    )
    return Gateway(app, proxy, RouteTable(), settings.log_level == "debug")
