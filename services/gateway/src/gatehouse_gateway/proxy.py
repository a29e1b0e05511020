"""The streaming reverse proxy: pooled keep-alive connections, bodies streamed both ways.

Adds `x-request-id`, `x-forwarded-*` and `traceparent`; enforces the body-size limit; answers an
unreachable service with 503 (connect timeout 1 s) and a slow one with 504, in Logto's error shape.
The upstream side is `upstream.py` (a lean HTTP/1.1 client); this side speaks granian's RSGI, whose
request and response calls cost the gateway about 40 % less CPU per proxied request than ASGI's
message dicts and awaited sends (bench/RESULTS.md).
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Protocol
from urllib.parse import quote

import msgspec
from gatehouse_platform import tracing
from gatehouse_platform.logging import get_logger
from gatehouse_platform.tracing import inject_headers
from granian.rsgi import ProtocolClosed, ProtocolError
from opentelemetry import trace
from opentelemetry.trace import SpanContext, SpanKind

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
_HOP_BY_HOP_RESPONSE = HOP_BY_HOP - {"content-length"}
_tracer = trace.get_tracer("gatehouse.gateway")
log = get_logger("gatehouse.gateway")
SMALL_BODY = 256 * 1024
PATH_SAFE = "/!$&'()*+,;=:@-._~"  # RFC 3986 pchar and "/", left as they are
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
Headers = list[tuple[str, str]]


class RSGIScope(Protocol):
    """What the proxy reads of granian's RSGI scope."""

    method: str
    path: str  # percent-decoded by granian
    query_string: str  # as sent
    scheme: str
    client: str  # "host:port"

    @property
    def headers(self) -> Any: ...  # RSGIHeaders: .items() gives every (lower-case name, value) pair


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


class ResponseAborted(Exception):
    """The upstream failed after the response started; raised to the server, which drops the connection."""


def encode_path(path: str) -> str:
    """The request path as it goes on the wire again (granian hands it over percent-decoded; an encoded
    `/` in a segment cannot be told from a separator any more, which Logto's ids never contain)."""
    return quote(path, safe=PATH_SAFE)


def error_body(code: str, message: str) -> bytes:
    return msgspec.json.encode({"code": code, "message": message})


