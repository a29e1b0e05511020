"""Serves the gateway's own litestar routes (status, the merged OpenAPI, health, the 404 answer) from
granian's RSGI interface: an RSGI request in, one ASGI call, the collected answer out in one response.

The routes are small GETs with small JSON answers, so the request body is read whole and the response
is collected before it is sent.
"""

from typing import Any

from litestar import Litestar
from litestar.types import Message

from gatehouse_gateway.proxy import encode_path


def _address(value: str) -> tuple[str, int] | None:
    host, _, port = value.rpartition(":")
    return (host, int(port)) if host and port.isdigit() else None


async def call_asgi(app: Litestar, scope: Any, protocol: Any, request_id: str) -> None:
    body = await protocol()
    asgi_scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": scope.http_version,
        "method": scope.method,
        "scheme": scope.scheme,
        "path": scope.path,
        "raw_path": encode_path(scope.path).encode("latin-1"),
        "query_string": scope.query_string.encode("latin-1"),
        "root_path": "",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in scope.headers.items()],
        "client": _address(scope.client),
        "server": _address(scope.server),
        "state": {},
    }
    sent_body = False

    async def receive() -> Any:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await protocol.client_disconnect()
        return {"type": "http.disconnect"}

    status = 500
    headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(asgi_scope, receive, send)  # type: ignore[arg-type]
    if not any(k.lower() == "x-request-id" for k, _ in headers):
        headers.append(("x-request-id", request_id))
    protocol.response_bytes(status, headers, b"".join(chunks))
