"""Device authorization grant (RFC 8628): `/oidc/device/auth` -> the user enters the code at
`/oidc/device` -> interaction (reported over RPC, as experience does) -> `/oidc/device/{uid}` ->
the device's polling gets its tokens; and pending, slow_down, denied, expired and refused cases."""

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest_asyncio
import sqlalchemy as sa
from gatehouse_identity.oidc import store
from gatehouse_identity.oidc.cookies import SESSION_COOKIE, CookieSigner
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.ids import generate_id, generate_secret
from gatehouse_schema.rpc.identity import InteractionDetails, InteractionGet, InteractionResult, InteractionResultReply
from gatehouse_schema.tables import management as m
from gatehouse_schema.tables.identity import oidc_device_codes
from httpx import AsyncClient, Response
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

ISSUER = "http://127.0.0.1:3001/oidc"
RESOURCE = "https://api.device-flow.example.com"
GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


@dataclass(frozen=True)
class App:
    id: str
    secret: str | None


async def make_app(db: AsyncEngine, app_type: str = "Native", *, third_party: bool = False, **custom: Any) -> App:
    await ensure_resource(db)
    app_id = generate_id()
    secret = generate_secret() if app_type in ("Traditional", "MachineToMachine") else None
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(m.applications).values(
                tenant_id="default",
                id=app_id,
                name="tv",
                secret=secret,
                type=app_type,
                oidc_client_metadata={"redirectUris": [], "postLogoutRedirectUris": []},
                custom_client_metadata=custom,
                custom_data={},
                is_third_party=third_party,
                app_level_access_control_enabled=False,
            )
        )
    return App(app_id, secret)


async def device_app(db: AsyncEngine) -> App:
    return await make_app(db, isDeviceFlow=True)


async def ensure_resource(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await conn.execute(
            insert(m.resources)
            .values(
                tenant_id="default",
                id="dev-api",
                name="Dev",
                indicator=RESOURCE,
                is_default=False,
                access_token_ttl=700,
            )
            .on_conflict_do_nothing()
        )
        for scope in ("read", "write"):
            await conn.execute(
                insert(m.scopes)
                .values(tenant_id="default", id=f"dev-{scope}", resource_id="dev-api", name=scope)
                .on_conflict_do_nothing()
            )


@pytest_asyncio.fixture
async def user_id(client: AsyncClient, auth: dict[str, str], db: AsyncEngine) -> str:
    """A user whose role grants `read` (not `write`) on RESOURCE."""
    await ensure_resource(db)
    response = await client.post("/api/users", json={"username": f"d{secrets.token_hex(5)}"}, headers=auth)
    assert response.status_code == 200, response.text
    uid: str = response.json()["id"]
    role_id = generate_id()
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(m.roles).values(
                tenant_id="default", id=role_id, name=f"dev-{role_id}", description="r", type="User", is_default=False
            )
        )
        await conn.execute(sa.insert(m.roles_scopes).values(tenant_id="default", role_id=role_id, scope_id="dev-read"))
        await conn.execute(sa.insert(m.users_roles).values(tenant_id="default", user_id=uid, role_id=role_id))
    return uid


async def start(client: AsyncClient, app: App, **extra: str) -> Response:
    form = {"client_id": app.id, "scope": "openid offline_access profile read", "resource": RESOURCE, **extra}
    return await client.post("/oidc/device/auth", data=form)


async def started(client: AsyncClient, app: App) -> dict[str, Any]:
    response = await start(client, app)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def poll(client: AsyncClient, app: App, device_code: str, **extra: str) -> Response:
    form = {"grant_type": GRANT, "device_code": device_code, "client_id": app.id, **extra}
    return await client.post("/oidc/token", data=form)


async def forget_last_poll(db: AsyncEngine, device_code: str) -> None:
    """As if the device had waited its interval (no sleeping in tests)."""
    async with db.begin() as conn:
        await conn.execute(
            sa.update(oidc_device_codes)
            .where(oidc_device_codes.c.id == store.digest(device_code))
            .values(last_polled_at=None)
        )


