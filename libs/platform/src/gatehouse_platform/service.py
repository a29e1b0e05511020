"""The litestar app factory every service uses: lifespan (database, NATS, outbox relay, consumers,
RPC), `/health` and `/ready`, tracing and request-id middleware, and Logto-shaped errors."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp, ControllerRouterHandler, Receive, Scope, Send
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_platform.config import Settings
from gatehouse_platform.db import create_engine
from gatehouse_platform.errors import GatehouseError, render_message
from gatehouse_platform.logging import configure_logging, get_logger
from gatehouse_platform.messaging import ReconnectHook, connect_nats, ensure_streams
from gatehouse_platform.observability import ObservabilityMiddleware
from gatehouse_platform.outbox import Outbox, OutboxRelay
from gatehouse_platform.rpc import RpcClient, RpcServer
from gatehouse_platform.tokens import TokenValidator, http_jwks_fetcher
from gatehouse_platform.tracing import configure_tracing

log = get_logger("gatehouse.service")


@dataclass
class ServiceContext:
    """Everything a running service holds; built in the lifespan, reachable as `app.state.ctx`."""

    settings: Settings
    engine: AsyncEngine
    nc: NATS
    js: JetStreamContext
    rpc: RpcClient
    rpc_server: RpcServer
    validator: TokenValidator
    outbox: Outbox | None
    relay: OutboxRelay | None
    on_reconnect: list[ReconnectHook] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    components: dict[str, Any] = field(default_factory=dict)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(_log_task_end)
        self.tasks.append(task)
        return task


def _log_task_end(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task died", task=task.get_name(), error=repr(task.exception()))


Setup = Callable[[ServiceContext], Awaitable[None]]

GC_GEN0_THRESHOLD = 10_000  # CPython's default is 700: a young collection every 700 allocations


def tune_gc() -> None:
    """After start-up: move everything allocated so far (modules, the app, table metadata, caches) out of
    the collector's sight, and collect young objects less often. A full collection then scans only what
    requests left behind, instead of stalling a worker for tens of milliseconds (the p99 spikes of a
    loaded service); unreachable cycles are still collected."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


async def stop_tasks(tasks: list[asyncio.Task[Any]]) -> None:
    """Cancel until every task has ended: on Python 3.11 a library's `asyncio.wait_for` (nats-py's request,
    behind a JetStream publish) returns its result instead of raising when the cancellation arrives as the
    awaited reply does, so one `cancel()` can be lost and shutdown would hang."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)
    await asyncio.gather(*tasks, return_exceptions=True)


def _error_response(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(content=body, status_code=status)


def handle_gatehouse_error(_: Request[Any, Any, Any], exc: GatehouseError) -> Response[dict[str, Any]]:
    return _error_response(exc.status, exc.body())


def handle_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    kind = "body" if request.method in {"POST", "PUT", "PATCH"} else "query"
    body: dict[str, Any] = {"code": "guard.invalid_input", "message": f"The request {kind} is invalid."}
    if exc.extra:
        body["data"] = exc.extra
    elif exc.detail:
        body["data"] = {"detail": exc.detail}
    return _error_response(400, body)


def handle_not_found(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[dict[str, Any]]:
    return _error_response(
        404,
        {
            "code": "request.route_not_found",
            "message": f"No route matches {request.method} {request.url.path}.",
        },
    )


def handle_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if exc.status_code == 405:
        code, message = (
            "request.method_not_allowed",
            f"Method {request.method} is not allowed for {request.url.path}.",
        )
    elif exc.status_code < 500:
        code, message = "guard.invalid_input", str(exc.detail)
    else:
        code, message = "unknown", "Internal server error."
    return _error_response(exc.status_code, {"code": code, "message": message})


def handle_integrity_error(request: Request[Any, Any, Any], exc: IntegrityError) -> Response[dict[str, Any]]:
    """A constraint the use case did not check first (a race): 422 like Logto, never a 500."""
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(getattr(exc.orig, "__cause__", None), "sqlstate", None)
    code = "entity.relation_foreign_key_not_found" if sqlstate == "23503" else "entity.unique_integrity_violation"
    return _error_response(422, {"code": code, "message": render_message(code, {})})


def handle_database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[dict[str, Any]]:
    """A value PostgreSQL refuses (SQLSTATE class 22, e.g. a NUL character in a string) is bad input: 400."""
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    if sqlstate.startswith("22"):
        kind = "body" if request.method in {"POST", "PUT", "PATCH"} else "query"
        return _error_response(400, {"code": "guard.invalid_input", "message": f"The request {kind} is invalid."})
    return handle_unexpected(request, exc)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error", method=request.method, path=request.url.path)
    return _error_response(500, {"code": "unknown", "message": "Internal server error."})


EXCEPTION_HANDLERS: dict[Any, Any] = {
    GatehouseError: handle_gatehouse_error,
    ValidationException: handle_validation_error,
    NotFoundException: handle_not_found,
    HTTPException: handle_http_error,
    IntegrityError: handle_integrity_error,
    DBAPIError: handle_database_error,
    Exception: handle_unexpected,
}


@get("/health", include_in_schema=False, sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", include_in_schema=False)
async def ready(state: State) -> Response[dict[str, Any]]:
    ctx: ServiceContext | None = getattr(state, "ctx", None)
    checks = {"postgres": False, "nats": False}
    if ctx is not None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0), ctx.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                checks["postgres"] = True
        checks["nats"] = ctx.nc.is_connected
    ok = all(checks.values())
    return Response({"status": "ready" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)


def provide_ctx(state: State) -> ServiceContext:
    ctx: ServiceContext = state.ctx
    return ctx


@dataclass(frozen=True)
class ComponentRef:
    """What `component(name)` provides: bound to the app's context by `create_service_app`."""

    name: str

    def __call__(self, state: State) -> Any:  # used only if a Provide of it reaches litestar unbound
        return state.ctx.components[self.name]


