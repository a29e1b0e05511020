"""Request/reply over NATS: typed round trips, Logto-shaped errors, deadlines and queue groups."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest
import pytest_asyncio
from gatehouse_platform.errors import GatehouseError, NotFound, ServiceUnavailable
from gatehouse_platform.messaging import connect_nats
from gatehouse_platform.rpc import RpcClient, RpcServer
from nats.aio.client import Client as NATS

from .platform_testkit import unique


class Greet(msgspec.Struct):
    name: str
    n: int = 0


class Greeting(msgspec.Struct):
    text: str
    n: int = 0


ServeFn = Callable[..., Awaitable[RpcServer]]


@pytest_asyncio.fixture
async def serve(nc: NATS, subject_prefix: str) -> AsyncIterator[ServeFn]:
    """`await serve(context, handler)`: an RpcServer answering `<context>.greet`, stopped after the test."""
    servers: list[RpcServer] = []

    async def start(context: str, handler: Callable[[Greet], Awaitable[Any]], conn: NATS | None = None) -> RpcServer:
        server = RpcServer(conn or nc, subject_prefix, context, queue=f"{context}-svc")
        server.register("greet", Greet, handler)
        await server.start()
        await (conn or nc).flush()  # the subscription is known to the server before anyone calls
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
def client(nc: NATS, subject_prefix: str) -> RpcClient:
    return RpcClient(nc, subject_prefix, default_timeout=2.0)


async def hello(req: Greet) -> Greeting:
    return Greeting(text=f"hello {req.name}", n=req.n)


async def test_round_trip_decodes_reply_into_struct(serve: ServeFn, client: RpcClient) -> None:
    context = unique("ctx")
    await serve(context, hello)

    reply = await client.call(context, "greet", Greet(name="ada", n=3), Greeting)

    assert reply == Greeting(text="hello ada", n=3)


async def test_handler_not_found_error_comes_back_as_gatehouse_error_404(serve: ServeFn, client: RpcClient) -> None:
    context = unique("ctx")

    async def missing(req: Greet) -> Greeting:
        raise NotFound("entity.not_exists_with_id", name="user", id="x")

    await serve(context, missing)

    with pytest.raises(GatehouseError) as caught:
        await client.call(context, "greet", Greet(name="ada"), Greeting)

    assert caught.value.status == 404
    assert caught.value.code == "entity.not_exists_with_id"
    assert caught.value.message == "The user with ID `x` does not exist."
    assert caught.value.body() == {
        "code": "entity.not_exists_with_id",
        "message": "The user with ID `x` does not exist.",
    }


async def test_invalid_request_payload_is_rejected_with_400_invalid_input(serve: ServeFn, client: RpcClient) -> None:
    context = unique("ctx")
    await serve(context, hello)

    with pytest.raises(GatehouseError) as caught:
        await client.call(context, "greet", {"name": 42}, Greeting)

    assert caught.value.status == 400
    assert caught.value.code == "guard.invalid_input"


async def test_unexpected_handler_exception_comes_back_as_500_unknown(serve: ServeFn, client: RpcClient) -> None:
    context = unique("ctx")

    async def broken(req: Greet) -> Greeting:
        raise RuntimeError("secret internals")

    await serve(context, broken)

    with pytest.raises(GatehouseError) as caught:
        await client.call(context, "greet", Greet(name="ada"), Greeting)

    assert caught.value.status == 500
    assert caught.value.body() == {"code": "unknown", "message": "Internal server error."}


async def test_call_without_responder_fails_fast_with_503(client: RpcClient) -> None:
    context = unique("nobody")
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(ServiceUnavailable) as caught:
        await client.call(context, "greet", Greet(name="ada"), Greeting)

    assert loop.time() - started < 1.0
    assert caught.value.status == 503
    assert caught.value.code == "rpc.unavailable"
    assert caught.value.message == f"The {context} service is unavailable."


async def test_handler_slower_than_deadline_fails_with_504_rpc_timeout(serve: ServeFn, client: RpcClient) -> None:
    context = unique("ctx")
    release = asyncio.Event()

    async def slow(req: Greet) -> Greeting:
        await release.wait()
        return Greeting(text="too late")

    await serve(context, slow)
    try:
        with pytest.raises(GatehouseError) as caught:
            await client.call(context, "greet", Greet(name="ada"), Greeting, timeout=0.2)
    finally:
        release.set()

    assert caught.value.status == 504
    assert caught.value.code == "rpc.timeout"
    assert caught.value.message == f"The {context} service did not answer in time."


async def test_queue_group_handles_each_request_once(serve: ServeFn, client: RpcClient, nats_url: str) -> None:
    context = unique("ctx")
    handled: dict[str, list[int]] = {"a": [], "b": []}

    def instance(name: str) -> Callable[[Greet], Awaitable[Greeting]]:
        async def handle(req: Greet) -> Greeting:
            handled[name].append(req.n)
            return Greeting(text=name, n=req.n)

        return handle

    other = await connect_nats(nats_url, "rpc-instance-b")
    try:
        await serve(context, instance("a"))
        server_b = await serve(context, instance("b"), other)

        replies = await asyncio.gather(
            *(client.call(context, "greet", Greet(name="x", n=n), Greeting) for n in range(40))
        )
        await server_b.stop()
    finally:
        await other.drain()

    assert [r.n for r in replies] == list(range(40))
    assert sorted(handled["a"] + handled["b"]) == list(range(40))
    assert all(r.n in handled[r.text] for r in replies)
