"""Plain ASGI middleware: request id, trace context and (optionally) an access log line per request.

Cheap by construction, since it wraps every request of every service: one pass over the request
headers, a ContextVar for the request id (read by the log processor), the span context made current
without the SDK's tracer unless spans are exported (see `tracing.enter_span`), and the response
headers touched only to add `x-request-id` when the app did not set one.
"""

import os
import time
from collections.abc import Awaitable, Callable

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry.trace import SpanKind

from gatehouse_platform import tracing
from gatehouse_platform.logging import get_logger, request_id_var

log = get_logger("gatehouse.http")
_tracer = tracing.tracer("gatehouse.http")


def request_headers(scope: Scope) -> tuple[str, bytes | None, bytes | None]:
    """(x-request-id, traceparent, tracestate) of a request; a request id is made up when absent and
    added to the scope's headers, as if the client had sent it (the gateway's proxy passes it on)."""
    request_id = ""
    traceparent = tracestate = None
    for key, value in scope["headers"]:
        if key == b"x-request-id":
            request_id = value.decode("latin-1")
        elif key == b"traceparent":
            traceparent = value
        elif key == b"tracestate":
            tracestate = value
    if not request_id:
        request_id = os.urandom(16).hex()
        scope["headers"] = [*scope["headers"], (b"x-request-id", request_id.encode())]
    return request_id, traceparent, tracestate


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, access_log: bool) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, traceparent, tracestate = request_headers(scope)
        request_id_bytes = request_id.encode()
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = list(message.get("headers", ()))
                for k, _ in out:
                    if k.lower() == b"x-request-id":
                        break
                else:
                    out.append((b"x-request-id", request_id_bytes))
                message["headers"] = out
            await send(message)

        async def run() -> None:  # inside the span, so that the log line carries its ids
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                if self.access_log or status >= 500:
                    self._log(scope, status, started)

        id_token = request_id_var.set(request_id)
        try:
            if tracing.recording():
                await self._traced(scope, run, traceparent, tracestate, lambda: status)
            else:
                parent = tracing.parse_traceparent(traceparent, tracestate)
                span_token = tracing.enter_span(tracing.child_context(parent))
                try:
                    await run()
                finally:
                    tracing.exit_span(span_token)
        finally:
            request_id_var.reset(id_token)

    async def _traced(
        self,
        scope: Scope,
        run: Callable[[], Awaitable[None]],
        traceparent: bytes | None,
        tracestate: bytes | None,
        status: Callable[[], int],
    ) -> None:
        """Spans are exported: a recording SERVER span from the SDK."""
        carrier: dict[str, str] = {}
        if traceparent is not None:
            carrier["traceparent"] = traceparent.decode("latin-1")
        if tracestate is not None:
            carrier["tracestate"] = tracestate.decode("latin-1")
        method, path = scope["method"], scope["path"]  # type: ignore[typeddict-item]
        with _tracer.start_as_current_span(
            f"{method} {path}", context=tracing.extract_context(carrier), kind=SpanKind.SERVER
        ) as span:
            try:
                await run()
            finally:
                span.set_attribute("http.request.method", method)
                span.set_attribute("url.path", path)
                span.set_attribute("http.response.status_code", status())

    @staticmethod
    def _log(scope: Scope, status: int, started: float) -> None:
        log.info(
            "request",
            method=scope["method"],  # type: ignore[typeddict-item]
            path=scope["path"],
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