def component(name: str) -> Provide:
    """A dependency that hands a handler one of the service's wired components (a use case, a cache)."""
    return Provide(ComponentRef(name), sync_to_thread=False)


class _Live:
    """The running service's context, for dependencies that take no parameters: litestar then calls
    them directly instead of parsing a `State` parameter (and copying the app state) per request."""

    ctx: ServiceContext | None = None

    def get(self) -> ServiceContext:
        if self.ctx is None:
            raise RuntimeError("the service has not started")
        return self.ctx

    def get_or_none(self) -> ServiceContext | None:
        return self.ctx


def _bound(provide: Provide) -> Provide:
    """A component's provider takes the `ctx` dependency (typed `Any`, so litestar does not convert it).
    That puts `ctx` and the component in two batches of one: litestar resolves a batch of several
    dependencies in an anyio task group, a task per dependency (~40 µs per request), and a single one
    with a plain call."""
    ref = provide.dependency
    if not isinstance(ref, ComponentRef):
        return provide
    name = ref.name

    def _component(ctx: Any) -> Any:
        return ctx.components[name]

    return Provide(_component, sync_to_thread=False)


FastRoute = Callable[[ServiceContext, Scope, Receive, Send], Awaitable[None]]
# status, headers (without content-length) and body of a fast POST's answer
FastAnswer = tuple[int, list[tuple[bytes, bytes]], bytes]
#: wraps a service's HTTP handling; gets the app and a getter of the running ServiceContext (None before startup)
HttpMiddleware = Callable[[ASGIApp, Callable[[], "ServiceContext | None"]], ASGIApp]
# a fast POST route: the request's whole body in, an answer out, or None to let litestar answer it
FastPost = Callable[[ServiceContext, Scope, bytes], Awaitable[FastAnswer | None]]
FAST_POST_MAX_BODY = 65_536  # a larger body goes to litestar (and its request size limit)


