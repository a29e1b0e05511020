"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0): ending a session at `/oidc/session/end`
POSTs a signed logout token to each client of the session that registered a `backchannelLogoutUri`,
after the logout answered; a receiver that fails or is unreachable does not affect the logout."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from aiohttp import web
from gatehouse_platform.rpc import RpcClient
from gatehouse_testing.oidc_flow import LOGOUT, make_flow_app, sign_in_and_exchange, verify_jwt
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

ISSUER = "http://127.0.0.1:3001/oidc"
EVENT = "http://schemas.openid.net/event/backchannel-logout"


class Receiver:
    """A relying party's back-channel logout endpoint on a local port."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: asyncio.Queue[tuple[str, str, dict[str, str]]] = asyncio.Queue()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        await self.received.put((request.path, request.content_type, {k: str(v) for k, v in form.items()}))
        return web.Response(status=self.status)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rp = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", rp.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    rp.url = f"http://127.0.0.1:{port}"
    yield rp
    await runner.cleanup()


@pytest_asyncio.fixture
async def user_id(client: AsyncClient, auth: dict[str, str]) -> str:
    response = await client.post("/api/users", json={"username": f"b{secrets.token_hex(5)}"}, headers=auth)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def backchannel(client: AsyncClient) -> Any:
    return client._transport.app.state.ctx.components["backchannel"]  # type: ignore[attr-defined]


async def test_logout_posts_a_signed_logout_token_to_the_registered_uri(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, receiver: Receiver, user_id: str
) -> None:
    app = await make_flow_app(
        db, oidc_metadata={"backchannelLogoutUri": f"{receiver.url}/bc", "backchannelLogoutSessionRequired": True}
    )
    tokens = await sign_in_and_exchange(client, browser, rpc, app, user_id)
    _, id_claims = await verify_jwt(client, tokens["id_token"])
    logout = await browser.get(
        "/oidc/session/end", params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGOUT}
    )
    assert logout.status_code == 303, logout.text

    path, content_type, form = await asyncio.wait_for(receiver.received.get(), timeout=5)
    assert path == "/bc" and content_type == "application/x-www-form-urlencoded"
    header, claims = await verify_jwt(client, form["logout_token"])
    assert header["typ"] == "logout+jwt" and header["kid"]
    assert claims["iss"] == ISSUER and claims["aud"] == app.id and claims["sub"] == user_id
    assert claims["sid"] == id_claims["sid"] and claims["events"] == {EVENT: {}}
    assert claims["jti"] and claims["exp"] > claims["iat"] and "nonce" not in claims


async def test_clients_without_a_uri_get_nothing(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, receiver: Receiver, user_id: str
) -> None:
    plain = await make_flow_app(db)
    tokens = await sign_in_and_exchange(client, browser, rpc, plain, user_id)
    await browser.get("/oidc/session/end", params={"id_token_hint": tokens["id_token"]})
    await backchannel(client).drain()
    assert receiver.received.empty()


async def test_a_failing_or_unreachable_receiver_does_not_affect_logout(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, receiver: Receiver, user_id: str
) -> None:
    receiver.status = 500
    failing = await make_flow_app(db, oidc_metadata={"backchannelLogoutUri": f"{receiver.url}/fails"})
    tokens = await sign_in_and_exchange(client, browser, rpc, failing, user_id)
    logout = await browser.get("/oidc/session/end", params={"id_token_hint": tokens["id_token"]})
    assert logout.status_code == 200, logout.text
    path, _, _ = await asyncio.wait_for(receiver.received.get(), timeout=5)
    assert path == "/fails"

    async with AsyncClient(transport=client._transport, base_url="http://127.0.0.1") as second:
        unreachable = await make_flow_app(db, oidc_metadata={"backchannelLogoutUri": "http://127.0.0.1:9/nothing"})
        tokens = await sign_in_and_exchange(client, second, rpc, unreachable, user_id)
        logout = await second.get("/oidc/session/end", params={"id_token_hint": tokens["id_token"]})
        assert logout.status_code == 200 and not second.cookies.get("_session"), logout.text
    await asyncio.wait_for(backchannel(client).drain(), timeout=10)
