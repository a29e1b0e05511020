"""ASGI middleware: request id, trace context and (optionally) an access log line per request."""

import os
import time

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from gatehouse_platform.logging import get_logger
from gatehouse_platform.tracing import extract_context

log = get_logger("gatehouse.http")
_tracer = trace.get_tracer("gatehouse.http")


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, access_log: bool) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        carrier: dict[str, str] = {}
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                request_id = value.decode("latin-1")
            elif key == b"traceparent" or key == b"tracestate":
                carrier[key.decode()] = value.decode("latin-1")
        if not request_id:  # make it visible to the app (and to the gateway's proxy) as if the client sent it
            request_id = os.urandom(16).hex()
            scope["headers"] = [*scope["headers"], (b"x-request-id", request_id.encode())]
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = list(message.get("headers", []))
                if not any(k.lower() == b"x-request-id" for k, _ in out):
                    out.append((b"x-request-id", request_id.encode()))
                message["headers"] = out
            await send(message)

        method = scope["method"]  # type: ignore[typeddict-item]
        path = scope["path"]
        with _tracer.start_as_current_span(
            f"{method} {path}", context=extract_context(carrier), kind=SpanKind.SERVER
        ) as span:
            with structlog.contextvars.bound_contextvars(request_id=request_id):
                try:
                    await self.app(scope, receive, send_with_id)
                finally:
                    span.set_attribute("http.request.method", method)
                    span.set_attribute("url.path", path)
                    span.set_attribute("http.response.status_code", status)
                    if self.access_log or status >= 500:
                        log.info(
                            "request",
                            method=method,
                            path=path,
                            status=status,
                            duration_ms=round((time.perf_counter() - started) * 1000, 2),
                        )
