"""The gateway as a real granian process in front of small aiohttp upstreams started by the test.

Checks the streaming proxy end to end over real sockets: bodies both ways, the headers it adds,
the size limit, and Logto-shaped errors for an unreachable (503) or slow (504) service.
"""

import asyncio
import contextlib
import hashlib
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from gatehouse_gateway.config import GatewaySettings
from gatehouse_platform.config import load_settings
from gatehouse_testing.plugin import free_port

MAX_BODY = 1024 * 1024
UPSTREAM_TIMEOUT = 1.0
BIG = random.Random(42).randbytes(5 * 1024 * 1024)
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


class Upstream:
    """An aiohttp server on its own event loop in a background thread."""

    def __init__(self) -> None:
        self.port = free_port()
        self.hits: Counter[str] = Counter()
        self.gate = threading.Event()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="upstream", daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/applications/echo{tail:.*}", self.echo)
        app.router.add_get("/api/applications/big", self.big)
        app.router.add_get("/api/applications/gated", self.gated)
        app.router.add_get("/api/applications/status", self.status)
        app.router.add_get("/api/applications/with-id", self.with_request_id)
        app.router.add_get("/api/logs/slow", self.slow)
        app.router.add_get("/api/logs/slow-body", self.slow_body)
        app.router.add_get("/openapi/openapi.json", self.openapi)
        return app

    async def echo(self, request: web.Request) -> web.Response:
        self.hits["echo"] += 1
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "raw_path": request.raw_path,
                "headers": [[k.decode("latin-1").lower(), v.decode("latin-1")] for k, v in request.raw_headers],
                "length": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            }
        )

    async def big(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "application/octet-stream"})
        if request.query.get("length"):
            resp.content_length = len(BIG)
        await resp.prepare(request)
        for i in range(0, len(BIG), 100_000):
            await resp.write(BIG[i : i + 100_000])
        await resp.write_eof()
        return resp

    async def gated(self, request: web.Request) -> web.StreamResponse:
        """Sends `first`, then waits until the client says it has it: a buffering proxy would deadlock."""
        resp = web.StreamResponse(headers={"content-type": "text/plain"})
        await resp.prepare(request)
        await resp.write(b"first;")
        released = await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 5.0)
        await resp.write(b"rest" if released else b"buffered")
        await resp.write_eof()
        return resp

    async def status(self, request: web.Request) -> web.Response:
        resp = web.Response(status=201, body=b'{"ok":true}', content_type="application/json")
        resp.headers["x-custom"] = "yes"
        resp.headers.add("set-cookie", "a=1; Path=/")
        resp.headers.add("set-cookie", "b=2; Path=/")
        return resp

    async def with_request_id(self, request: web.Request) -> web.Response:
        """Like a real service: echoes the request id it got."""
        return web.json_response({}, headers={"x-request-id": request.headers.get("x-request-id", "")})

    async def slow(self, request: web.Request) -> web.Response:
        self.hits["slow"] += 1
        await asyncio.sleep(UPSTREAM_TIMEOUT * 4)
        return web.json_response({"late": True})

    async def slow_body(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/plain"})
        if request.query.get("length") == "big":  # more than the proxy reads whole before answering
            resp.content_length = 1024 * 1024
        elif request.query.get("length"):
            resp.content_length = 100
        await resp.prepare(request)
        await resp.write(b"partial")
        await asyncio.sleep(UPSTREAM_TIMEOUT * 4)
        await resp.write_eof()
        return resp

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "openapi": "3.0.1",
                "paths": {
                    "/api/applications": {"get": {"operationId": "ListApplications", "tags": ["Applications"]}},
                    "/health": {"get": {"operationId": "Health"}},
                },
                "components": {"schemas": {}},
            }
        )

    def start(self) -> None:
        self._thread.start()

        async def setup() -> None:
            self._runner = web.AppRunner(self.app(), handler_cancellation=True, shutdown_timeout=1.0)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

        asyncio.run_coroutine_threadsafe(setup(), self.loop).result(10)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dead_port() -> int:
    """A port nothing listens on (the organizations upstream)."""
    return free_port()


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


