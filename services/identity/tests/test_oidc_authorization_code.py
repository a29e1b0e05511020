"""Authorization code flow with PKCE, end to end against the app: `/oidc/auth` -> interaction (RPC, as
experience will call it) -> `/oidc/auth/{uid}` -> code -> tokens verified against `/oidc/jwks` ->
userinfo -> refresh -> introspection -> revocation -> logout; and the ways each step refuses."""

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.ids import generate_id, generate_secret
from gatehouse_schema.rpc.identity import InteractionDetails, InteractionGet, InteractionResult, InteractionResultReply
from gatehouse_schema.tables import management as m
from gatehouse_schema.tables.identity import oidc_authorization_codes, oidc_grants, oidc_sessions, oidc_tokens, users
from httpx import AsyncClient, Response
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

ISSUER = "http://127.0.0.1:3001/oidc"
RESOURCE = "https://api.oidc-flow.example.com"
REDIRECT = "https://app.example.com/callback"
LOGOUT = "https://app.example.com/signed-out"


@dataclass(frozen=True)
class App:
    id: str
    secret: str | None
    type: str

    def auth(self) -> dict[str, str]:
        if self.secret is None:
            return {}
        raw = f"{self.id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def form(self) -> dict[str, str]:
        return {"client_id": self.id} if self.secret is None else {}


async def make_app(
    engine: AsyncEngine, app_type: str = "Traditional", *, third_party: bool = False, **custom: Any
) -> App:
    app_id = generate_id()
    secret = generate_secret() if app_type in ("Traditional", "MachineToMachine") else None
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(m.applications).values(
                tenant_id="default",
                id=app_id,
                name="web",
                secret=secret,
                type=app_type,
                oidc_client_metadata={"redirectUris": [REDIRECT], "postLogoutRedirectUris": [LOGOUT]},
                custom_client_metadata=custom,
                custom_data={},
                is_third_party=third_party,
                app_level_access_control_enabled=False,
            )
        )
    return App(app_id, secret, app_type)


