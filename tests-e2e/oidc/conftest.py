"""What the real-client OIDC tests share: apps, an API resource and a user made through the Management API
(with the bootstrap M2M credentials), the browser's walk through `/oidc/auth`, and a stand-in for the
experience service, which reports the sign-in over the interaction RPC with this stack's subject prefix.

Everything goes through the gateway; the only other channel is NATS, for the RPC that experience will own.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import nats
import pytest
from gatehouse_devstack.stack import Stack
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.rpc.identity import (
    INTERACTION_GET,
    INTERACTION_RESULT,
    InteractionDetails,
    InteractionGet,
    InteractionResult,
    InteractionResultReply,
)

REDIRECT_URI = "https://rp.e2e.example.com/callback"
POST_LOGOUT_URI = "https://rp.e2e.example.com/signed-out"
JWT_ALGORITHMS = ["ES384", "ES256", "ES512", "RS256", "RS384", "RS512", "PS256", "EdDSA"]

T = TypeVar("T")


@dataclass(frozen=True)
class App:
    id: str
    secret: str | None
    type: str


@dataclass(frozen=True)
class ApiResource:
    id: str
    indicator: str
    access_token_ttl: int
    user_role: str  # a User role holding `read` (not `write`)
    m2m_role: str  # a MachineToMachine role holding `read`


@dataclass(frozen=True)
class User:
    id: str
    username: str
    email: str
    name: str
    password: str


class Management:
    """The Management API through the gateway, as the bootstrap M2M app."""

    def __init__(self, http: httpx.Client, auth: dict[str, str]) -> None:
        self.http = http
        self.auth = auth

    def call(self, method: str, path: str, expected: int, body: Any = None) -> Any:
        response = self.http.request(method, path, json=body, headers=self.auth)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def app(self, app_type: str, **extra: Any) -> App:
        body = {
            "name": f"e2e-{app_type.lower()}-{secrets.token_hex(3)}",
            "type": app_type,
            "oidcClientMetadata": {"redirectUris": [REDIRECT_URI], "postLogoutRedirectUris": [POST_LOGOUT_URI]},
            **extra,
        }
        created = self.call("POST", "/api/applications", 200, body)
        secret: str | None = None
        if app_type in ("Traditional", "MachineToMachine"):
            listed = self.call("GET", f"/api/applications/{created['id']}/secrets", 200)
            values = [s["value"] for s in listed if s.get("value")]
            assert values, f"no secret for a new {app_type} app: {listed}"
            secret = values[0]
        return App(created["id"], secret, app_type)


def gatehouse_as_provider(discovery: dict[str, Any], upstream: App, scope: str, **extra: Any) -> dict[str, Any]:
    """A Generic OIDC connector's config whose provider is this stack's own `/oidc`, `upstream` its client."""
    return {
        "authorizationEndpoint": discovery["authorization_endpoint"],
        "tokenEndpoint": discovery["token_endpoint"],
        "clientId": upstream.id,
        "clientSecret": upstream.secret,
        "scope": scope,
        "idTokenVerificationConfig": {"jwksUri": discovery["jwks_uri"], "issuer": discovery["issuer"]},
        **extra,
    }


@pytest.fixture(scope="session")
def management(http: httpx.Client, auth: dict[str, str]) -> Management:
    return Management(http, auth)


@pytest.fixture(scope="session")
def discovery(http: httpx.Client, gateway_url: str) -> dict[str, Any]:
    response = http.get("/oidc/.well-known/openid-configuration")
    assert response.status_code == 200, response.text
    doc: dict[str, Any] = response.json()
    assert doc["issuer"] == f"{gateway_url}/oidc", doc["issuer"]
    return doc


@pytest.fixture(scope="session")
def api_resource(management: Management) -> ApiResource:
    """An API resource with scopes `read` and `write`, a User role and an M2M role that both hold `read` only."""
    suffix = secrets.token_hex(4)
    resource = management.call(
        "POST",
        "/api/resources",
        201,
        {"name": f"e2e-oidc-{suffix}", "indicator": f"https://api.e2e-{suffix}.example.com", "accessTokenTtl": 900},
    )
    scopes = {
        name: management.call("POST", f"/api/resources/{resource['id']}/scopes", 201, {"name": name})["id"]
        for name in ("read", "write")
    }
    roles = {
        role_type: management.call(
            "POST",
            "/api/roles",
            200,
            {
                "name": f"e2e-{role_type.lower()}-reader-{suffix}",
                "description": "reads",
                "type": role_type,
                "scopeIds": [scopes["read"]],
            },
        )["id"]
        for role_type in ("User", "MachineToMachine")
    }
    return ApiResource(resource["id"], resource["indicator"], 900, roles["User"], roles["MachineToMachine"])


def make_user(management: Management, api_resource: ApiResource) -> User:
    """A new user (`POST /api/users`) holding the resource's User role."""
    name = f"e2e{secrets.token_hex(5)}"
    password = f"Pw-{secrets.token_urlsafe(12)}"
    created = management.call(
        "POST",
        "/api/users",
        200,
        {
            "username": name,
            "password": password,
            "primaryEmail": f"{name}@example.com",
            "name": "Ada Lovelace",
        },
    )
    management.call("POST", f"/api/users/{created['id']}/roles", 201, {"roleIds": [api_resource.user_role]})
    return User(created["id"], name, created["primaryEmail"], created["name"], password)


@pytest.fixture
def user(management: Management, api_resource: ApiResource) -> User:
    return make_user(management, api_resource)


@dataclass(frozen=True)
class Organization:
    id: str
    member_role: str  # an organization role holding the organization scope `read:members`
    scope: str


