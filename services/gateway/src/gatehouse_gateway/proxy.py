"""The streaming reverse proxy: pooled keep-alive connections, bodies streamed both ways.

Adds `x-request-id`, `x-forwarded-*` and `traceparent`; enforces the body-size limit; answers an
unreachable service with 503 (connect timeout 1 s) and a slow one with 504, in Logto's error shape.
"""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec
from gatehouse_platform.tracing import inject_headers
from litestar.types import Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.trace import SpanKind

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
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout, connect=connect_timeout)
        self.pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.pool_size, keepalive_timeout=30, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, timeout=self.timeout, skip_auto_headers=("User-Agent",)
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("proxy not started")
        return self._session

    async def _request_body(self, receive: Receive) -> AsyncIterator[bytes]:
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk: bytes = message.get("body", b"")  # type: ignore[assignment]
            received += len(chunk)
            if received > self.max_body_bytes:
                raise BodyTooLarge
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def __call__(self, scope: Scope, receive: Receive, send: Send, service: str) -> None:
        request_headers = list(scope["headers"])
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
        request_id = request_id or uuid.uuid4().hex
        if content_length is not None and content_length > self.max_body_bytes:
            await send_error(
                send,
                413,
                "request.payload_too_large",
                f"The request body is larger than {self.max_body_bytes} bytes.",
                request_id,
            )
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
        url = self.upstreams[service] + scope["raw_path"].decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        has_body = (content_length or 0) > 0 or chunked
        data: Any = self._request_body(receive) if has_body else None
        if content_length is not None and has_body:
            headers["content-length"] = str(content_length)

        started = False
        with _tracer.start_as_current_span(f"proxy {service}", kind=SpanKind.CLIENT) as span:
            span.set_attribute("gatehouse.upstream", service)
            inject_headers(headers)
            try:
                try:
                    async with self.session.request(
                        scope["method"],  # type: ignore[typeddict-item]
                        url,
                        headers=headers,
                        data=data,
                        allow_redirects=False,
                        compress=None,
                    ) as resp:
                        response_headers = [
                            (k, v)
                            for k, v in resp.raw_headers
                            if k.lower().decode("latin-1") not in HOP_BY_HOP or k.lower() == b"content-length"
                        ]
                        if not any(k.lower() == b"x-request-id" for k, _ in response_headers):
                            response_headers.append((b"x-request-id", request_id.encode()))
                        if resp.content_length is not None and resp.content_length <= SMALL_BODY:
                            # the common API answer: read it whole, then one start and one body message (a
                            # service failing mid-body then still gets a clean 503/504 in the error shape)
                            body = await resp.content.readexactly(resp.content_length)
                            start = {"type": "http.response.start", "status": resp.status, "headers": response_headers}
                            await send(start)  # type: ignore[arg-type]
                            started = True
                            await send({"type": "http.response.body", "body": body, "more_body": False})
                        else:
                            await send(
                                {"type": "http.response.start", "status": resp.status, "headers": response_headers}
                            )
                            started = True
                            async for chunk in resp.content.iter_chunked(65536):
                                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                            await send({"type": "http.response.body", "body": b"", "more_body": False})
                except Exception as exc:
                    if started:  # the client has a status line already: abort, so it cannot take the body as whole
                        raise ResponseAborted(f"{service} failed mid-response: {exc!r}") from exc
                    if isinstance(exc.__cause__, BodyTooLarge):  # aiohttp wraps what the body iterator raised
                        raise BodyTooLarge from exc
                    raise
            except BodyTooLarge:
                await send_error(
                    send,
                    413,
                    "request.payload_too_large",
                    f"The request body is larger than {self.max_body_bytes} bytes.",
                    request_id,
                )
            except (
                aiohttp.ClientConnectorError,
                aiohttp.ConnectionTimeoutError,
                aiohttp.ServerDisconnectedError,
                ConnectionError,
            ):
                await send_error(
                    send, 503, "request.service_unavailable", f"The {service} service is unavailable.", request_id
                )
            except (TimeoutError, aiohttp.ServerTimeoutError):
                await send_error(
                    send, 504, "request.upstream_timeout", f"The {service} service did not answer in time.", request_id
                )
            except aiohttp.ClientConnectionError:  # e.g. the connection reset by the service
                await send_error(
                    send, 503, "request.service_unavailable", f"The {service} service is unavailable.", request_id
                )
