"""Drives identity's authorization-code flow in tests as a browser and experience would: `/oidc/auth`,
the interaction result RPC, `/oidc/auth/{uid}`, then the code exchange at `/oidc/token`."""

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.ids import generate_id, generate_secret
from gatehouse_schema.rpc.identity import InteractionResult, InteractionResultReply
from gatehouse_schema.tables import management as m
from httpx import AsyncClient, Response
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncEngine

REDIRECT = "https://app.example.com/callback"
LOGOUT = "https://app.example.com/signed-out"


@dataclass(frozen=True)
class FlowApp:
    id: str
    secret: str | None

    def auth(self) -> dict[str, str]:
        if self.secret is None:
            return {}
        raw = f"{self.id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def form(self) -> dict[str, str]:
        return {"client_id": self.id} if self.secret is None else {}


async def make_flow_app(
    engine: AsyncEngine,
    *,
    name: str = "web",
    third_party: bool = False,
    oidc_metadata: dict[str, Any] | None = None,
    custom_data: dict[str, Any] | None = None,
) -> FlowApp:
    """A confidential (Traditional) application registered with `REDIRECT` and `LOGOUT`."""
    app_id, secret = generate_id(), generate_secret()
    metadata = {"redirectUris": [REDIRECT], "postLogoutRedirectUris": [LOGOUT], **(oidc_metadata or {})}
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(m.applications).values(
                tenant_id="default",
                id=app_id,
                name=name,
                secret=secret,
                type="Traditional",
                oidc_client_metadata=metadata,
                custom_client_metadata={},
                custom_data=custom_data or {},
                is_third_party=third_party,
                app_level_access_control_enabled=False,
            )
        )
    return FlowApp(app_id, secret)


def _query(response: Response) -> dict[str, str]:
    assert response.status_code == 303, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


async def sign_in_and_exchange(
    client: AsyncClient,
    browser: AsyncClient,
    rpc: RpcClient,
    app: FlowApp,
    user_id: str,
    scope: str = "openid profile offline_access",
    resources: tuple[str, ...] = (),
    *,
    consent: bool = False,
) -> dict[str, Any]:
    """Signs `user_id` in to `app` (consenting) in `browser`, whose cookies are cleared first so every
    call is a sign-in of its own with a new session; returns the token response. A third-party app needs
    `consent` (experience's report that the user consented)."""
    browser.cookies.clear()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("client_id", app.id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", scope),
        ("state", secrets.token_hex(8)),
        ("prompt", "consent"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        *(("resource", r) for r in resources),
    ]
    started = await browser.get("/oidc/auth", params=params)
    assert started.status_code == 303, started.text
    uid = (browser.cookies.get("_interaction") or "").rpartition(".")[0]
    reply = await rpc.call(
        "identity",
        "interaction.result",
        InteractionResult(uid=uid, account_id=user_id, consent=consent),
        InteractionResultReply,
    )
    code = _query(await browser.get(urlsplit(reply.redirect_to).path))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    tokens = await client.post("/oidc/token", data={**form, **app.form()}, headers=app.auth())
    assert tokens.status_code == 200, tokens.text
    body: dict[str, Any] = tokens.json()
    return body


async def verify_jwt(client: AsyncClient, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a token issued by identity, verified against `/oidc/jwks` only."""
    keys = KeySet.import_key_set((await client.get("/oidc/jwks")).json())
    decoded = jwt.decode(token, keys, algorithms=["ES384", "ES256", "RS256"])
    return decoded.header, decoded.claims