@pytest.fixture(scope="session")
def organization(management: Management) -> Organization:
    """An organization, made through the Management API (organizations service), with an organization role
    `member` that holds the organization scope `read:members` (and an admin-only scope nobody here holds)."""
    suffix = secrets.token_hex(4)
    scopes = {
        name: management.call("POST", "/api/organization-scopes", 201, {"name": f"{name}-{suffix}"})["id"]
        for name in ("read:members", "delete:organization")
    }
    role = management.call(
        "POST",
        "/api/organization-roles",
        201,
        {"name": f"member-{suffix}", "organizationScopeIds": [scopes["read:members"]]},
    )
    org = management.call("POST", "/api/organizations", 201, {"name": f"e2e-org-{suffix}"})
    return Organization(org["id"], role["id"], f"read:members-{suffix}")


def join(management: Management, organization: Organization, user_id: str) -> None:
    """Adds the user to the organization with its `member` role."""
    management.call("POST", f"/api/organizations/{organization.id}/users", 201, {"userIds": [user_id]})
    management.call(
        "POST",
        f"/api/organizations/{organization.id}/users/{user_id}/roles",
        201,
        {"organizationRoleIds": [organization.member_role]},
    )


class Experience:
    """Stands in for the experience service: reads the pending interaction from the browser's
    `_interaction` cookie and reports who signed in over `<prefix>.rpc.identity.interaction.*`."""

    def __init__(self, nats_url: str, prefix: str) -> None:
        self.nats_url = nats_url
        self.prefix = prefix
        self._pool = ThreadPoolExecutor(max_workers=1)  # its own event loop, apart from pytest-asyncio's

    def _call(self, command: str, request: Any, reply_type: type[T]) -> T:
        async def call() -> T:
            nc = await nats.connect(self.nats_url)
            try:
                return await RpcClient(nc, self.prefix, 5.0).call("identity", command, request, reply_type)
            finally:
                await nc.close()

        return self._pool.submit(asyncio.run, call()).result(timeout=30)

    def details(self, cookie: str) -> InteractionDetails:
        return self._call(INTERACTION_GET, InteractionGet(cookie=cookie), InteractionDetails)

    def sign_in(self, uid: str, account_id: str) -> str:
        return self._call(
            INTERACTION_RESULT, InteractionResult(uid=uid, account_id=account_id), InteractionResultReply
        ).redirect_to

    def close(self) -> None:
        self._pool.shutdown(wait=True)


@pytest.fixture(scope="session")
def experience(stack: Stack) -> Iterator[Experience]:
    standin = Experience(stack.config.nats_url, stack.config.subject_prefix)
    yield standin
    standin.close()


@dataclass(frozen=True)
class SignedIn:
    details: InteractionDetails
    callback_url: str  # where the OP sent the browser back: redirect_uri with code, state, iss


def browse_sign_in(
    browser: httpx.Client, experience: Experience, gateway_url: str, authorization_url: str, user_id: str
) -> SignedIn:
    """What a browser and the (future) sign-in page do with an authorization URL built by a client:
    `/oidc/auth` -> the hosted sign-in page, the interaction result over RPC, `/oidc/auth/{uid}` -> the
    client's redirect URI. Returns the callback URL for the client to handle."""
    started = browser.get(authorization_url)
    assert started.status_code in (302, 303), f"/oidc/auth answered {started.status_code}: {started.text}"
    assert started.headers["location"] == f"{gateway_url}/sign-in", started.headers["location"]
    cookie = browser.cookies.get("_interaction")
    assert cookie, "no _interaction cookie after /oidc/auth"
    details = experience.details(cookie)
    resume = experience.sign_in(details.uid, user_id)
    assert resume == f"{gateway_url}/oidc/auth/{details.uid}", resume
    finished = browser.get(resume)
    assert finished.status_code in (302, 303), f"{resume} answered {finished.status_code}: {finished.text}"
    return SignedIn(details, finished.headers["location"])


def sign_in_with_password(
    browser: httpx.Client, experience: Experience, gateway_url: str, authorization_url: str, user: User
) -> SignedIn:
    """What a browser and Logto's sign-in page do with an authorization URL: `/oidc/auth` -> the sign-in
    page, then the Experience API through the gateway (start a SignIn, verify the password, identify,
    submit) -> `/oidc/auth/{uid}` -> the client's redirect URI. The interaction's details are read over
    RPC first, for the test to inspect. Returns them and the callback URL."""
    started = browser.get(authorization_url)
    assert started.status_code in (302, 303), f"/oidc/auth answered {started.status_code}: {started.text}"
    assert started.headers["location"] == f"{gateway_url}/sign-in", started.headers["location"]
    details = experience.details(browser.cookies.get("_interaction") or "")
    username, password = user.username, user.password
    api = f"{gateway_url}/api/experience"
    assert browser.put(api, json={"interactionEvent": "SignIn"}).status_code == 204
    verified = browser.post(
        f"{api}/verification/password",
        json={"identifier": {"type": "username", "value": username}, "password": password},
    )
    assert verified.status_code == 200, verified.text
    identified = browser.post(f"{api}/identification", json={"verificationId": verified.json()["verificationId"]})
    assert identified.status_code == 204, identified.text
    submitted = browser.post(f"{api}/submit")
    assert submitted.status_code == 200, submitted.text
    finished = browser.get(submitted.json()["redirectTo"])
    assert finished.status_code in (302, 303), f"{finished.url} answered {finished.status_code}: {finished.text}"
    return SignedIn(details, str(finished.headers["location"]))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """A browser: its own cookie jar, redirects followed by hand (the last hop leaves for the RP)."""
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        yield client
