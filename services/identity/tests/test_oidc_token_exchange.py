"""Token exchange (RFC 8693) as Logto serves it: subject tokens (single use) and personal access tokens
for an access token of the user, actor tokens for impersonation (`act`), only for applications with
`allowTokenExchange`; and every way an exchange is refused."""

import base64
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.ids import generate_id, generate_secret
from gatehouse_schema.tables import management as m
from gatehouse_schema.tables.identity import personal_access_tokens, subject_tokens
from httpx import AsyncClient, Response
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

ISSUER = "http://127.0.0.1:3001/oidc"
RESOURCE = "https://api.token-exchange.example.com"
GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
PAT = "urn:logto:token-type:personal_access_token"


@dataclass(frozen=True)
class App:
    id: str
    secret: str | None

    def auth(self) -> dict[str, str]:
        if self.secret is None:
            return {}
        raw = f"{self.id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def form(self) -> dict[str, str]:
        return {"client_id": self.id} if self.secret is None else {}


async def make_app(db: AsyncEngine, app_type: str = "Traditional", *, third_party: bool = False, **custom: Any) -> App:
    app_id = generate_id()
    secret = generate_secret() if app_type in ("Traditional", "MachineToMachine") else None
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(m.applications).values(
                tenant_id="default",
                id=app_id,
                name="exchanger",
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


async def make_user(client: AsyncClient, auth: dict[str, str], db: AsyncEngine) -> str:
    """A user whose role grants `read` (not `write`) on RESOURCE."""
    response = await client.post("/api/users", json={"username": f"x{secrets.token_hex(5)}"}, headers=auth)
    assert response.status_code == 200, response.text
    user_id: str = response.json()["id"]
    role_id = generate_id()
    async with db.begin() as conn:
        await conn.execute(
            insert(m.resources)
            .values(
                tenant_id="default", id="tx-api", name="TX", indicator=RESOURCE, is_default=False, access_token_ttl=1200
            )
            .on_conflict_do_nothing()
        )
        for scope in ("read", "write"):
            await conn.execute(
                insert(m.scopes)
                .values(tenant_id="default", id=f"tx-{scope}", resource_id="tx-api", name=scope)
                .on_conflict_do_nothing()
            )
        await conn.execute(
            sa.insert(m.roles).values(
                tenant_id="default", id=role_id, name=f"tx-{role_id}", description="r", type="User", is_default=False
            )
        )
        await conn.execute(sa.insert(m.roles_scopes).values(tenant_id="default", role_id=role_id, scope_id="tx-read"))
        await conn.execute(sa.insert(m.users_roles).values(tenant_id="default", user_id=user_id, role_id=role_id))
    return user_id


async def subject_token(client: AsyncClient, auth: dict[str, str], user_id: str) -> str:
    response = await client.post("/api/subject-tokens", json={"userId": user_id}, headers=auth)
    assert response.status_code == 201, response.text
    token: str = response.json()["subjectToken"]
    return token


async def personal_access_token(client: AsyncClient, auth: dict[str, str], user_id: str) -> str:
    body = {"name": f"pat-{secrets.token_hex(4)}", "expiresAt": int((time.time() + 3600) * 1000)}
    response = await client.post(f"/api/users/{user_id}/personal-access-tokens", json=body, headers=auth)
    assert response.status_code == 201, response.text
    value: str = response.json()["value"]
    return value


async def exchange(client: AsyncClient, app: App, token: str, token_type: str = ACCESS_TOKEN, **extra: str) -> Response:
    form = {"grant_type": GRANT, "subject_token": token, "subject_token_type": token_type, **app.form(), **extra}
    return await client.post("/oidc/token", data=form, headers=app.auth())


def oauth_error(response: Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and body["code"] == f"oidc.{error}" and body["message"], body
    description: str = body["error_description"]
    return description


async def verify_jwt(client: AsyncClient, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = KeySet.import_key_set((await client.get("/oidc/jwks")).json())
    decoded = jwt.decode(token, keys, algorithms=["ES384", "ES256", "RS256"])
    return decoded.header, decoded.claims


async def introspect(client: AsyncClient, app: App, token: str) -> dict[str, Any]:
    response = await client.post("/oidc/token/introspection", data={"token": token, **app.form()}, headers=app.auth())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_subject_token_exchange_gives_an_opaque_token_of_the_user(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine
) -> None:
    user_id = await make_user(client, auth, db)
    app = await make_app(db, allowTokenExchange=True)
    response = await exchange(client, app, await subject_token(client, auth, user_id), scope="openid profile read")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope", "issued_token_type"}
    assert body["token_type"] == "Bearer" and body["issued_token_type"] == ACCESS_TOKEN
    assert body["expires_in"] == 3600 and body["scope"] == "openid profile"  # resource scopes need `resource`
    info = await introspect(client, app, body["access_token"])
    assert info["active"] is True and info["sub"] == user_id and info["client_id"] == app.id
    assert "act" not in info
    me = await client.get("/oidc/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["sub"] == user_id, me.text


async def test_subject_token_is_single_use(client: AsyncClient, auth: dict[str, str], db: AsyncEngine) -> None:
    user_id = await make_user(client, auth, db)
    app = await make_app(db, allowTokenExchange=True)
    token = await subject_token(client, auth, user_id)
    assert (await exchange(client, app, token)).status_code == 200
    assert "already consumed" in oauth_error(await exchange(client, app, token), 400, "invalid_grant")


async def test_failed_exchange_leaves_the_subject_token_unspent(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine
) -> None:
    user_id = await make_user(client, auth, db)
    app = await make_app(db, allowTokenExchange=True)
    token = await subject_token(client, auth, user_id)
    oauth_error(await exchange(client, app, token, resource="https://unknown.example.com"), 400, "invalid_target")
    assert (await exchange(client, app, token)).status_code == 200


async def test_expired_and_unknown_subject_tokens_are_invalid_grant(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine
) -> None:
    user_id = await make_user(client, auth, db)
    app = await make_app(db, allowTokenExchange=True)
    token = await subject_token(client, auth, user_id)
    async with db.begin() as conn:
        await conn.execute(
            sa.update(subject_tokens)
            .where(subject_tokens.c.id == token)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert "expired" in oauth_error(await exchange(client, app, token), 400, "invalid_grant")
    assert "not found" in oauth_error(await exchange(client, app, "sub_nope"), 400, "invalid_grant")


async def test_exchange_needs_allow_token_exchange(client: AsyncClient, auth: dict[str, str], db: AsyncEngine) -> None:
    user_id = await make_user(client, auth, db)
    token = await subject_token(client, auth, user_id)
    for app in (
        await make_app(db),
        await make_app(db, allowTokenExchange=False),
        await make_app(db, third_party=True, allowTokenExchange=True),
    ):
        oauth_error(await exchange(client, app, token), 400, "unauthorized_client")
    # the refusals did not spend the token
    assert (await exchange(client, await make_app(db, allowTokenExchange=True), token)).status_code == 200


async def test_public_and_machine_apps_may_exchange_when_allowed(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine
) -> None:
    user_id = await make_user(client, auth, db)
    for app_type in ("SPA", "Native", "MachineToMachine"):
        app = await make_app(db, app_type, allowTokenExchange=True)
        response = await exchange(client, app, await subject_token(client, auth, user_id))
        assert response.status_code == 200, (app_type, response.text)


async def test_exchange_with_resource_gives_a_jwt_with_the_users_role_scopes(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine
) -> None:
    user_id = await make_user(client, auth, db)
    app = await make_app(db, allowTokenExchange=True)
    token = await subject_token(client, auth, user_id)
    response = await exchange(client, app, token, resource=RESOURCE, scope="read write")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "read" and body["expires_in"] == 1200 and body["issued_token_type"] == ACCESS_TOKEN
    header, claims = await verify_jwt(client, body["access_token"])
    assert header["typ"] == "at+jwt" and claims["sub"] == user_id and claims["aud"] == RESOURCE
    assert claims["client_id"] == app.id and claims["scope"] == "read" and claims["iss"] == ISSUER
    assert "act" not in claims
    oauth_error(await introspect_raw(client, app, body["access_token"]), 400, "unsupported_token_type")


async def introspect_raw(client: AsyncClient, app: App, token: str) -> Response:
    return await client.post("/oidc/token/introspection", data={"token": token, **app.form()}, headers=app.auth())


async def test_pat_exchange_is_active_in_introspection_until_revoked(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine
) -> None:
    user_id = await make_user(client, auth, db)
    app = await make_app(db, allowTokenExchange=True)
    pat = await personal_access_token(client, auth, user_id)
    response = await exchange(client, app, pat, PAT)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["issued_token_type"] == ACCESS_TOKEN and body["scope"] == ""
    info = await introspect(client, app, body["access_token"])
    assert info["active"] is True and info["sub"] == user_id and info["client_id"] == app.id
    # a PAT is not single use
    assert (await exchange(client, app, pat, PAT)).status_code == 200
    revoked = await client.post("/oidc/token/revocation", data={"token": body["access_token"]}, headers=app.auth())
    assert revoked.status_code == 200
    assert await introspect(client, app, body["access_token"]) == {"active": False}


async def test_pat_exchange_with_resource_gives_a_jwt(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine
) -> None:
    user_id = await make_user(client, auth, db)
    app = await make_app(db, "MachineToMachine", allowTokenExchange=True)
    pat = await personal_access_token(client, auth, user_id)
    response = await exchange(client, app, pat, PAT, resource=RESOURCE, scope="read")
    assert response.status_code == 200, response.text
    _, claims = await verify_jwt(client, response.json()["access_token"])
    assert claims["sub"] == user_id and claims["scope"] == "read" and claims["client_id"] == app.id


async def test_expired_and_unknown_pats_are_invalid_grant(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine
) -> None:
    user_id = await make_user(client, auth, db)
    app = await make_app(db, allowTokenExchange=True)
    pat = await personal_access_token(client, auth, user_id)
    async with db.begin() as conn:
        await conn.execute(
            sa.update(personal_access_tokens)
            .where(personal_access_tokens.c.value == pat)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert "expired" in oauth_error(await exchange(client, app, pat, PAT), 400, "invalid_grant")
    assert "not found" in oauth_error(await exchange(client, app, "pat_unknown", PAT), 400, "invalid_grant")
    # a subject token is not a PAT, and the other way round
    token = await subject_token(client, auth, user_id)
    oauth_error(await exchange(client, app, token, PAT), 400, "invalid_grant")


async def test_suspended_user_gets_no_token(client: AsyncClient, auth: dict[str, str], db: AsyncEngine) -> None:
    user_id = await make_user(client, auth, db)
    app = await make_app(db, allowTokenExchange=True)
    token = await subject_token(client, auth, user_id)
    pat = await personal_access_token(client, auth, user_id)
    suspend = await client.patch(f"/api/users/{user_id}/is-suspended", json={"isSuspended": True}, headers=auth)
    assert suspend.status_code == 200, suspend.text
    assert "suspended" in oauth_error(await exchange(client, app, token), 400, "invalid_grant")
    assert "suspended" in oauth_error(await exchange(client, app, pat, PAT), 400, "invalid_grant")


async def actor_access_token(client: AsyncClient, auth: dict[str, str], db: AsyncEngine, app: App) -> tuple[str, str]:
    """(actor id, an opaque access token with `openid` of the actor), obtained by an exchange too."""
    actor_id = await make_user(client, auth, db)
    response = await exchange(client, app, await subject_token(client, auth, actor_id), scope="openid")
    assert response.status_code == 200, response.text
    return actor_id, response.json()["access_token"]


async def test_actor_token_adds_act_to_opaque_and_jwt_tokens(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine
) -> None:
    app = await make_app(db, allowTokenExchange=True)
    actor_id, actor_token = await actor_access_token(client, auth, db, app)
    user_id = await make_user(client, auth, db)
    actor = {"actor_token": actor_token, "actor_token_type": ACCESS_TOKEN}

    opaque = await exchange(client, app, await subject_token(client, auth, user_id), **actor)
    assert opaque.status_code == 200, opaque.text
    info = await introspect(client, app, opaque.json()["access_token"])
    assert info["sub"] == user_id and info["act"] == {"sub": actor_id}

    signed = await exchange(client, app, await subject_token(client, auth, user_id), resource=RESOURCE, **actor)
    assert signed.status_code == 200, signed.text
    _, claims = await verify_jwt(client, signed.json()["access_token"])
    assert claims["sub"] == user_id and claims["act"] == {"sub": actor_id}

    # a JWT access token of the actor works as well
    jwt_actor = await exchange(client, app, await subject_token(client, auth, actor_id), resource=RESOURCE)
    by_jwt = await exchange(
        client,
        app,
        await subject_token(client, auth, user_id),
        actor_token=jwt_actor.json()["access_token"],
        actor_token_type=ACCESS_TOKEN,
    )
    assert by_jwt.status_code == 200, by_jwt.text
    assert (await introspect(client, app, by_jwt.json()["access_token"]))["act"] == {"sub": actor_id}


async def test_bad_actor_tokens_are_invalid_grant(client: AsyncClient, auth: dict[str, str], db: AsyncEngine) -> None:
    app = await make_app(db, allowTokenExchange=True)
    user_id = await make_user(client, auth, db)
    _, actor_token = await actor_access_token(client, auth, db, app)
    _, no_openid = await exchange_token(client, auth, db, app, scope="profile")
    token = await subject_token(client, auth, user_id)
    cases = [
        ({"actor_token": actor_token, "actor_token_type": PAT}, "unsupported actor token type"),
        ({"actor_token": actor_token}, "unsupported actor token type"),
        ({"actor_token": "opaque-nonsense", "actor_token_type": ACCESS_TOKEN}, "invalid actor token"),
        ({"actor_token": "eyJhbGciOi.eyJzdWIi.sig", "actor_token_type": ACCESS_TOKEN}, "invalid actor token"),
        ({"actor_token": no_openid, "actor_token_type": ACCESS_TOKEN}, "openid"),
    ]
    for extra, description in cases:
        assert description in oauth_error(await exchange(client, app, token, **extra), 400, "invalid_grant")
    # none of the refusals spent the subject token
    assert (await exchange(client, app, token)).status_code == 200


async def exchange_token(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine, app: App, **extra: str
) -> tuple[str, str]:
    user_id = await make_user(client, auth, db)
    response = await exchange(client, app, await subject_token(client, auth, user_id), **extra)
    assert response.status_code == 200, response.text
    return user_id, response.json()["access_token"]


async def test_bad_requests_are_oauth_errors(client: AsyncClient, auth: dict[str, str], db: AsyncEngine) -> None:
    app = await make_app(db, allowTokenExchange=True)
    user_id = await make_user(client, auth, db)
    token = await subject_token(client, auth, user_id)
    base = {"grant_type": GRANT, **app.form()}
    missing = await client.post("/oidc/token", data={**base, "subject_token_type": ACCESS_TOKEN}, headers=app.auth())
    assert "subject_token" in oauth_error(missing, 400, "invalid_request")
    missing_type = await client.post("/oidc/token", data={**base, "subject_token": token}, headers=app.auth())
    assert "subject_token_type" in oauth_error(missing_type, 400, "invalid_request")
    unknown_type = await exchange(client, app, token, "urn:ietf:params:oauth:token-type:id_token")
    assert "unsupported subject token type" in oauth_error(unknown_type, 400, "invalid_grant")
    organization = await exchange(client, app, token, organization_id="org-1")
    assert "not a member" in oauth_error(organization, 400, "access_denied")
    bad_secret = App(app.id, "wrong")
    oauth_error(await exchange(client, bad_secret, token), 401, "invalid_client")
    assert (await exchange(client, app, token)).status_code == 200  # still unspent
