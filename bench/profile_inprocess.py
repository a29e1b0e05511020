"""CPU per request of one service's ASGI app, in this process, without granian or the network in front.

`uv run python bench/profile_inprocess.py [--service management|gateway|identity] [--requests 4000]
[--cprofile]` starts the isolated platform of bench/run.py (seeded tenant), builds the chosen service's
app here with the platform's settings, runs its lifespan and calls it directly as an ASGI app with 16
concurrent tasks. It prints the process CPU per request (`time.process_time()`: this process only, so
PostgreSQL's and the upstream services' CPU are not in it) for each endpoint, and with `--cprofile` the
top functions by cumulative time. A quick way to compare code changes of the request path: no report
is written.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import os
import pstats
import sys
import time
import types
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench


def scope_of(method: str, target: str, headers: dict[str, str], port: int) -> dict[str, Any]:
    path, _, query = target.partition("?")
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"host", f"127.0.0.1:{port}".encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", port),
        "state": {},
    }


class _RSGIHeaders:
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def items(self) -> list[tuple[str, str]]:
        return self.pairs

    def get(self, key: str, default: Any = None) -> Any:
        return next((v for k, v in self.pairs if k == key), default)


class _RSGIProtocol:
    """granian's RSGI protocol, as far as the gateway uses it: the body in, one response out."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.status = 0

    async def __call__(self) -> bytes:
        return self.body

    async def __aiter__(self) -> Any:
        yield self.body

    async def client_disconnect(self) -> None:
        await asyncio.sleep(3600)

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Any:
        self.status = status

        class Transport:
            async def send_bytes(self, data: bytes) -> None:
                return None

        return Transport()


def rsgi_scope(scope: dict[str, Any]) -> Any:
    """The RSGI scope granian would hand the gateway for this ASGI scope."""
    return types.SimpleNamespace(
        proto="http",
        http_version="1.1",
        method=scope["method"],
        scheme=scope["scheme"],
        path=scope["path"],
        query_string=scope["query_string"].decode(),
        client="127.0.0.1:50000",
        server=f"127.0.0.1:{scope['server'][1]}",
        headers=_RSGIHeaders([(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]),
    )


async def call(app: Any, scope: dict[str, Any], body: bytes) -> int:
    if hasattr(app, "__rsgi__"):  # the gateway
        protocol = _RSGIProtocol(body)
        await app.__rsgi__(rsgi_scope(scope), protocol)
        return protocol.status
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(dict(scope, headers=list(scope["headers"])), receive, send)
    return status


async def drive(app: Any, name: str, scope: dict[str, Any], body: bytes, n: int, prof: cProfile.Profile | None) -> None:
    assert await call(app, scope, body) == 200, f"{name}: first answer not 200"
    for _ in range(200):  # warm-up
        await call(app, scope, body)
    queue = iter(range(n))
    statuses: dict[int, int] = {}

    async def worker() -> None:
        for _ in queue:
            s = await call(app, scope, body)
            statuses[s] = statuses.get(s, 0) + 1

    if prof is not None:
        prof.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(16)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if prof is not None:
        prof.disable()
    print(f"{name}: {cpu / n * 1e6:7.1f} µs CPU/request ({n / wall:,.0f} req/s in-process), statuses {statuses}")


def build(service: str) -> Any:
    if service == "management":
        from gatehouse_management.app import create_app as management_app

        return management_app()
    if service == "identity":
        from gatehouse_identity.app import create_app as identity_app

        return identity_app()
    from gatehouse_gateway.app import create_app as gateway_app

    return gateway_app()


async def lifespan(app: Any) -> tuple[asyncio.Task[None], asyncio.Queue[dict[str, Any]]]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    if hasattr(app, "__rsgi__"):  # the gateway: RSGI's init hook instead of the ASGI lifespan
        app.__rsgi_init__(asyncio.get_running_loop())
        return asyncio.create_task(asyncio.sleep(0)), inbox
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put))
    message = await outbox.get()
    if message["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"lifespan failed: {message}")
    return task, inbox


PROXIED = {
    "x-request-id": "0193a3c4-3c1e-7a8e-9a5b-8c2f3e4d5a6b",
    "x-forwarded-for": "127.0.0.1",
    "x-forwarded-proto": "http",
    "x-forwarded-host": "127.0.0.1:3001",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
}


async def profile(args: argparse.Namespace, p: bench.Platform, run: bench.Run, token: str) -> None:
    env = p.stack.config.env()
    os.environ.update(env)
    port = p.stack.config.ports[args.service]
    os.environ["PORT"] = str(port + 1000 if port < 64000 else port - 1000)
    app = build(args.service)
    task, inbox = await lifespan(app)
    bearer = {"Authorization": f"Bearer {token}"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    basic = base64.b64encode(f"{p.creds['client_id']}:{p.creds['client_secret']}".encode()).decode()
    cc = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "resource": bench.MANAGEMENT_RESOURCE, "scope": "all"}
    ).encode()
    endpoints: list[tuple[str, str, str, dict[str, str], bytes]] = []
    if args.service in ("management", "gateway"):
        endpoints += [
            ("list apps", "GET", "/api/applications?page=1&page_size=20", bearer, b""),
            ("role users", "GET", f"/api/roles/{run.seeded.big_role_id}/users?page=1&page_size=20", bearer, b""),
            # what the service receives through the gateway: the same request with the proxy's headers
            ("list apps (proxied)", "GET", "/api/applications?page=1&page_size=20", {**bearer, **PROXIED}, b""),
        ]
    if args.service in ("identity", "gateway"):
        endpoints += [
            ("discovery", "GET", "/oidc/.well-known/openid-configuration", {}, b""),
            ("jwks", "GET", "/oidc/jwks", {}, b""),
            ("client_credentials", "POST", "/oidc/token", {**form, "Authorization": f"Basic {basic}"}, cc),
        ]
        if not args.only or {"refresh_token", "introspection"} & set(args.only):
            flows = await bench._sign_in_flows(p, bearer, 1)  # rotateRefreshToken false: reusable
            app_form = {**form, **flows["basic"]}
            refresh = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": flows["refresh"][0]})
            introspect = urllib.parse.urlencode({"token": flows["access"][0]})
            endpoints += [
                ("refresh_token", "POST", "/oidc/token", app_form, refresh.encode()),
                ("introspection", "POST", "/oidc/token/introspection", app_form, introspect.encode()),
            ]
    prof = cProfile.Profile() if args.cprofile else None
    for name, method, target, headers, body in endpoints:
        if args.only and name not in args.only:
            continue
        headers = dict(headers)
        if body:
            headers["Content-Length"] = str(len(body))
        await drive(app, name, scope_of(method, target, headers, port), body, args.requests, prof)
    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(task, 10)
    if prof is not None:
        pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", choices=("management", "gateway", "identity"), default="management")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    run = bench.Run(
        started=bench.dt.datetime.now(bench.dt.UTC),
        machine={},
        commit="",
        command="",
        tool="",
        load_before="",
        settings={},
    )
    with bench.running_platform({}, before_start=bench.seed_management_tenant(run)) as p:
        token = bench.fetch_token(bench.token_target(p))
        try:
            import uvloop

            uvloop.run(profile(args, p, run, token))
        except ImportError:
            asyncio.run(profile(args, p, run, token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