async def make_user(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> dict[str, Any]:
    """A user whose role grants `read` (not `write`) on RESOURCE."""
    name = f"u{secrets.token_hex(5)}"
    body = {"username": name, "primaryEmail": f"{name}@example.com", "name": "Ada", "customData": {"tier": "gold"}}
    response = await client.post("/api/users", json=body, headers=auth)
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()
    role_id = generate_id()
    async with engine.begin() as conn:
        await conn.execute(
            insert(m.resources)
            .values(
                tenant_id="default",
                id="oidc-flow",
                name="Flow",
                indicator=RESOURCE,
                is_default=False,
                access_token_ttl=900,
            )
            .on_conflict_do_nothing()
        )
        for scope in ("read", "write"):
            await conn.execute(
                insert(m.scopes)
                .values(tenant_id="default", id=f"oidc-flow-{scope}", resource_id="oidc-flow", name=scope)
                .on_conflict_do_nothing()
            )
        await conn.execute(
            sa.insert(m.roles).values(
                tenant_id="default",
                id=role_id,
                name=f"reader-{role_id}",
                description="r",
                type="User",
                is_default=False,
            )
        )
        await conn.execute(
            sa.insert(m.roles_scopes).values(tenant_id="default", role_id=role_id, scope_id="oidc-flow-read")
        )
        await conn.execute(sa.insert(m.users_roles).values(tenant_id="default", user_id=user["id"], role_id=role_id))
    user["role"] = f"reader-{role_id}"
    return user


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(response: Response) -> dict[str, str]:
    assert response.status_code == 303, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


@dataclass
class Authorization:
    """One run of `/oidc/auth`: its parameters and PKCE verifier."""

    app: App
    params: dict[str, str]
    verifier: str
    extra: list[tuple[str, str]] = field(default_factory=list)


def authorization(
    app: App, scope: str = "openid profile email offline_access read write", **params: str
) -> Authorization:
    verifier, challenge = pkce_pair()
    base = {
        "client_id": app.id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": scope,
        "state": secrets.token_hex(8),
        "nonce": secrets.token_hex(8),
        "prompt": "consent",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    base.update(params)
    return Authorization(app, {k: v for k, v in base.items() if v != ""}, verifier, [("resource", RESOURCE)])


async def start(browser: AsyncClient, req: Authorization) -> Response:
    return await browser.get("/oidc/auth", params=[*req.params.items(), *req.extra])


def interaction_uid(browser: AsyncClient) -> str:
    cookie = browser.cookies.get("_interaction")
    assert cookie, "no interaction cookie"
    return cookie.rpartition(".")[0]


async def report(rpc: RpcClient, uid: str, **result: Any) -> str:
    reply = await rpc.call(
        "identity", "interaction.result", InteractionResult(uid=uid, **result), InteractionResultReply
    )
    return urlsplit(reply.redirect_to).path


async def sign_in(browser: AsyncClient, rpc: RpcClient, req: Authorization, user_id: str) -> str:
    """Runs the authorization through the interaction and returns the code."""
    started = await start(browser, req)
    assert started.status_code == 303 and started.headers["location"] == "http://127.0.0.1:3001/sign-in", started.text
    resume = await report(rpc, interaction_uid(browser), account_id=user_id)
    query = query_of(await browser.get(resume))
    assert query["state"] == req.params["state"] and query["iss"] == ISSUER, query
    return query["code"]


async def exchange(client: AsyncClient, req: Authorization, code: str, **extra: str) -> Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **req.app.form()}
    if req.verifier:
        form["code_verifier"] = req.verifier
    form.update(extra)
    return await client.post("/oidc/token", data=form, headers=req.app.auth())


async def verify_jwt(client: AsyncClient, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = KeySet.import_key_set((await client.get("/oidc/jwks")).json())
    decoded = jwt.decode(token, keys, algorithms=["ES384", "ES256", "RS256"])
    return decoded.header, decoded.claims


def oauth_error(response: Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == error and body["code"] == f"oidc.{error}", body
    assert body["message"] and body["error_description"]
    return body


@pytest_asyncio.fixture
async def user(client: AsyncClient, auth: dict[str, str], db: AsyncEngine) -> dict[str, Any]:
    return await make_user(client, auth, db)


def refresh_form(app: App, token: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "refresh_token", "refresh_token": token, **app.form(), **extra}


async def test_full_flow_with_a_confidential_app(
    client: AsyncClient,
    browser: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    user: dict[str, Any],
    auth: dict[str, str],
) -> None:
    app = await make_app(db)
    req = authorization(app)
    started = await start(browser, req)
    assert started.status_code == 303 and started.headers["location"] == "http://127.0.0.1:3001/sign-in"
    assert "httponly" in started.headers["set-cookie"].lower() and "path=/" in started.headers["set-cookie"].lower()
    details = await rpc.call(
        "identity", "interaction.get", InteractionGet(cookie=browser.cookies["_interaction"]), InteractionDetails
    )
    assert details.client_id == app.id and details.prompt == "login" and details.resources == [RESOURCE]
    assert details.scopes == ["openid", "profile", "email", "offline_access"]
    assert details.resource_scopes == ["read", "write"]
    assert user["lastSignInAt"] is None
    resume = await report(rpc, details.uid, account_id=user["id"])
    assert resume == f"/oidc/auth/{details.uid}"
    signed_in = (await client.get(f"/api/users/{user['id']}", headers=auth)).json()
    assert abs(signed_in["lastSignInAt"] / 1000 - time.time()) < 60  # recorded with the sign-in, as in Logto
    finished = await browser.get(resume)
    query = query_of(finished)
    assert finished.headers["location"].startswith(REDIRECT + "?")
    assert query["state"] == req.params["state"] and query["iss"] == ISSUER
    assert browser.cookies.get("_session") and not browser.cookies.get("_interaction")

    tokens = await exchange(client, req, query["code"])
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["refresh_token"]
    assert tokens.headers["cache-control"] == "no-store"
    header, id_claims = await verify_jwt(client, body["id_token"])
    assert header["alg"] == "ES384" and header["typ"] == "JWT"
    assert id_claims["iss"] == ISSUER and id_claims["sub"] == user["id"] and id_claims["aud"] == app.id
    assert id_claims["nonce"] == req.params["nonce"] and abs(id_claims["auth_time"] - time.time()) < 30
    assert id_claims["exp"] - id_claims["iat"] == 3600
    digest = hashlib.sha384(body["access_token"].encode()).digest()
    assert id_claims["at_hash"] == base64.urlsafe_b64encode(digest[:24]).rstrip(b"=").decode()
    assert id_claims["username"] == user["username"] and id_claims["name"] == "Ada"
    assert id_claims["email"] == user["primaryEmail"] and id_claims["email_verified"] is True
    assert "custom_data" not in id_claims and "phone_number" not in id_claims

    me = await client.get("/oidc/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["sub"] == user["id"] and me.json()["email"] == user["primaryEmail"]

    refreshed = await client.post(
        "/oidc/token", data=refresh_form(app, body["refresh_token"], resource=RESOURCE), headers=app.auth()
    )
    assert refreshed.status_code == 200, refreshed.text
    jwt_at = refreshed.json()["access_token"]
    header, at_claims = await verify_jwt(client, jwt_at)
    assert header["typ"] == "at+jwt" and at_claims["aud"] == RESOURCE and at_claims["sub"] == user["id"]
    assert at_claims["scope"] == "read" and at_claims["client_id"] == app.id  # the role grants read, not write
    assert at_claims["exp"] - at_claims["iat"] == 900
    new_refresh = refreshed.json()["refresh_token"]
    assert new_refresh != body["refresh_token"]

    introspect = await client.post("/oidc/token/introspection", data={"token": new_refresh}, headers=app.auth())
    assert introspect.status_code == 200, introspect.text
    info = introspect.json()
    assert info["active"] is True and info["sub"] == user["id"] and info["client_id"] == app.id
    assert "offline_access" in info["scope"].split() and info["exp"] > time.time()
    oauth_error(
        await client.post("/oidc/token/introspection", data={"token": jwt_at}, headers=app.auth()),
        400,
        "unsupported_token_type",
    )

    revoked = await client.post("/oidc/token/revocation", data={"token": body["access_token"]}, headers=app.auth())
    assert revoked.status_code == 200
    after = await client.get("/oidc/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    oauth_error(after, 401, "invalid_token")
    assert after.headers["www-authenticate"].startswith("Bearer")

    logout = await browser.get(
        "/oidc/session/end",
        params={"id_token_hint": body["id_token"], "post_logout_redirect_uri": LOGOUT, "state": "bye"},
    )
    assert logout.status_code == 303 and logout.headers["location"] == f"{LOGOUT}?state=bye"
    assert not browser.cookies.get("_session")
    silent = await start(browser, authorization(app, prompt="none"))
    assert query_of(silent)["error"] == "login_required"
    # offline_access grants persist logout, as in Logto: the refresh token still works
    again = await client.post("/oidc/token", data=refresh_form(app, new_refresh), headers=app.auth())
    assert again.status_code == 200, again.text


async def test_userinfo_serves_logto_extended_claims(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db)
    req = authorization(app, scope="openid profile custom_data identities roles")
    body = (await exchange(client, req, await sign_in(browser, rpc, req, user["id"]))).json()
    assert "refresh_token" not in body  # no offline_access
    me = (await client.get("/oidc/me", headers={"Authorization": f"Bearer {body['access_token']}"})).json()
    assert me["custom_data"] == {"tier": "gold"} and me["identities"] == {} and me["roles"] == [user["role"]]
    assert me["username"] == user["username"] and "email" not in me


async def test_public_client_uses_pkce_without_a_secret(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db, "SPA")
    req = authorization(app)
    response = await exchange(client, req, await sign_in(browser, rpc, req, user["id"]))
    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"] and response.json()["id_token"]


async def test_bad_pkce_verifier_is_invalid_grant(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db, "SPA")
    req = authorization(app)
    code = await sign_in(browser, rpc, req, user["id"])
    oauth_error(await exchange(client, req, code, code_verifier="x" * 43), 400, "invalid_grant")


async def test_public_client_without_pkce_is_sent_back_with_invalid_request(
    browser: AsyncClient, db: AsyncEngine
) -> None:
    app = await make_app(db, "Native")
    req = authorization(app, code_challenge="", code_challenge_method="")
    query = query_of(await start(browser, req))
    assert query["error"] == "invalid_request" and "PKCE" in query["error_description"]
    assert query["state"] == req.params["state"] and query["iss"] == ISSUER


async def test_plain_pkce_is_rejected(browser: AsyncClient, db: AsyncEngine) -> None:
    app = await make_app(db, "SPA")
    query = query_of(await start(browser, authorization(app, code_challenge="a" * 43, code_challenge_method="plain")))
    assert query["error"] == "invalid_request"


async def test_reused_code_is_invalid_grant_and_revokes_its_tokens(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db)
    req = authorization(app)
    code = await sign_in(browser, rpc, req, user["id"])
    first = (await exchange(client, req, code)).json()
    oauth_error(await exchange(client, req, code), 400, "invalid_grant")
    me = await client.get("/oidc/me", headers={"Authorization": f"Bearer {first['access_token']}"})
    oauth_error(me, 401, "invalid_token")
    refresh = await client.post("/oidc/token", data=refresh_form(app, first["refresh_token"]), headers=app.auth())
    oauth_error(refresh, 400, "invalid_grant")


async def test_expired_code_is_invalid_grant(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db)
    req = authorization(app)
    code = await sign_in(browser, rpc, req, user["id"])
    async with db.begin() as conn:
        await conn.execute(
            sa.update(oidc_authorization_codes)
            .where(oidc_authorization_codes.c.id == hashlib.sha256(code.encode()).hexdigest())
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    body = oauth_error(await exchange(client, req, code), 400, "invalid_grant")
    assert "expired" in body["error_description"]


async def test_code_lives_sixty_seconds(
    browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db)
    code = await sign_in(browser, rpc, authorization(app), user["id"])
    async with db.connect() as conn:
        expires_at = (
            await conn.execute(
                sa.select(oidc_authorization_codes.c.expires_at).where(
                    oidc_authorization_codes.c.id == hashlib.sha256(code.encode()).hexdigest()
                )
            )
        ).scalar_one()
    assert 55 <= (expires_at - datetime.now(UTC)).total_seconds() <= 60


async def test_wrong_redirect_uri_at_the_token_endpoint_is_invalid_grant(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db)
    req = authorization(app)
    code = await sign_in(browser, rpc, req, user["id"])
    response = await exchange(client, req, code, redirect_uri="https://app.example.com/other")
    oauth_error(response, 400, "invalid_grant")


async def test_unregistered_redirect_uri_is_shown_not_redirected(browser: AsyncClient, db: AsyncEngine) -> None:
    app = await make_app(db)
    response = await start(browser, authorization(app, redirect_uri="https://evil.example.com/cb"))
    oauth_error(response, 400, "invalid_redirect_uri")


async def test_unknown_client_is_shown_not_redirected(browser: AsyncClient) -> None:
    response = await start(browser, authorization(App("ghost", None, "SPA")))
    oauth_error(response, 401, "invalid_client")


async def test_unknown_resource_is_sent_back_as_invalid_target(browser: AsyncClient, db: AsyncEngine) -> None:
    req = authorization(await make_app(db))
    req.extra = [("resource", "https://unknown.example.com")]
    assert query_of(await start(browser, req))["error"] == "invalid_target"


async def test_missing_openid_scope_and_other_response_types_are_refused(browser: AsyncClient, db: AsyncEngine) -> None:
    app = await make_app(db)
    assert query_of(await start(browser, authorization(app, scope="profile")))["error"] == "invalid_request"
    refused = query_of(await start(browser, authorization(app, response_type="token")))
    assert refused["error"] == "unsupported_response_type"


async def test_suspended_user_is_denied_and_loses_refresh(
    client: AsyncClient,
    browser: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    user: dict[str, Any],
) -> None:
    app = await make_app(db)
    req = authorization(app)
    tokens = (await exchange(client, req, await sign_in(browser, rpc, req, user["id"]))).json()
    suspend = await client.patch(f"/api/users/{user['id']}/is-suspended", json={"isSuspended": True}, headers=auth)
    assert suspend.status_code == 200, suspend.text
    refresh = await client.post("/oidc/token", data=refresh_form(app, tokens["refresh_token"]), headers=app.auth())
    oauth_error(refresh, 400, "invalid_grant")
    second = authorization(app, prompt="login")
    await start(browser, second)
    resume = await report(rpc, interaction_uid(browser), account_id=user["id"])
    assert query_of(await browser.get(resume))["error"] == "access_denied"


async def test_refresh_rotation_allows_three_seconds_then_revokes_the_grant(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db)
    req = authorization(app)
    first = (await exchange(client, req, await sign_in(browser, rpc, req, user["id"]))).json()["refresh_token"]
    rotated = await client.post("/oidc/token", data=refresh_form(app, first), headers=app.auth())
    second = rotated.json()["refresh_token"]
    concurrent = await client.post("/oidc/token", data=refresh_form(app, first), headers=app.auth())
    assert concurrent.status_code == 200, concurrent.text  # within the grace period
    async with db.begin() as conn:  # let the grace period pass without sleeping
        await conn.execute(
            sa.update(oidc_tokens)
            .where(oidc_tokens.c.id == hashlib.sha256(first.encode()).hexdigest())
            .values(consumed_at=datetime.now(UTC) - timedelta(seconds=4))
        )
    oauth_error(
        await client.post("/oidc/token", data=refresh_form(app, first), headers=app.auth()), 400, "invalid_grant"
    )
    revoked = await client.post("/oidc/token", data=refresh_form(app, second), headers=app.auth())
    oauth_error(revoked, 400, "invalid_grant")


async def test_refresh_without_rotation_keeps_the_token(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db, rotateRefreshToken=False)
    req = authorization(app)
    token = (await exchange(client, req, await sign_in(browser, rpc, req, user["id"]))).json()["refresh_token"]
    for _ in range(2):
        response = await client.post("/oidc/token", data=refresh_form(app, token), headers=app.auth())
        assert response.status_code == 200 and response.json()["refresh_token"] == token


@pytest.mark.parametrize("rotate", [True, False])
async def test_refresh_of_a_suspended_user_revokes_the_grant(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any], rotate: bool
) -> None:
    """Suspended behind the API's back (the grant still exists): the refresh itself revokes the grant."""
    app = await make_app(db, rotateRefreshToken=rotate)
    req = authorization(app)
    token = (await exchange(client, req, await sign_in(browser, rpc, req, user["id"]))).json()["refresh_token"]
    async with db.begin() as conn:
        await conn.execute(sa.update(users).where(users.c.id == user["id"]).values(is_suspended=True))
    refused = await client.post("/oidc/token", data=refresh_form(app, token), headers=app.auth())
    oauth_error(refused, 400, "invalid_grant")
    async with db.connect() as conn:
        left = await conn.scalar(sa.select(sa.func.count()).where(oidc_grants.c.account_id == user["id"]))
    assert left == 0


async def test_refresh_without_rotation_answers_the_token_claims_and_an_id_token(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db, rotateRefreshToken=False)
    req = authorization(app)
    first = (await exchange(client, req, await sign_in(browser, rpc, req, user["id"]))).json()
    refreshed = await client.post("/oidc/token", data=refresh_form(app, first["refresh_token"]), headers=app.auth())
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.headers["content-type"].startswith("application/json")
    assert refreshed.headers["cache-control"] == "no-store"
    body = refreshed.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == first["scope"]
    header, claims = await verify_jwt(client, body["id_token"])
    assert header["typ"] == "JWT" and header["alg"] == "ES384" and header["kid"]
    assert claims["sub"] == user["id"] and claims["aud"] == app.id and len(claims["jti"]) == 21
    digest = hashlib.sha384(body["access_token"].encode()).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:24]).rstrip(b"=").decode()
    me = await client.get("/oidc/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["sub"] == user["id"]
    async with db.connect() as conn:  # nothing of the presented token changed
        consumed = await conn.scalar(
            sa.select(oidc_tokens.c.consumed_at).where(
                oidc_tokens.c.id == hashlib.sha256(first["refresh_token"].encode()).hexdigest()
            )
        )
    assert consumed is None


async def test_refresh_without_rotation_of_a_grant_revoked_meanwhile_is_invalid_grant(
    client: AsyncClient,
    browser: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    user: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No transaction without rotation: a grant revoked between the read and the access token's INSERT."""
    from gatehouse_identity.oidc import store

    app = await make_app(db, rotateRefreshToken=False)
    req = authorization(app)
    token = (await exchange(client, req, await sign_in(browser, rpc, req, user["id"]))).json()["refresh_token"]
    read = store.refresh_state

    async def read_then_revoke(*args: Any, **kwargs: Any) -> store.RefreshState | None:
        state = await read(*args, **kwargs)
        assert state is not None
        async with db.begin() as conn:
            await conn.execute(sa.delete(oidc_grants).where(oidc_grants.c.id == state.token.grant_id))
        return state

    monkeypatch.setattr(store, "refresh_state", read_then_revoke)
    oauth_error(
        await client.post("/oidc/token", data=refresh_form(app, token), headers=app.auth()), 400, "invalid_grant"
    )


async def test_refresh_scope_can_narrow_but_not_widen(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db)
    req = authorization(app)
    token = (await exchange(client, req, await sign_in(browser, rpc, req, user["id"]))).json()["refresh_token"]
    narrowed = await client.post("/oidc/token", data=refresh_form(app, token, scope="openid"), headers=app.auth())
    assert narrowed.status_code == 200 and narrowed.json()["scope"] == "openid"
    wider = refresh_form(app, narrowed.json()["refresh_token"], scope="openid phone")
    oauth_error(await client.post("/oidc/token", data=wider, headers=app.auth()), 400, "invalid_scope")
    other = refresh_form(app, narrowed.json()["refresh_token"], resource="https://unknown.example.com")
    oauth_error(await client.post("/oidc/token", data=other, headers=app.auth()), 400, "invalid_target")


async def test_refresh_scope_may_name_granted_resource_scopes_without_a_resource(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    """Clients such as authlib resend their configured scope (resource scopes included) on every refresh."""
    app = await make_app(db)
    req = authorization(app)
    token = (await exchange(client, req, await sign_in(browser, rpc, req, user["id"]))).json()["refresh_token"]
    form = refresh_form(app, token, scope="openid offline_access read")
    refreshed = await client.post("/oidc/token", data=form, headers=app.auth())
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["scope"] == "openid offline_access"  # an opaque token: OIDC scopes only
    unknown = refresh_form(app, refreshed.json()["refresh_token"], scope="openid delete")
    oauth_error(await client.post("/oidc/token", data=unknown, headers=app.auth()), 400, "invalid_scope")


async def test_offline_access_needs_prompt_consent(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db)
    req = authorization(app, prompt="")
    body = (await exchange(client, req, await sign_in(browser, rpc, req, user["id"]))).json()
    assert "refresh_token" not in body and "offline_access" not in body["scope"].split()


async def test_existing_session_signs_in_silently(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db)
    await sign_in(browser, rpc, authorization(app), user["id"])
    silent = authorization(await make_app(db), prompt="none")
    code = query_of(await start(browser, silent))["code"]
    tokens = await exchange(client, silent, code)
    assert tokens.status_code == 200, tokens.text
    _, claims = await verify_jwt(client, tokens.json()["id_token"])
    assert claims["sub"] == user["id"]
    token = browser.cookies["_session"].rpartition(".")[0]
    async with db.begin() as conn:  # the login happened a minute ago
        await conn.execute(
            sa.update(oidc_sessions)
            .where(oidc_sessions.c.id == hashlib.sha256(token.encode()).hexdigest())
            .values(login_at=datetime.now(UTC) - timedelta(seconds=60))
        )
    assert query_of(await start(browser, authorization(app, prompt="none", max_age="30")))["error"] == "login_required"
    assert "code" in query_of(await start(browser, authorization(app, prompt="none", max_age="300")))


async def test_third_party_app_needs_recorded_consent(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    first_party = await make_app(db)
    await sign_in(browser, rpc, authorization(first_party), user["id"])
    third = await make_app(db, third_party=True)
    assert query_of(await start(browser, authorization(third, prompt="none")))["error"] == "consent_required"
    req = authorization(third)
    started = await start(browser, req)
    assert started.headers["location"] == "http://127.0.0.1:3001/consent"
    resume = await report(rpc, interaction_uid(browser), consent=True)
    code = query_of(await browser.get(resume))["code"]
    assert (await exchange(client, req, code)).status_code == 200
    silent = authorization(third, prompt="none")
    code = query_of(await start(browser, silent))["code"]  # consent is recorded on the grant
    assert (await exchange(client, silent, code)).status_code == 200


async def test_aborted_interaction_returns_access_denied(browser: AsyncClient, rpc: RpcClient, db: AsyncEngine) -> None:
    req = authorization(await make_app(db))
    await start(browser, req)
    resume = await report(rpc, interaction_uid(browser), error="access_denied", error_description="user cancelled")
    query = query_of(await browser.get(resume))
    assert query["error"] == "access_denied" and query["state"] == req.params["state"]


async def test_resume_needs_the_interaction_cookie(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    await start(browser, authorization(await make_app(db)))
    uid = interaction_uid(browser)
    resume = await report(rpc, uid, account_id=user["id"])
    async with AsyncClient(transport=client._transport, base_url="http://127.0.0.1") as stranger:
        oauth_error(await stranger.get(resume), 400, "invalid_request")
        stranger.cookies.set("_interaction", f"{uid}.forged")
        oauth_error(await stranger.get(resume), 400, "invalid_request")


async def test_interaction_result_for_unknown_uid_is_not_found(rpc: RpcClient) -> None:
    from gatehouse_platform.errors import GatehouseError

    try:
        await report(rpc, "nope", account_id="x")
    except GatehouseError as exc:
        assert exc.code == "session.not_found" and exc.status == 404
    else:
        raise AssertionError("expected session.not_found")


async def test_introspection_and_revocation_of_unknown_tokens(client: AsyncClient, db: AsyncEngine) -> None:
    app = await make_app(db)
    unknown = await client.post("/oidc/token/introspection", data={"token": "nope"}, headers=app.auth())
    assert unknown.status_code == 200 and unknown.json() == {"active": False}
    revoked = await client.post("/oidc/token/revocation", data={"token": "nope"}, headers=app.auth())
    assert revoked.status_code == 200
    bad = await client.post("/oidc/token/introspection", data={"token": "nope", "client_id": app.id})
    oauth_error(bad, 401, "invalid_client")


async def test_revoking_a_refresh_token_revokes_the_grant(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db)
    req = authorization(app)
    tokens = (await exchange(client, req, await sign_in(browser, rpc, req, user["id"]))).json()
    revoke = await client.post("/oidc/token/revocation", data={"token": tokens["refresh_token"]}, headers=app.auth())
    assert revoke.status_code == 200
    gone = await client.post("/oidc/token/introspection", data={"token": tokens["access_token"]}, headers=app.auth())
    assert gone.json() == {"active": False}


async def test_logout_refuses_an_unregistered_post_logout_redirect_uri(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db)
    req = authorization(app, scope="openid")
    tokens = (await exchange(client, req, await sign_in(browser, rpc, req, user["id"]))).json()
    bad = await browser.get(
        "/oidc/session/end",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example.com"},
    )
    oauth_error(bad, 400, "invalid_request")
    forged = await browser.get("/oidc/session/end", params={"id_token_hint": "a.b.c"})
    oauth_error(forged, 400, "invalid_request")
    plain = await browser.get("/oidc/session/end")
    assert plain.status_code == 200 and not browser.cookies.get("_session")
    # without offline_access the session's grant ends with it
    me = await client.get("/oidc/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    oauth_error(me, 401, "invalid_token")


async def test_discovery_advertises_the_code_flow(client: AsyncClient) -> None:
    doc = (await client.get("/oidc/.well-known/openid-configuration")).json()
    assert doc["authorization_endpoint"] == f"{ISSUER}/auth" and doc["userinfo_endpoint"] == f"{ISSUER}/me"
    assert doc["end_session_endpoint"] == f"{ISSUER}/session/end"
    assert doc["code_challenge_methods_supported"] == ["S256"] and doc["response_types_supported"] == ["code"]
    assert {"authorization_code", "refresh_token", "client_credentials"} <= set(doc["grant_types_supported"])
    assert {"email", "custom_data", "roles"} <= set(doc["claims_supported"])


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "error"),
    [
        ("GET", "/oidc/auth", {}, 400, "invalid_request"),
        ("GET", "/oidc/auth", {"params": [("client_id", "a"), ("client_id", "b")]}, 400, "invalid_request"),
        ("POST", "/oidc/auth", {"json": {"client_id": "x"}}, 400, "invalid_request"),
        ("GET", "/oidc/auth/unknown-uid", {}, 400, "invalid_request"),
        ("GET", "/oidc/me", {"headers": {"Authorization": "Bearer not.a.token"}}, 401, "invalid_token"),
        ("POST", "/oidc/me", {"data": {"access_token": "nope"}}, 401, "invalid_token"),
        ("POST", "/oidc/token/introspection", {"json": {"token": "x"}}, 400, "invalid_request"),
        ("POST", "/oidc/token/revocation", {"data": {"token": "x"}}, 400, "invalid_request"),
        ("GET", "/oidc/session/end", {"params": [("state", "a"), ("state", "b")]}, 400, "invalid_request"),
        (
            "POST",
            "/oidc/token",
            {"data": {"grant_type": "authorization_code", "client_id": "ghost"}},
            401,
            "invalid_client",
        ),
    ],
)
async def test_bad_input_is_an_oauth_error_never_a_500(
    client: AsyncClient, method: str, path: str, kwargs: dict[str, Any], status: int, error: str
) -> None:
    oauth_error(await client.request(method, path, **kwargs), status, error)


async def test_malformed_authorization_parameters_are_sent_back(browser: AsyncClient, db: AsyncEngine) -> None:
    app = await make_app(db)
    for params in ({"max_age": "-1"}, {"prompt": "none login"}, {"prompt": "bogus"}, {"response_mode": "form_post"}):
        query = query_of(await start(browser, authorization(app, **params)))
        assert query["error"] == "invalid_request", (params, query)
    m2m = await make_app(db, "MachineToMachine")
    assert query_of(await start(browser, authorization(m2m)))["error"] == "unauthorized_client"


async def test_code_exchange_needs_client_authentication(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, user: dict[str, Any]
) -> None:
    app = await make_app(db)
    req = authorization(app)
    code = await sign_in(browser, rpc, req, user["id"])
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": app.id}
    oauth_error(await client.post("/oidc/token", data={**form, "code_verifier": req.verifier}), 401, "invalid_client")
    spa = await make_app(db, "SPA")
    secret_post = {**form, "client_id": spa.id, "client_secret": "anything"}
    oauth_error(await client.post("/oidc/token", data=secret_post), 401, "invalid_client")


async def test_device_flow_app_is_refused_at_the_authorization_endpoint(browser: AsyncClient, db: AsyncEngine) -> None:
    """Logto gives a device-flow app (Native, `isDeviceFlow`) the device code and refresh token grants only."""
    app = await make_app(db, "Native", isDeviceFlow=True)
    req = authorization(app)
    query = query_of(await start(browser, req))
    assert query["error"] == "unauthorized_client", query
    assert query["state"] == req.params["state"] and query["iss"] == ISSUER
    assert browser.cookies.get("_interaction") is None
    plain = await make_app(db, "Native", isDeviceFlow=False)  # only `true` makes a device-flow app
    allowed = authorization(plain, scope="openid")
    allowed.extra = []
    started = await start(browser, allowed)
    assert started.headers["location"] == "http://127.0.0.1:3001/sign-in", started.text


async def test_device_flow_app_is_refused_the_authorization_code_grant(client: AsyncClient, db: AsyncEngine) -> None:
    device_app = await make_app(db, "Native", isDeviceFlow=True)
    body = oauth_error(await exchange(client, authorization(device_app), "some-code"), 400, "unauthorized_client")
    assert "grant type" in body["error_description"]
    native = await make_app(db, "Native")
    oauth_error(await exchange(client, authorization(native), "some-code"), 400, "invalid_grant")


async def test_introspection_fast_path_answers_as_the_litestar_route(client: AsyncClient, db: AsyncEngine) -> None:
    """Introspection is answered by a plain-ASGI fast path (`opt={"fast_post": ...}`): same headers and body;
    its errors go to the litestar route, with their usual shape."""
    app = await make_app(db)
    unknown = await client.post("/oidc/token/introspection", data={"token": "nope"}, headers=app.auth())
    assert unknown.status_code == 200 and unknown.content == b'{"active":false}'
    assert unknown.headers["content-type"] == "application/json"
    assert unknown.headers["cache-control"] == "no-store" and unknown.headers["pragma"] == "no-cache"
    assert unknown.headers["content-length"] == str(len(unknown.content))
    oauth_error(
        await client.post("/oidc/token/introspection", data={"token": "nope"}, headers={"Authorization": "Basic !!"}),
        400,
        "invalid_request",
    )
    missing = await client.post("/oidc/token/introspection", data={}, headers=app.auth())
    oauth_error(missing, 400, "invalid_request")
    assert missing.headers["cache-control"] == "no-store"
    wrong_secret = {"Authorization": "Basic " + base64.b64encode(f"{app.id}:wrong".encode()).decode()}
    wrong = await client.post("/oidc/token/introspection", data={"token": "nope"}, headers=wrong_secret)
    oauth_error(wrong, 401, "invalid_client")
    assert wrong.headers["www-authenticate"] == 'Basic realm="gatehouse"'
    twice = await client.post(
        "/oidc/token/introspection",
        content=b"token=a&token=b",
        headers={**app.auth(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    oauth_error(twice, 400, "invalid_request")
    as_json = await client.post("/oidc/token/introspection", json={"token": "nope"}, headers=app.auth())
    oauth_error(as_json, 400, "invalid_request")