def send_error(protocol: Any, status: int, code: str, message: str, request_id: str) -> None:
    headers = [("content-type", "application/json"), ("x-request-id", request_id)]
    protocol.response_bytes(status, headers, error_body(code, message))


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

    def start(self) -> None:
        self._pools = {name: Pool(url, self.pool_size, self.connect_timeout) for name, url in self.upstreams.items()}

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()

    async def _request_body(self, protocol: Any) -> AsyncIterator[bytes]:
        received = 0
        try:
            async for chunk in protocol:
                received += len(chunk)
                if received > self.max_body_bytes:
                    raise BodyTooLarge
                if chunk:
                    yield chunk
        except BodyTooLarge:
            raise
        except (ProtocolClosed, ProtocolError) as exc:  # the client went away mid-body
            raise ClientGone from exc

    async def __call__(
        self, scope: RSGIScope, protocol: Any, service: str, request_id: str, span: SpanContext | None = None
    ) -> None:
        """Forward one request to `service`; `request_id` is the client's `x-request-id`, or a new one;
        `span` is the gateway's span context, the upstream's parent (None when the SDK records spans: then
        a CLIENT span of the current one)."""
        headers: dict[str, str] = {}
        content_length: int | None = None
        chunked = False
        host = ""
        for key, value in scope.headers.items():
            if key == "content-length":
                content_length = int(value) if value.isdigit() else None
            elif key == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif key == "host":
                host = value
            if key in headers:  # a repeated header: joined as RFC 9110 §5.3 allows (cookies with "; ")
                headers[key] += ("; " if key == "cookie" else ", ") + value
            elif key not in HOP_BY_HOP:
                headers[key] = value
        if content_length is not None and content_length > self.max_body_bytes:
            self._too_large(protocol, request_id)
            return
        headers["x-request-id"] = request_id
        client = scope.client.rpartition(":")[0] if ":" in scope.client else scope.client
        forwarded_for = headers.get("x-forwarded-for")
        headers["x-forwarded-for"] = f"{forwarded_for}, {client}" if forwarded_for else client
        headers.setdefault("x-forwarded-proto", scope.scheme)
        if host:
            headers.setdefault("x-forwarded-host", host)
        method = scope.method
        has_body = (content_length or 0) > 0 or chunked
        body: bytes | None = None
        stream = False
        if has_body and not chunked and content_length is not None and content_length <= SMALL_BODY:
            try:
                body = b"".join([chunk async for chunk in self._request_body(protocol)])
            except BodyTooLarge:
                self._too_large(protocol, request_id)
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

        if span is None:
            with _tracer.start_as_current_span(f"proxy {service}", kind=SpanKind.CLIENT) as client_span:
                client_span.set_attribute("gatehouse.upstream", service)
                inject_headers(headers)
                await self._exchange(scope, protocol, service, headers, body, stream, request_id)
            return
        headers["traceparent"] = tracing.traceparent_of(span)
        if span.trace_state:
            headers["tracestate"] = span.trace_state.to_header()
        await self._exchange(scope, protocol, service, headers, body, stream, request_id)

    def _too_large(self, protocol: Any, request_id: str) -> None:
        message = f"The request body is larger than {self.max_body_bytes} bytes."
        send_error(protocol, 413, "request.payload_too_large", message, request_id)

    @staticmethod
    def _head(pool: Pool, scope: RSGIScope, headers: dict[str, str]) -> bytes:
        target = pool.prefix + encode_path(scope.path)
        if scope.query_string:
            target += "?" + scope.query_string
        lines = [f"{scope.method} {target} HTTP/1.1", "host: " + pool.host_header.decode("latin-1")]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _send_request(
        self, pool: Pool, method: str, head: bytes, body: bytes | None, protocol: Any | None, chunked: bool
    ) -> Response:
        """`protocol` is given when the request body is streamed from the client."""
        for attempt in (0, 1):
            conn = await pool.acquire()
            try:
                if protocol is None:
                    conn.writer.write(head + body if body else head)
                else:
                    conn.writer.write(head)
                    await self._stream_body(conn, protocol, chunked)
                return await read_response(conn, method == "HEAD")
            except (OSError, asyncio.IncompleteReadError, UpstreamError) as exc:
                pool.release(conn, False)
                # a kept-alive connection the service closed meanwhile: once more on a new one, when safe
                if attempt == 0 and conn.reused and protocol is None and method in IDEMPOTENT:
                    continue
                raise UpstreamError(repr(exc)) from exc
            except BaseException:
                pool.release(conn, False)
                raise
        raise AssertionError("not reached")

    async def _stream_body(self, conn: Connection, protocol: Any, chunked: bool) -> None:
        writer = conn.writer
        async for chunk in self._request_body(protocol):
            writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")

    async def _exchange(
        self,
        scope: RSGIScope,
        protocol: Any,
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
                chunked = "transfer-encoding" in headers
                resp = await self._send_request(pool, scope.method, head, body, protocol if stream else None, chunked)
                try:
                    out: Headers = [(k, v) for k, v in resp.headers if k not in _HOP_BY_HOP_RESPONSE]
                    if not any(k == "x-request-id" for k, _ in out):
                        out.append(("x-request-id", request_id))
                    if not resp.has_body or (resp.content_length is not None and resp.content_length <= SMALL_BODY):
                        # the common API answer: read it whole, then answer in one call (a service failing
                        # mid-body then still gets a clean 503/504 in the error shape)
                        data = await resp.read_all()
                        protocol.response_bytes(resp.status, out, data)
                        started = True
                    else:
                        transport = protocol.response_stream(resp.status, out)
                        started = True
                        try:
                            async for chunk in resp.iter_body():
                                await transport.send_bytes(chunk)
                        except ProtocolClosed:  # the client left mid-download: the upstream connection goes
                            return
                finally:
                    pool.release(resp.conn, resp.done and resp.keep_alive)
        except BodyTooLarge:
            self._too_large(protocol, request_id)
        except ClientGone:
            return
        except Exception as exc:
            if started:  # the client has a status line already: abort, so it cannot take the body as whole
                raise ResponseAborted(f"{service} failed mid-response: {exc!r}") from exc
            if isinstance(exc, TimeoutError):
                log.warning("upstream timed out", service=service, path=scope.path, status=504)
                message = f"The {service} service did not answer in time."
                send_error(protocol, 504, "request.upstream_timeout", message, request_id)
            elif isinstance(exc, UpstreamError | OSError | asyncio.IncompleteReadError):
                log.warning("upstream unavailable", service=service, path=scope.path, status=503, error=repr(exc))
                message = f"The {service} service is unavailable."
                send_error(protocol, 503, "request.service_unavailable", message, request_id)
            else:
                raise