def oauth_error(response: Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and body["code"] == f"oidc.{error}" and body["message"], body
    description: str = body["error_description"]
    return description


async def enter_code(browser: AsyncClient, user_code: str) -> Response:
    """Opens the verification page (as `verification_uri_complete`) and submits its form."""
    page = await browser.get("/oidc/device", params={"user_code": user_code})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"], page.text
    assert f'value="{user_code}"' in page.text
    match = re.search(r'name="xsrf" value="([^"]+)"', page.text)
    assert match is not None
    return await browser.post("/oidc/device", data={"user_code": user_code.lower(), "xsrf": match.group(1)})


def interaction_uid(browser: AsyncClient) -> str:
    cookie = browser.cookies.get("_interaction")
    assert cookie, "no interaction cookie"
    return cookie.rpartition(".")[0]


async def report(rpc: RpcClient, uid: str, **result: Any) -> str:
    reply = await rpc.call(
        "identity", "interaction.result", InteractionResult(uid=uid, **result), InteractionResultReply
    )
    return urlsplit(reply.redirect_to).path


async def finish(browser: AsyncClient, resume: str) -> Response:
    """Follows experience's redirect back to identity, which sends a device interaction to /oidc/device/{uid}."""
    back = await browser.get(resume)
    assert back.status_code == 303, back.text
    location = back.headers["location"]
    assert location.startswith(f"{ISSUER}/device/"), location
    return await browser.get(urlsplit(location).path)


async def approve(browser: AsyncClient, rpc: RpcClient, user_code: str, user_id: str) -> Response:
    entered = await enter_code(browser, user_code)
    assert entered.status_code == 303 and entered.headers["location"] == "http://127.0.0.1:3001/sign-in", entered.text
    resume = await report(rpc, interaction_uid(browser), account_id=user_id)
    return await finish(browser, resume)


async def verify_jwt(client: AsyncClient, token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set((await client.get("/oidc/jwks")).json())
    claims: dict[str, Any] = jwt.decode(token, keys, algorithms=["ES384", "ES256", "RS256"]).claims
    return claims


async def test_device_authorization_response(client: AsyncClient, db: AsyncEngine) -> None:
    app = await device_app(db)
    response = await start(client, app)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert USER_CODE.match(body["user_code"]), body["user_code"]
    assert body["verification_uri"] == f"{ISSUER}/device"
    assert body["verification_uri_complete"] == f"{ISSUER}/device?user_code={body['user_code']}"
    assert body["expires_in"] == 600 and body["interval"] == 5 and len(body["device_code"]) >= 43


async def test_device_signs_in_through_the_interaction(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user_id: str
) -> None:
    app = await device_app(db)
    codes = await started(client, app)
    oauth_error(await poll(client, app, codes["device_code"]), 400, "authorization_pending")
    entered = await enter_code(browser, codes["user_code"])
    assert entered.status_code == 303 and entered.headers["location"] == "http://127.0.0.1:3001/sign-in"
    details = await rpc.call(
        "identity", "interaction.get", InteractionGet(cookie=browser.cookies["_interaction"]), InteractionDetails
    )
    assert details.client_id == app.id and details.prompt == "login" and details.resources == [RESOURCE]
    assert details.scopes == ["openid", "offline_access", "profile"] and details.resource_scopes == ["read"]
    resume = await report(rpc, details.uid, account_id=user_id)
    done = await finish(browser, resume)
    assert done.status_code == 200 and "Device connected" in done.text, done.text
    assert not browser.cookies.get("_interaction")

    await forget_last_poll(db, codes["device_code"])
    tokens = await poll(client, app, codes["device_code"])
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["refresh_token"]
    id_claims = await verify_jwt(client, body["id_token"])
    assert id_claims["sub"] == user_id and id_claims["aud"] == app.id and id_claims["iss"] == ISSUER
    me = await client.get("/oidc/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["sub"] == user_id, me.text

    # the code is spent; the refresh token gives a JWT for the requested resource
    await forget_last_poll(db, codes["device_code"])
    assert "consumed" in oauth_error(await poll(client, app, codes["device_code"]), 400, "invalid_grant")
    refresh = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": app.id}
    refreshed = await client.post("/oidc/token", data={**refresh, "resource": RESOURCE})
    assert refreshed.status_code == 200, refreshed.text
    at_claims = await verify_jwt(client, refreshed.json()["access_token"])
    assert at_claims["sub"] == user_id and at_claims["aud"] == RESOURCE and at_claims["scope"] == "read"


async def test_polling_with_resource_gives_a_jwt(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user_id: str
) -> None:
    app = await device_app(db)
    codes = await started(client, app)
    assert (await approve(browser, rpc, codes["user_code"], user_id)).status_code == 200
    oauth_error(
        await poll(client, app, codes["device_code"], resource="https://other.example.com"), 400, "invalid_target"
    )
    await forget_last_poll(db, codes["device_code"])
    tokens = await poll(client, app, codes["device_code"], resource=RESOURCE)
    assert tokens.status_code == 200, tokens.text
    claims = await verify_jwt(client, tokens.json()["access_token"])
    assert claims["aud"] == RESOURCE and claims["scope"] == "read" and claims["exp"] - claims["iat"] == 700


async def test_pending_then_slow_down_widens_the_interval(client: AsyncClient, db: AsyncEngine) -> None:
    app = await device_app(db)
    codes = await started(client, app)
    oauth_error(await poll(client, app, codes["device_code"]), 400, "authorization_pending")
    assert "10 seconds" in oauth_error(await poll(client, app, codes["device_code"]), 400, "slow_down")
    assert "15 seconds" in oauth_error(await poll(client, app, codes["device_code"]), 400, "slow_down")
    async with db.connect() as conn:
        interval = (
            await conn.execute(
                sa.select(oidc_device_codes.c.poll_interval).where(
                    oidc_device_codes.c.id == store.digest(codes["device_code"])
                )
            )
        ).scalar_one()
    assert interval == 15
    await forget_last_poll(db, codes["device_code"])
    oauth_error(await poll(client, app, codes["device_code"]), 400, "authorization_pending")


async def test_aborted_interaction_is_access_denied(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine
) -> None:
    app = await device_app(db)
    codes = await started(client, app)
    await enter_code(browser, codes["user_code"])
    resume = await report(rpc, interaction_uid(browser), error="access_denied", error_description="user said no")
    page = await finish(browser, resume)
    assert page.status_code == 200 and "not signed in" in page.text
    assert "user said no" in oauth_error(await poll(client, app, codes["device_code"]), 400, "access_denied")
    await forget_last_poll(db, codes["device_code"])
    oauth_error(await poll(client, app, codes["device_code"]), 400, "invalid_grant")


async def test_suspended_user_cannot_approve(
    client: AsyncClient, auth: dict[str, str], browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user_id: str
) -> None:
    app = await device_app(db)
    codes = await started(client, app)
    await enter_code(browser, codes["user_code"])
    resume = await report(rpc, interaction_uid(browser), account_id=user_id)
    suspend = await client.patch(f"/api/users/{user_id}/is-suspended", json={"isSuspended": True}, headers=auth)
    assert suspend.status_code == 200, suspend.text
    page = await finish(browser, resume)
    assert page.status_code == 200 and "not signed in" in page.text
    oauth_error(await poll(client, app, codes["device_code"]), 400, "access_denied")


async def test_expired_device_code_is_expired_token(client: AsyncClient, browser: AsyncClient, db: AsyncEngine) -> None:
    app = await device_app(db)
    codes = await started(client, app)
    async with db.begin() as conn:
        await conn.execute(
            sa.update(oidc_device_codes)
            .where(oidc_device_codes.c.id == store.digest(codes["device_code"]))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    oauth_error(await poll(client, app, codes["device_code"]), 400, "expired_token")
    entered = await enter_code(browser, codes["user_code"])
    assert entered.status_code == 400 and "incorrect" in entered.text


async def test_live_session_confirms_on_the_consent_page(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user_id: str
) -> None:
    token = secrets.token_urlsafe(32)
    async with db.begin() as conn:
        await store.create_session(conn, "default", store.digest(token), user_id, datetime.now(UTC), 3600)
    signer = CookieSigner(db, "default")
    await signer.load()
    browser.cookies.set(SESSION_COOKIE, signer.sign(SESSION_COOKIE, token))
    app = await device_app(db)
    codes = await started(client, app)
    entered = await enter_code(browser, codes["user_code"])
    assert entered.headers["location"] == "http://127.0.0.1:3001/consent", entered.text
    details = await rpc.call(
        "identity", "interaction.get", InteractionGet(uid=interaction_uid(browser)), InteractionDetails
    )
    assert details.prompt == "consent" and details.session_account_id == user_id
    done = await finish(browser, await report(rpc, details.uid, consent=True))
    assert done.status_code == 200 and "Device connected" in done.text, done.text
    tokens = await poll(client, app, codes["device_code"])
    assert tokens.status_code == 200, tokens.text
    assert (await verify_jwt(client, tokens.json()["id_token"]))["sub"] == user_id


async def test_code_page_refuses_wrong_codes_and_forged_forms(
    client: AsyncClient, browser: AsyncClient, db: AsyncEngine
) -> None:
    wrong = await enter_code(browser, "BCDF-GHJK")
    assert wrong.status_code == 400 and "incorrect" in wrong.text and not browser.cookies.get("_interaction")
    malformed = await enter_code(browser, "1234")
    assert malformed.status_code == 400 and "incorrect" in malformed.text
    codes = await started(client, await device_app(db))
    forged = await browser.post("/oidc/device", data={"user_code": codes["user_code"], "xsrf": "guess"})
    assert forged.status_code == 400 and "expired" in forged.text and not browser.cookies.get("_interaction")
    unreadable = await browser.post("/oidc/device", json={"user_code": codes["user_code"]})
    assert unreadable.status_code == 400
    unknown = await browser.get("/oidc/device/unknown-uid")
    assert unknown.status_code == 400 and "text/html" in unknown.headers["content-type"]


async def test_only_native_device_flow_apps_may_use_the_grant(client: AsyncClient, db: AsyncEngine) -> None:
    refused = [
        await make_app(db),  # Native without isDeviceFlow
        await make_app(db, "SPA", isDeviceFlow=True),
        await make_app(db, third_party=True, isDeviceFlow=True),
    ]
    for app in refused:
        oauth_error(await start(client, app), 400, "unauthorized_client")
    traditional = await make_app(db, "Traditional", isDeviceFlow=True)
    assert traditional.secret is not None
    response = await client.post(
        "/oidc/device/auth",
        data={"scope": "openid"},
        auth=(traditional.id, traditional.secret),
    )
    oauth_error(response, 400, "unauthorized_client")
    # a device code polled by another app is unknown to it
    codes = await started(client, await device_app(db))
    other = await device_app(db)
    oauth_error(await poll(client, other, codes["device_code"]), 400, "invalid_grant")
    oauth_error(await poll(client, refused[0], codes["device_code"]), 400, "unauthorized_client")


async def test_bad_device_requests_are_oauth_errors(client: AsyncClient, db: AsyncEngine) -> None:
    app = await device_app(db)
    assert "openid" in oauth_error(await start(client, app, scope="profile"), 400, "invalid_request")
    oauth_error(await start(client, app, resource="https://unknown.example.com"), 400, "invalid_target")
    oauth_error(await start(client, App("ghost", None)), 401, "invalid_client")
    oauth_error(await client.post("/oidc/device/auth", json={"client_id": app.id}), 400, "invalid_request")
    oauth_error(await client.post("/oidc/device/auth", data={"scope": "openid"}), 400, "invalid_request")
    oauth_error(await poll(client, app, ""), 400, "invalid_request")
    oauth_error(await poll(client, app, "unknown"), 400, "invalid_grant")


async def test_discovery_advertises_device_flow_and_token_exchange(client: AsyncClient) -> None:
    doc = (await client.get("/oidc/.well-known/openid-configuration")).json()
    assert doc["device_authorization_endpoint"] == f"{ISSUER}/device/auth"
    assert {
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    } <= set(doc["grant_types_supported"])
