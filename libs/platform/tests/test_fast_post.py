"""`opt={"fast_post": ...}`: a hot POST route answered as plain ASGI, or by litestar on the same body."""

from typing import Any

from gatehouse_platform.service import FAST_POST_MAX_BODY, FastAnswer, ServiceApp, _Live
from litestar import Request, post
from litestar.types import Scope


async def fast(_ctx: Any, _scope: Scope, body: bytes) -> FastAnswer | None:
    if body == b"boom":
        raise RuntimeError("litestar answers")
    return (200, [(b"content-type", b"text/plain")], b"fast:" + body) if body.startswith(b"ok") else None


@post("/echo", opt={"fast_post": fast}, status_code=200)
async def echo(request: Request[Any, Any, Any]) -> bytes:
    return b"slow:" + await request.body()


def app() -> ServiceApp:
    live = _Live()
    application = ServiceApp(live=live, access_log=False, route_handlers=[echo])
    live.ctx = object()  # type: ignore[assignment]  # started
    return application


async def call(application: ServiceApp, chunks: list[bytes]) -> tuple[int, bytes]:
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> Any:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/echo",
        "raw_path": b"/echo",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    await application(scope, receive, send)  # type: ignore[arg-type]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


async def test_fast_answer_from_a_body_in_chunks() -> None:
    assert await call(app(), [b"o", b"k1"]) == (200, b"fast:ok1")


async def test_none_or_an_error_lets_litestar_answer_with_the_same_body() -> None:
    application = app()
    assert await call(application, [b"no", b"pe"]) == (200, b"slow:nope")
    assert await call(application, [b"boom"]) == (200, b"slow:boom")


async def test_a_large_body_goes_to_litestar_whole() -> None:
    big = b"ok" + b"x" * FAST_POST_MAX_BODY
    assert await call(app(), [big[:1000], big[1000:], b"tail"]) == (200, b"slow:" + big + b"tail")