@contextlib.contextmanager
def run_gateway(log_dir: Path, **overrides: Any) -> Iterator[str]:
    """`gatehouse-gateway serve` (granian) configured from GatewaySettings, as its environment."""
    values: dict[str, Any] = {
        "port": free_port(),
        "public_url": "http://gateway.test",
        "max_body_bytes": MAX_BODY,
        "upstream_timeout": UPSTREAM_TIMEOUT,
        "log_level": "warning",
    }
    settings = load_settings(GatewaySettings, environ={}, **(values | overrides))
    env = dict(os.environ)
    for name in settings.__struct_fields__:
        value = getattr(settings, name)
        if value is not None:
            env[name.upper()] = str(value)
    log_path = log_dir / "gateway.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([_bin("gatehouse-gateway"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{settings.port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, f"gateway exited: {log_path.read_text()}"
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"gateway did not start: {log_path.read_text()}"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def gateway(upstream: Upstream, dead_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_gateway(
        tmp_path_factory.mktemp("gateway"),
        identity_url=upstream.url,
        management_url=upstream.url,
        organizations_url=f"http://127.0.0.1:{dead_port}",
        hooks_audit_url=upstream.url,
        experience_url=upstream.url,
    ) as url:
        yield url


class ResettingServer:
    """Accepts, reads the request, then resets the connection (RST) without answering."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port: int = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, name="resetting", daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with contextlib.suppress(OSError):
                conn.recv(65536)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class BlackHole:
    """A listener whose accept queue is full and never drained: connecting to it hangs (no SYN-ACK)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port: int = self.sock.getsockname()[1]
        self.fillers: list[socket.socket] = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", self.port))
            self.fillers.append(filler)
        time.sleep(0.2)

    def close(self) -> None:
        for s in [*self.fillers, self.sock]:
            s.close()


@pytest.fixture(scope="module")
def broken_gateway(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """identity resets every connection; experience never accepts one."""
    resetting, hole = ResettingServer(), BlackHole()
    try:
        with run_gateway(
            tmp_path_factory.mktemp("broken-gateway"),
            identity_url=f"http://127.0.0.1:{resetting.port}",
            management_url=upstream.url,
            organizations_url=upstream.url,
            hooks_audit_url=upstream.url,
            experience_url=f"http://127.0.0.1:{hole.port}",
            upstream_timeout=5.0,  # longer than the connect timeout (1 s), so that one fires
        ) as url:
            yield url
    finally:
        resetting.close()
        hole.close()


@pytest.fixture(scope="module")
def client(gateway: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway, timeout=15) as c:
        yield c


def _headers(echo: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in echo["headers"] if k == name]


def assert_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = resp.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


# --- bodies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [False, True], ids=["chunked", "content-length"])
def test_large_response_streams_intact(client: httpx.Client, length: bool) -> None:
    resp = client.get("/api/applications/big", params={"length": "1"} if length else None)
    assert resp.status_code == 200
    assert len(resp.content) == len(BIG)
    assert hashlib.sha256(resp.content).digest() == hashlib.sha256(BIG).digest()
    if length:
        assert resp.headers["content-length"] == str(len(BIG))


def test_response_is_streamed_not_buffered(client: httpx.Client, upstream: Upstream) -> None:
    upstream.gate.clear()
    received = b""
    with client.stream("GET", "/api/applications/gated") as resp:
        assert resp.status_code == 200
        chunks = resp.iter_raw()
        started = time.monotonic()
        while b"first;" not in received:
            received += next(chunks)
        assert time.monotonic() - started < 4, "the first chunk came only with the end of the body"
        upstream.gate.set()
        for chunk in chunks:
            received += chunk
    assert received == b"first;rest"


def test_request_body_forwarded(client: httpx.Client) -> None:
    body = random.Random(7).randbytes(MAX_BODY - 1)
    resp = client.post("/api/applications/echo", content=body, headers={"content-type": "application/octet-stream"})
    assert resp.status_code == 200
    echo = resp.json()
    assert echo["method"] == "POST"
    assert echo["length"] == len(body)
    assert echo["sha256"] == hashlib.sha256(body).hexdigest()
    assert _headers(echo, "content-type") == ["application/octet-stream"]
    assert _headers(echo, "content-length") == [str(len(body))]


def test_chunked_request_body_forwarded(client: httpx.Client) -> None:
    parts = [b"x" * 10_000, b"y" * 20_000, b"z"]
    resp = client.put("/api/applications/echo", content=iter(parts))
    assert resp.status_code == 200
    echo = resp.json()
    assert echo["method"] == "PUT"
    assert echo["sha256"] == hashlib.sha256(b"".join(parts)).hexdigest()


def test_path_query_and_method_forwarded(client: httpx.Client) -> None:
    resp = client.delete("/api/applications/echo/a%2Fb%20c", params={"q": "x y", "page": "2"})
    assert resp.status_code == 200
    echo = resp.json()
    assert echo["method"] == "DELETE"
    # granian's RSGI hands the path over decoded: an encoded "/" reaches the service as a separator
    assert echo["raw_path"] == "/api/applications/echo/a/b%20c?q=x+y&page=2"
    assert echo["length"] == 0


def test_upstream_status_and_headers_forwarded(client: httpx.Client) -> None:
    resp = client.get("/api/applications/status")
    assert resp.status_code == 201
    assert resp.json() == {"ok": True}
    assert resp.headers["x-custom"] == "yes"
    assert resp.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]


def test_repeated_request_headers_forwarded(client: httpx.Client) -> None:
    resp = client.get("/api/applications/echo", headers=[("x-multi", "a"), ("x-multi", "b")])
    values = _headers(resp.json(), "x-multi")
    assert values in (["a", "b"], ["a, b"]), values


# --- headers the gateway adds ---------------------------------------------------------------------


def test_request_id_added_and_echoed_once(client: httpx.Client) -> None:
    resp = client.get("/api/applications/echo")
    seen = _headers(resp.json(), "x-request-id")
    assert len(seen) == 1 and seen[0]
    assert resp.headers.get_list("x-request-id") == seen


def test_client_request_id_kept(client: httpx.Client) -> None:
    resp = client.get("/api/applications/echo", headers={"x-request-id": "req-123"})
    assert _headers(resp.json(), "x-request-id") == ["req-123"]
    assert resp.headers.get_list("x-request-id") == ["req-123"]


def test_request_id_not_doubled_when_upstream_echoes_it(client: httpx.Client) -> None:
    resp = client.get("/api/applications/with-id")
    assert len(resp.headers.get_list("x-request-id")) == 1
    resp = client.get("/api/applications/with-id", headers={"x-request-id": "req-456"})
    assert resp.headers.get_list("x-request-id") == ["req-456"]


def test_traceparent_reaches_upstream(client: httpx.Client) -> None:
    echo = client.get("/api/applications/echo").json()
    (traceparent,) = _headers(echo, "traceparent")
    assert TRACEPARENT.match(traceparent), traceparent


def test_incoming_trace_is_continued(client: httpx.Client) -> None:
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    echo = client.get("/api/applications/echo", headers={"traceparent": f"00-{trace_id}-{parent}-01"}).json()
    (traceparent,) = _headers(echo, "traceparent")
    match = TRACEPARENT.match(traceparent)
    assert match, traceparent
    assert match.group(1) == trace_id
    assert match.group(2) != parent  # the gateway's own span


def test_forwarded_headers(client: httpx.Client) -> None:
    echo = client.get("/api/applications/echo", headers={"x-forwarded-for": "10.0.0.1"}).json()
    assert _headers(echo, "x-forwarded-for") == ["10.0.0.1, 127.0.0.1"]
    assert _headers(echo, "x-forwarded-proto") == ["http"]
    assert _headers(echo, "x-forwarded-host") == [client.base_url.netloc.decode()]
    assert not any(k in {"connection", "keep-alive", "transfer-encoding"} for k, _ in echo["headers"])


# --- limits and failures --------------------------------------------------------------------------


def test_body_over_limit_is_413(client: httpx.Client, upstream: Upstream) -> None:
    before = upstream.hits["echo"]
    resp = client.post("/api/applications/echo", content=b"x" * (MAX_BODY + 1))
    body = assert_error(resp, 413, "request.payload_too_large")
    assert str(MAX_BODY) in body["message"]
    assert resp.headers.get_list("x-request-id")
    assert upstream.hits["echo"] == before


def test_chunked_body_over_limit_is_413(client: httpx.Client) -> None:
    chunks = (b"x" * 65536 for _ in range(MAX_BODY // 65536 + 2))
    resp = client.post("/api/applications/echo", content=chunks)
    assert_error(resp, 413, "request.payload_too_large")


def test_unreachable_service_is_503_within_1s(client: httpx.Client) -> None:
    started = time.monotonic()
    resp = client.get("/api/organizations")
    elapsed = time.monotonic() - started
    body = assert_error(resp, 503, "request.service_unavailable")
    assert "organizations" in body["message"]
    assert elapsed < 1.0, elapsed


def test_slow_service_is_504(client: httpx.Client) -> None:
    started = time.monotonic()
    resp = client.get("/api/logs/slow")
    elapsed = time.monotonic() - started
    body = assert_error(resp, 504, "request.upstream_timeout")
    assert "hooks_audit" in body["message"]
    assert UPSTREAM_TIMEOUT * 0.9 <= elapsed < UPSTREAM_TIMEOUT + 1.5, elapsed


def test_connect_timeout_is_503(broken_gateway: str) -> None:
    """A host that does not answer at all (no SYN-ACK) is unavailable after the 1 s connect timeout."""
    started = time.monotonic()
    resp = httpx.get(broken_gateway + "/api/experience", timeout=10)
    elapsed = time.monotonic() - started
    body = assert_error(resp, 503, "request.service_unavailable")
    assert "experience" in body["message"]
    assert elapsed < 2.0, elapsed


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_connection_reset_is_503(broken_gateway: str, method: str) -> None:
    resp = httpx.request(method, broken_gateway + "/oidc/token", content=b"grant_type=x" if method == "POST" else None)
    body = assert_error(resp, 503, "request.service_unavailable")
    assert "identity" in body["message"]


def test_gateway_serves_after_failures(client: httpx.Client) -> None:
    for _ in range(3):
        assert client.get("/api/organizations").status_code == 503
    assert client.get("/api/applications/echo").status_code == 200


# --- the gateway's own routes ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/nope", "/api/users-x", "/nothing"])
def test_unknown_route_is_404(client: httpx.Client, path: str) -> None:
    body = assert_error(client.get(path), 404, "request.route_not_found")
    assert path in body["message"]


def test_status_is_204(client: httpx.Client) -> None:
    resp = client.get("/api/status")
    assert resp.status_code == 204
    assert resp.content == b""


def test_health_and_ready(client: httpx.Client) -> None:
    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code == 200


def test_swagger_merges_reachable_services(client: httpx.Client) -> None:
    resp = client.get("/api/swagger.json")
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["servers"] == [{"url": "http://gateway.test"}]
    assert doc["paths"]["/api/applications"]["get"]["operationId"] == "ListApplications"
    assert "/health" not in doc["paths"]


def test_upstream_stalling_mid_body_is_not_a_complete_response(client: httpx.Client) -> None:
    """A streamed body with a length: the status line went out already, so the client must see a broken
    message. (A chunked upstream body that breaks off ends with the last chunk: RSGI has no way to abort
    a response, see docs/architecture.md; Gatehouse's services answer with a length.)"""
    with pytest.raises(httpx.TransportError):
        resp = client.get("/api/logs/slow-body", params={"length": "big"})
        print(resp.status_code, resp.headers, resp.content)


def test_upstream_stalling_mid_small_body_is_a_504(client: httpx.Client) -> None:
    """A small body with a length is read whole before anything is sent: the client gets a clean 504."""
    assert_error(client.get("/api/logs/slow-body", params={"length": "1"}), 504, "request.upstream_timeout")


def test_client_leaving_mid_download(client: httpx.Client, gateway: str) -> None:
    with httpx.Client(base_url=gateway) as other, other.stream("GET", "/api/applications/big") as resp:
        next(resp.iter_raw())
    assert client.get("/api/applications/echo").status_code == 200
