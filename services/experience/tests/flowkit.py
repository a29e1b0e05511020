"""What the Experience API flow tests share (sign-in, registration, social, actions; and the social token test
of the Account API): the browser that goes through `/oidc/auth` on identity and then the Experience API, a
started interaction, users, the sign-in experience row, social connectors and the test provider's codes, and
the error check."""

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest_asyncio
import sqlalchemy as sa
from gatehouse_connectors import FACTORIES
from gatehouse_connectors.oidc import nonce_for
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables import management as m
from gatehouse_schema.tables.management import sign_in_experiences
from gatehouse_testing.fake_provider import FakeProvider, fake_provider
from gatehouse_testing.oidc_flow import REDIRECT, make_flow_app
from httpx import AsyncClient, Response
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

# meets Logto's default password policy, which a registration checks
PASSWORD = "Gatehouse-Register-2o26!"
SOCIAL_CALLBACK = "https://sign-in.example.com/callback/social"


@pytest_asyncio.fixture(scope="module")
async def provider() -> AsyncIterator[FakeProvider]:
    """The test OIDC provider (import it into a test module, as `accountkit.rpc` is)."""
    async with fake_provider() as p:
        yield p


def error(response: Response, status: int, code: str) -> dict[str, Any]:
    """Asserts a Logto error response of `status` and `code`; its body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, response.text
    return body


async def make_user(
    identity: AsyncClient, auth: dict[str, str], *, email: bool = True, password: bool = True, **fields: Any
) -> dict[str, Any]:
    """A user made through identity's Management API: a new username, unless turned off an email address of the
    same name and `PASSWORD`, and any other `fields`."""
    name = f"exp{secrets.token_hex(5)}"
    body: dict[str, Any] = {"username": name}
    if email:
        body["primaryEmail"] = f"{name}@example.com"
    if password:
        body["password"] = PASSWORD
    created = await identity.post("/api/users", json={**body, **fields}, headers=auth)
    assert created.status_code == 200, created.text
    return dict(created.json())


def password_sign_in(identifier: str) -> dict[str, Any]:
    """A sign-in method of the sign-in experience: `identifier` with a password (primary), no verification code."""
    return {"identifier": identifier, "password": True, "verificationCode": False, "isPasswordPrimary": True}


async def write_sign_in_experience(db: AsyncEngine, settings: dict[str, Any]) -> None:
    """The tenant's sign-in experience, management's row as its seed and API write it, reduced to `settings`."""
    async with db.begin() as conn:
        await conn.execute(
            insert(sign_in_experiences)
            .values(tenant_id="default", id="default", settings=settings, updated_at=sa.func.now())
            .on_conflict_do_update(index_elements=[sign_in_experiences.c.tenant_id], set_={"settings": settings})
        )


async def sign_in_methods(db: AsyncEngine, *identifiers: str, mode: str = "SignInAndRegister") -> None:
    """The sign-in experience reduced to what the sign-in flow reads: the sign-in mode and the password sign-in
    methods."""
    await write_sign_in_experience(
        db, {"signInMode": mode, "signIn": {"methods": [password_sign_in(i) for i in identifiers]}}
    )


async def make_connector(
    db: AsyncEngine, provider: FakeProvider, *, sync_profile: bool = False, token_storage: bool = False
) -> tuple[str, str]:
    """A generic OIDC connector row of `provider` as management writes it; returns its id and target."""
    connector_id, target = generate_id(), f"soc-{generate_id()[:8].lower()}"
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(m.connectors).values(
                tenant_id="default",
                id=connector_id,
                connector_id="oidc",
                config=provider.oidc_config(),
                metadata={"target": target},
                sync_profile=sync_profile,
                enable_token_storage=token_storage,
                created_at=sa.func.now(),
            )
        )
    return connector_id, target


def oidc_code(
    provider: FakeProvider, sub: str, state: str, *, redirect_uri: str = SOCIAL_CALLBACK, **claims: Any
) -> str:
    """The code the provider hands out after its user signed in, for the nonce the connector derived from `state`."""
    nonce = nonce_for(FACTORIES["oidc"].parse_config(provider.oidc_config()), state)
    return provider.issue_code(sub, redirect_uri, nonce=nonce, **claims)


class Browser:
    """One browser: `/oidc/auth` on identity, then the Experience API with the `_interaction` cookie."""

    def __init__(self, identity: AsyncClient, experience: AsyncClient) -> None:
        # a cookie jar of its own (identity's session cookie included), on the same in-process app
        self.identity = AsyncClient(transport=identity._transport, base_url="http://127.0.0.1")
        self.experience = experience
        self.verifier = secrets.token_urlsafe(48)
        self.cookie = ""
        self.auth: dict[str, str] = {}  # the client authentication of the app it signs in to, once `started`

    async def authorize(self, client_id: str) -> None:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()
        params = {
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "openid profile",
            "state": "s1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        started = await self.identity.get("/oidc/auth", params=params)
        assert started.status_code == 303 and started.headers["location"].endswith("/sign-in"), started.text
        self.cookie = started.cookies["_interaction"]

    async def call(self, method: str, path: str, body: Any = None) -> Response:
        headers = {"cookie": f"_interaction={self.cookie}"} if self.cookie else {}
        return await self.experience.request(method, path, json=body, headers=headers)

    async def social(self, provider: FakeProvider, connector_id: str, sub: str, **claims: Any) -> str:
        """The social round trip: the authorization URI, the provider's code for `sub`, the verification."""
        state = secrets.token_urlsafe(8)
        path = f"/api/experience/verification/social/{connector_id}"
        created = await self.call("POST", f"{path}/authorization-uri", {"state": state, "redirectUri": SOCIAL_CALLBACK})
        assert created.status_code == 200, created.text
        verification_id = created.json()["verificationId"]
        code = oidc_code(provider, sub, state, **claims)
        verified = await self.call(
            "POST",
            f"{path}/verify",
            {"connectorData": {"code": code, "state": state}, "verificationId": verification_id},
        )
        assert verified.status_code == 200 and verified.json() == {"verificationId": verification_id}, verified.text
        return str(verification_id)

    async def finish(self) -> str:
        """Submits the interaction and follows identity to the client's redirect URI; returns the code."""
        submitted = await self.call("POST", "/api/experience/submit")
        assert submitted.status_code == 200, submitted.text
        finished = await self.identity.get(urlsplit(submitted.json()["redirectTo"]).path)
        assert finished.status_code == 303 and finished.headers["location"].startswith(REDIRECT), finished.text
        return parse_qs(urlsplit(finished.headers["location"]).query)["code"][0]


async def started(identity: AsyncClient, client: AsyncClient, db: AsyncEngine, event: str) -> Browser:
    """A new browser with an authorization of a new app started and the `event` interaction put."""
    app = await make_flow_app(db)
    browser = Browser(identity, client)
    await browser.authorize(app.id)
    browser.auth = app.auth()
    response = await browser.call("PUT", "/api/experience", {"interactionEvent": event})
    assert response.status_code == 204, response.text
    return browser