class ServiceApp(Litestar):
    """A litestar app with the observability middleware around all of it (routing and errors too)
    and, for a few GET routes whose answers are precomputed bytes (OIDC discovery, JWKS), a plain
    ASGI fast path that skips routing, DI and response building: a handler declares it with
    `opt={"fast_get": coroutine(ctx, scope, receive, send)}` and stays a normal litestar route for
    the OpenAPI document (and for other methods).

    A hot POST route (token introspection) may declare `opt={"fast_post": coroutine(ctx, scope, body)}`:
    the body is read here and the coroutine returns the answer, or None when litestar should answer
    (errors: litestar's route then runs on the same body, replayed, so error answers keep their shape).
    The coroutine must be side-effect free when it returns None or raises."""

    def __init__(
        self, *, live: _Live, access_log: bool, http_middleware: HttpMiddleware | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._live = live
        self._fast: dict[str, FastRoute] = {}
        self._fast_post: dict[str, FastPost] = {}
        for handler in kwargs.get("route_handlers", ()):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            fast = handler.opt.get("fast_get")
            if fast is not None:
                self._fast.update(dict.fromkeys(handler.paths, fast))
            fast_post = handler.opt.get("fast_post")
            if fast_post is not None:
                self._fast_post.update(dict.fromkeys(handler.paths, fast_post))
        inner: ASGIApp = (
            self._dispatch if http_middleware is None else http_middleware(self._dispatch, live.get_or_none)
        )
        self._observed = ObservabilityMiddleware(inner, access_log)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] == "http":
            await self._observed(scope, receive, send)
        else:
            await Litestar.__call__(self, scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = self._live.ctx
        method = scope["method"]  # type: ignore[typeddict-item]
        if ctx is not None:
            if method == "GET":
                fast = self._fast.get(scope["path"])
                if fast is not None:
                    await fast(ctx, scope, receive, send)
                    return
            elif method == "POST":
                fast_post = self._fast_post.get(scope["path"])
                if fast_post is not None:
                    await self._post(ctx, fast_post, scope, receive, send)
                    return
        await Litestar.__call__(self, scope, receive, send)

    async def _post(self, ctx: ServiceContext, fast: FastPost, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk: bytes = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = bool(message.get("more_body", False))
            if more and size > FAST_POST_MAX_BODY:
                break
        body = b"".join(chunks)
        answer: FastAnswer | None = None
        if not more:
            try:
                answer = await fast(ctx, scope, body)
            except Exception:  # litestar's route runs it again and renders (and logs) the error
                answer = None
        if answer is None:
            replayed = False

            async def replay() -> Any:
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": more}

            await Litestar.__call__(self, scope, replay, send)
            return
        status, headers, content = answer
        headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content, "more_body": False})


def create_service_app(
    settings: Settings,
    *,
    route_handlers: Sequence[ControllerRouterHandler],
    schema: str | None,
    setup: Setup | None = None,
    dependencies: dict[str, Provide] | None = None,
    title: str,
    description: str = "",
    http_middleware: "HttpMiddleware | None" = None,
) -> Litestar:
    """A Gatehouse service: `schema` is the context schema whose outbox it relays (None: stateless);
    `http_middleware` wraps every HTTP request inside the observability middleware (fast paths included)."""
    configure_logging(settings.service_name, settings.log_level)
    live = _Live()
    configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, settings.db_pool_size)
        reconnect_hooks: list[ReconnectHook] = []
        nc = await connect_nats(settings.nats_url, f"gatehouse-{settings.service_name}", on_reconnect=reconnect_hooks)
        js = nc.jetstream()
        await ensure_streams(js, settings.events_stream, settings.subject_prefix, settings.events_max_age_days)
        validator = TokenValidator(http_jwks_fetcher(settings.identity_url.rstrip("/") + "/oidc/jwks"), settings.issuer)
        outbox = relay = None
        if schema is not None:
            outbox = Outbox(schema, settings.subject_prefix)
            relay = OutboxRelay(engine, settings.database_url, schema, js, poll_interval=settings.outbox_poll_interval)
        ctx = ServiceContext(
            settings=settings,
            engine=engine,
            nc=nc,
            js=js,
            rpc=RpcClient(nc, settings.subject_prefix, settings.rpc_timeout),
            rpc_server=RpcServer(nc, settings.subject_prefix, schema or settings.service_name, settings.service_name),
            validator=validator,
            outbox=outbox,
            relay=relay,
            on_reconnect=reconnect_hooks,
        )
        await _watch_key_rotation(ctx)
        if relay is not None:
            ctx.spawn(relay.run(), f"outbox-relay-{schema}")
        if setup is not None:
            await setup(ctx)
        await ctx.rpc_server.start()
        app.state.ctx = live.ctx = ctx
        tune_gc()
        log.info("service started", port=settings.port)
        try:
            yield
        finally:
            await ctx.rpc_server.stop()
            await stop_tasks(ctx.tasks)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.drain(), 2.0)
            await engine.dispose()
            log.info("service stopped")

    return ServiceApp(
        live=live,
        access_log=settings.log_level == "debug",
        http_middleware=http_middleware,
        route_handlers=[health, ready, *route_handlers],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        dependencies={
            "ctx": Provide(live.get, sync_to_thread=False),
            **{key: _bound(provide) for key, provide in (dependencies or {}).items()},
        },
        openapi_config=OpenAPIConfig(title=title, version="1.0.0", description=description, path="/openapi"),
        debug=False,
    )


async def _watch_key_rotation(ctx: ServiceContext) -> None:
    """Signing keys changed in identity: drop cached keys and verified tokens everywhere."""
    subject = f"{ctx.settings.subject_prefix}.evt.*.identity.SigningKey.Rotated"

    async def on_rotation(_: Any) -> None:
        ctx.validator.invalidate_keys()

    await ctx.nc.subscribe(subject, cb=on_rotation)
