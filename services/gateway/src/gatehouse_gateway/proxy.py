"""The streaming reverse proxy: pooled keep-alive connections, bodies streamed both ways.

Adds `x-request-id`, `x-forwarded-*` and `traceparent`; enforces the body-size limit; answers an
unreachable service with 503 (connect timeout 1 s) and a slow one with 504, in Logto's error shape.
The upstream side is `upstream.py` (a lean HTTP/1.1 client); this side speaks plain ASGI.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from gatehouse_platform import tracing
from gatehouse_platform.tracing import inject_headers
from litestar.types import Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from gatehouse_gateway.upstream import Connection, Pool, Response, UpstreamError, read_response

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
_HOP_BY_HOP_RESPONSE = frozenset(h.encode() for h in HOP_BY_HOP - {"content-length"})
_tracer = trace.get_tracer("gatehouse.gateway")
SMALL_BODY = 256 * 1024


class BodyTooLarge(Exception):
    pass


class ResponseAborted(Exception):
    """The upstream failed after the response started; raised to the server, which drops the connection."""


async def send_error(send: Send, status: int, code: str, message: str, request_id: str) -> None:
    body = msgspec.json.encode({"code": code, "message": message})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


class Proxy:
    def __init__(
        self,
        upstreams: dict[str, str],
        *,
        max_body_bytes: int,
        timeout: float,
        connect_timeout: float,
        pool_size: int,
    ) -> None:
        self.upstreams = {name: url.rstrip("/") for name, url in upstreams.items()}
        self.max_body_bytes = max_body_bytes
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.pool_size = pool_size
        self._pools: dict[str, Pool] = {}

    async def start(self) -> None:
        self._pools = {name: Pool(url, self.pool_size, self.connect_timeout) for name, url in self.upstreams.items()}

    async def close(self) -> None:
        for pool in self._pools.values():
            pool.close()

    async def _request_body(self, receive: Receive) -> AsyncIterator[bytes]:
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk: bytes = message.get("body", b"")  # type: ignore[assignment]
            received += len(chunk)
            if received > self.max_body_bytes:
                raise BodyTooLarge
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def __call__(self, scope: Scope, receive: Receive, send: Send, service: str) -> None:
        request_headers = scope["headers"]
        headers: dict[str, str] = {}
        request_id = ""
        content_length: int | None = None
        chunked = False
        for raw_key, raw_value in request_headers:
            key = raw_key.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if key == "content-length":
                content_length = int(value) if value.isdigit() else None
            elif key == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif key == "x-request-id":
                request_id = value
            if key in headers:  # a repeated header: joined as RFC 9110 §5.3 allows (cookies with "; ")
                headers[key] += ("; " if key == "cookie" else ", ") + value
            elif key not in HOP_BY_HOP:
                headers[key] = value
        request_id = request_id or os.urandom(16).hex()
        if content_length is not None and content_length > self.max_body_bytes:
            await self._too_large(send, request_id)
            return
        client = scope.get("client")
        host = next((v for k, v in request_headers if k == b"host"), b"").decode("latin-1")
        headers["x-request-id"] = request_id
        headers["x-forwarded-for"] = ", ".join(
            x for x in (headers.get("x-forwarded-for"), client[0] if client else None) if x
        )
        headers.setdefault("x-forwarded-proto", scope.get("scheme", "http"))
        if host:
            headers.setdefault("x-forwarded-host", host)
        method: str = scope["method"]  # type: ignore[typeddict-item]
        has_body = (content_length or 0) > 0 or chunked
        body: bytes | None = None
        stream = False
        if has_body and not chunked and content_length is not None and content_length <= SMALL_BODY:
            try:
                body = b"".join([chunk async for chunk in self._request_body(receive)])
            except BodyTooLarge:
                await self._too_large(send, request_id)
                return
            except ClientGone:
                return
            headers["content-length"] = str(len(body))
        elif has_body:
            stream = True
            if chunked:
                headers["transfer-encoding"] = "chunked"
            else:
                headers["content-length"] = str(content_length)
        elif method in ("POST", "PUT", "PATCH"):
            headers["content-length"] = "0"

        if tracing.recording():
            with _tracer.start_as_current_span(f"proxy {service}", kind=SpanKind.CLIENT) as span:
                span.set_attribute("gatehouse.upstream", service)
                inject_headers(headers)
                await self._exchange(scope, receive, send, service, headers, body, stream, request_id)
            return
        current = trace.get_current_span().get_span_context()
        span_context = tracing.child_context(current if current.is_valid else None)
        headers["traceparent"] = tracing.traceparent_of(span_context)
        if span_context.trace_state:
            headers["tracestate"] = span_context.trace_state.to_header()
        await self._exchange(scope, receive, send, service, headers, body, stream, request_id)

    async def _too_large(self, send: Send, request_id: str) -> None:
        message = f"The request body is larger than {self.max_body_bytes} bytes."
        await send_error(send, 413, "request.payload_too_large", message, request_id)

    def _head(self, pool: Pool, scope: Scope, headers: dict[str, str]) -> bytes:
        target = pool.prefix + scope["raw_path"].decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        lines = [f"{scope['method']} {target} HTTP/1.1", "host: " + pool.host_header.decode("latin-1")]  # type: ignore[typeddict-item]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _send_request(
        self, pool: Pool, scope: Scope, head: bytes, body: bytes | None, receive: Receive | None, chunked: bool
    ) -> Response:
        method: str = scope["method"]  # type: ignore[typeddict-item]
        for attempt in (0, 1):
            conn = await pool.acquire()
            try:
                if receive is None:
                    conn.writer.write(head + body if body else head)
                else:
                    conn.writer.write(head)
                    await self._stream_body(conn, receive, chunked)
                return await read_response(conn, method == "HEAD")
            except (OSError, asyncio.IncompleteReadError, UpstreamError) as exc:
                pool.release(conn, False)
                # a kept-alive connection the service closed meanwhile: once more on a new one, when safe
                if attempt == 0 and conn.reused and receive is None and method in IDEMPOTENT:
                    continue
                raise UpstreamError(repr(exc)) from exc
            except BaseException:
                pool.release(conn, False)
                raise
        raise AssertionError("not reached")

    async def _stream_body(self, conn: Connection, receive: Receive, chunked: bool) -> None:
        writer = conn.writer
        async for chunk in self._request_body(receive):
            writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")

    async def _exchange(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        service: str,
        headers: dict[str, str],
        body: bytes | None,
        stream: bool,
        request_id: str,
    ) -> None:
        pool = self._pools[service]
        started = False
        try:
            async with asyncio.timeout(self.timeout):
                head = self._head(pool, scope, headers)
                resp = await self._send_request(
                    pool, scope, head, body, receive if stream else None, "transfer-encoding" in headers
                )
                try:
                    response_headers = [(k, v) for k, v in resp.headers if k.lower() not in _HOP_BY_HOP_RESPONSE]
                    if not any(k.lower() == b"x-request-id" for k, _ in response_headers):
                        response_headers.append((b"x-request-id", request_id.encode()))
                    start: Any = {"type": "http.response.start", "status": resp.status, "headers": response_headers}
                    if not resp.has_body or (resp.content_length is not None and resp.content_length <= SMALL_BODY):
                        # the common API answer: read it whole, then one start and one body message (a
                        # service failing mid-body then still gets a clean 503/504 in the error shape)
                        data = await resp.read_all()
                        await send(start)
                        started = True
                        await send({"type": "http.response.body", "body": data, "more_body": False})
                    else:
                        await send(start)
                        started = True
                        async for chunk in resp.iter_body():
                            await send({"type": "http.response.body", "body": chunk, "more_body": True})
                        await send({"type": "http.response.body", "body": b"", "more_body": False})
                finally:
                    pool.release(resp.conn, resp.done and resp.keep_alive)
        except BodyTooLarge:
            await self._too_large(send, request_id)
        except ClientGone:
            return
        except Exception as exc:
            if started:  # the client has a status line already: abort, so it cannot take the body as whole
                raise ResponseAborted(f"{service} failed mid-response: {exc!r}") from exc
            if isinstance(exc, TimeoutError):
                message = f"The {service} service did not answer in time."
                await send_error(send, 504, "request.upstream_timeout", message, request_id)
            elif isinstance(exc, UpstreamError | OSError | asyncio.IncompleteReadError):
                message = f"The {service} service is unavailable."
                await send_error(send, 503, "request.service_unavailable", message, request_id)
            else:
                raise
