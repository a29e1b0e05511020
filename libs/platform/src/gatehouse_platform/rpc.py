"""Request/reply between services over NATS: `<prefix>.rpc.<context>.<command>`, one queue group per service.

Requests and replies are msgspec JSON; every call has a deadline; a failure comes back in
Logto's error shape and is raised again on the caller's side as a `GatehouseError`.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError

from gatehouse_platform.errors import GatehouseError, ServiceUnavailable, error_from_body
from gatehouse_platform.logging import get_logger
from gatehouse_platform.tracing import extract_context, inject_headers, tracer

log = get_logger("gatehouse.rpc")

T = TypeVar("T")


class RpcReply(msgspec.Struct, omit_defaults=True):
    status: int = 200
    data: msgspec.Raw = msgspec.Raw(b"null")  # not `Raw | None`: msgspec then decodes only `null` here
    error: dict[str, Any] | None = None


def rpc_subject(prefix: str, context: str, command: str) -> str:
    return f"{prefix}.rpc.{context}.{command}"


RpcHandler = Callable[[Any], Awaitable[Any]]


class RpcServer:
    """Serves a context's commands; register handlers, then `start`."""

    def __init__(self, nc: NATS, prefix: str, context: str, queue: str) -> None:
        self.nc = nc
        self.prefix = prefix
        self.context = context
        self.queue = queue
        self._handlers: dict[str, tuple[type[Any], RpcHandler]] = {}
        self._subs: list[Subscription] = []

    def register(self, command: str, request_type: type[Any], handler: RpcHandler) -> None:
        self._handlers[command] = (request_type, handler)

    async def start(self) -> None:
        for command, (request_type, handler) in self._handlers.items():
            subject = rpc_subject(self.prefix, self.context, command)
            self._subs.append(
                await self.nc.subscribe(subject, queue=self.queue, cb=self._callback(command, request_type, handler))
            )

    async def stop(self) -> None:
        for sub in self._subs:
            await sub.unsubscribe()
        self._subs.clear()

    def _callback(self, command: str, request_type: type[Any], handler: RpcHandler) -> Callable[[Msg], Awaitable[None]]:
        async def on_request(msg: Msg) -> None:
            ctx = extract_context(msg.headers)
            with tracer().start_as_current_span(f"rpc {self.context}.{command}", context=ctx):
                reply = await self._dispatch(msg, request_type, handler)
            if msg.reply:
                await msg.respond(msgspec.json.encode(reply))

        return on_request

    async def _dispatch(self, msg: Msg, request_type: type[Any], handler: RpcHandler) -> RpcReply:
        try:
            request = msgspec.json.decode(msg.data, type=request_type)
        except msgspec.ValidationError as exc:
            return RpcReply(
                status=400,
                error={
                    "code": "guard.invalid_input",
                    "message": "The RPC request is invalid.",
                    "data": str(exc),
                },
            )
        except msgspec.DecodeError:
            return RpcReply(status=400, error={"code": "guard.invalid_input", "message": "The RPC request is invalid."})
        try:
            result = await handler(request)
        except GatehouseError as exc:
            return RpcReply(status=exc.status, error=exc.body())
        except Exception:
            log.exception("rpc handler failed", subject=msg.subject)
            return RpcReply(status=500, error={"code": "unknown", "message": "Internal server error."})
        return RpcReply(data=msgspec.Raw(msgspec.json.encode(result)))


class RpcClient:
    def __init__(self, nc: NATS, prefix: str, default_timeout: float = 2.0) -> None:
        self.nc = nc
        self.prefix = prefix
        self.default_timeout = default_timeout

    async def call(
        self,
        context: str,
        command: str,
        request: Any,
        response_type: type[T],
        *,
        timeout: float | None = None,
    ) -> T:
        headers = dict(inject_headers({}))
        try:
            msg = await self.nc.request(
                rpc_subject(self.prefix, context, command),
                msgspec.json.encode(request),
                timeout=timeout or self.default_timeout,
                headers=headers or None,
            )
        except NoRespondersError:
            raise ServiceUnavailable("rpc.unavailable", context=context) from None
        except (NatsTimeoutError, TimeoutError):
            raise ServiceUnavailable("rpc.timeout", context=context, status=504) from None
        reply = msgspec.json.decode(msg.data, type=RpcReply)
        if reply.error is not None:
            raise error_from_body(reply.status, reply.error)
        return msgspec.json.decode(reply.data or b"null", type=response_type)
