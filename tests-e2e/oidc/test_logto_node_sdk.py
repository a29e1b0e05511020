"""A sign-in through Logto's official Node SDK, `@logto/node` (npm), against the gateway.

`node/sign-in-flow.mjs` configures `LogtoClient` with the gateway as `endpoint`, a Traditional web app
made through the Management API, an API resource and the scopes `email` and `read`. The SDK builds the
sign-in URL (from discovery) and hands it over; this test is the browser and the sign-in page: it signs
the user in with their password through the Experience API (via the gateway, as Logto's sign-in page
does) and brings the callback URL back to the SDK, which exchanges the code, verifies the ID token against the
OP's JWKS and then serves what an app asks for: ID token claims, userinfo, a resource-scoped access
token, an organization token (the user is a member of an organization made through the Management API),
the app context, and sign-out. Tokens are verified here too, with joserfc against `/oidc/jwks`.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from .conftest import (
    JWT_ALGORITHMS,
    POST_LOGOUT_URI,
    REDIRECT_URI,
    ApiResource,
    App,
    Experience,
    Management,
    Organization,
    SignedIn,
    User,
    join,
    make_user,
    query_of,
    sign_in_with_password,
)

NODE_PROJECT = Path(__file__).resolve().parent.parent / "node"
SCRIPT = NODE_PROJECT / "sign-in-flow.mjs"
SDK_SCOPES = ["email", "read"]
ORGANIZATIONS_SCOPE = "urn:logto:scope:organizations"  # the SDK's UserScope.Organizations
ORGANIZATIONS_RESOURCE = "urn:logto:resource:organizations"  # the SDK adds it with that scope
STEP_TIMEOUT = 60.0


@dataclass
class Flow:
    app: App
    user: User
    resource: ApiResource
    organization: Organization
    sign_in_url: str
    signed_in: SignedIn
    outcome: dict[str, Any]
    browser: httpx.Client

    def value(self, call: str) -> Any:
        result = self.outcome["calls"].get(call)
        assert result is not None, f"{call} was not reached: {json.dumps(self.outcome, indent=2)}"
        assert result["ok"], f"@logto/node {call} failed: {json.dumps(result['error'], indent=2)}"
        return result["value"]


@pytest.fixture(scope="module")
def node_project() -> Path:
    """The Node project with `@logto/node` installed (`npm ci` once, when it is missing)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("`node` and `npm` are needed on PATH to run Logto's @logto/node SDK")
    if not (NODE_PROJECT / "node_modules" / "@logto" / "node").is_dir():
        command = ["npm", "ci", "--no-audit", "--no-fund"]
        done = subprocess.run(command, cwd=NODE_PROJECT, capture_output=True, text=True, timeout=180, check=False)
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return NODE_PROJECT


def _read_json_line(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], STEP_TIMEOUT)
    line = proc.stdout.readline() if ready else ""
    if not line:
        proc.kill()
        _, err = proc.communicate(timeout=10)
        pytest.fail(f"sign-in-flow.mjs printed nothing (exit {proc.returncode}):\n{err}")
    parsed: dict[str, Any] = json.loads(line)
    return parsed


@pytest.fixture(scope="module")
def flow(
    node_project: Path,
    gateway_url: str,
    management: Management,
    api_resource: ApiResource,
    organization: Organization,
    experience: Experience,
) -> Iterator[Flow]:
    app = management.app("Traditional")
    user = make_user(management, api_resource)
    join(management, organization, user.id)
    config = {
        "endpoint": gateway_url,
        "appId": app.id,
        "appSecret": app.secret,
        "resources": [api_resource.indicator],
        "scopes": [*SDK_SCOPES, ORGANIZATIONS_SCOPE, organization.scope],
        "redirectUri": REDIRECT_URI,
        "postLogoutRedirectUri": POST_LOGOUT_URI,
        "organizationId": organization.id,
    }
    env = {**os.environ, "LOGTO_FLOW": json.dumps(config), "NODE_NO_WARNINGS": "1"}
    proc = subprocess.Popen(
        ["node", str(SCRIPT)],
        cwd=node_project,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with httpx.Client(timeout=10, follow_redirects=False) as browser:
        try:
            started = _read_json_line(proc)
            assert started.get("step") == "sign-in" and started.get("url"), started
            signed_in = sign_in_with_password(browser, experience, gateway_url, started["url"], user)
            assert proc.stdin is not None
            proc.stdin.write(json.dumps({"callbackUrl": signed_in.callback_url}) + "\n")
            proc.stdin.flush()
            outcome = _read_json_line(proc)
            proc.wait(timeout=STEP_TIMEOUT)
            assert outcome.get("step") == "done", json.dumps(outcome, indent=2)
            assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
            yield Flow(app, user, api_resource, organization, started["url"], signed_in, outcome, browser)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=10)


def _verify(http: httpx.Client, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = KeySet.import_key_set(http.get("/oidc/jwks").json())
    decoded = jwt.decode(token, keys, algorithms=JWT_ALGORITHMS)
    return dict(decoded.header), dict(decoded.claims)


def test_the_sdk_builds_its_sign_in_url_against_the_gateway(flow: Flow, gateway_url: str) -> None:
    assert flow.sign_in_url.startswith(f"{gateway_url}/oidc/auth?"), flow.sign_in_url
    sent = query_of(flow.sign_in_url)
    assert sent["client_id"] == flow.app.id and sent["redirect_uri"] == REDIRECT_URI
    assert sent["response_type"] == "code" and sent["code_challenge_method"] == "S256" and sent["code_challenge"]
    assert sent["prompt"] == "consent"
    assert set(parse_qs(urlsplit(flow.sign_in_url).query)["resource"]) == {
        flow.resource.indicator,
        ORGANIZATIONS_RESOURCE,
    }
    assert set(sent["scope"].split()) == {
        "openid",
        "offline_access",
        "profile",
        *SDK_SCOPES,
        ORGANIZATIONS_SCOPE,
        flow.organization.scope,
    }
    details = flow.signed_in.details
    assert details.client_id == flow.app.id
    assert set(details.resources) == {flow.resource.indicator, ORGANIZATIONS_RESOURCE}
    assert "read" in details.resource_scopes and "offline_access" in details.scopes


def test_the_sdk_handles_the_callback(flow: Flow) -> None:
    assert flow.outcome["isSignInRedirected"] is True
    flow.value("handleSignInCallback")
    assert flow.value("isAuthenticated") is True
    assert flow.value("getRefreshToken")


def test_id_token_claims_and_userinfo(flow: Flow, gateway_url: str, http: httpx.Client) -> None:
    claims = flow.value("getIdTokenClaims")
    assert claims["iss"] == f"{gateway_url}/oidc" and claims["aud"] == flow.app.id
    assert claims["sub"] == flow.user.id and claims["username"] == flow.user.username
    assert claims["email"] == flow.user.email and claims["name"] == flow.user.name
    _, verified = _verify(http, flow.value("getIdToken"))
    assert verified == claims
    info = flow.value("fetchUserInfo")
    assert info["sub"] == flow.user.id and info["email"] == flow.user.email and info["username"] == flow.user.username


def test_resource_scoped_access_token(flow: Flow, http: httpx.Client) -> None:
    indicator = flow.resource.indicator
    token = flow.value(f"getAccessToken:{indicator}")
    header, claims = _verify(http, token)
    assert header["typ"] == "at+jwt"
    assert claims["aud"] == indicator and claims["sub"] == flow.user.id and claims["client_id"] == flow.app.id
    assert claims["scope"] == "read"
    assert flow.value(f"getAccessTokenClaims:{indicator}") == claims
    context = flow.value("getContext")
    assert context["isAuthenticated"] is True and context["accessToken"] == token and context["scopes"] == ["read"]
    assert context["claims"]["sub"] == context["userInfo"]["sub"] == flow.user.id
    opaque = flow.value("getAccessToken")  # the one from the code exchange, for userinfo
    assert opaque and opaque != token


def test_organization_token(flow: Flow, http: httpx.Client) -> None:
    """`getOrganizationToken` refreshes with `organization_id`: a JWT for the organization carrying the
    organization scopes the user's organization role holds (and was granted at sign-in)."""
    token = flow.value("getOrganizationToken")
    header, claims = _verify(http, token)
    assert header["typ"] == "at+jwt"
    assert claims["aud"] == f"urn:logto:organization:{flow.organization.id}"
    assert claims["sub"] == flow.user.id and claims["client_id"] == flow.app.id
    assert claims["scope"] == flow.organization.scope
    assert flow.value("getOrganizationTokenClaims") == claims
    # the ID token names the user's organizations only when the tenant enables the claim; userinfo always
    assert flow.value("fetchUserInfo")["organizations"] == [flow.organization.id]


def test_sign_out(flow: Flow, gateway_url: str, http: httpx.Client) -> None:
    flow.value("signOut")
    assert flow.value("isAuthenticatedAfterSignOut") is False
    url = flow.outcome["signOutUrl"]
    assert url and url.startswith(f"{gateway_url}/oidc/session/end?"), url
    assert query_of(url) == {"client_id": flow.app.id, "post_logout_redirect_uri": POST_LOGOUT_URI}
    # the SDK revoked its refresh token before navigating
    refresh = flow.value("getRefreshToken")
    introspected = http.post(
        "/oidc/token/introspection", data={"token": refresh}, auth=(flow.app.id, flow.app.secret or "")
    )
    assert introspected.status_code == 200 and introspected.json() == {"active": False}, introspected.text
    # and the browser, sent to the end-session endpoint, comes back to the app signed out
    assert flow.browser.cookies.get("_session")
    answer = flow.browser.get(url)
    assert answer.status_code in (302, 303), answer.text
    assert urlsplit(answer.headers["location"])._replace(query="").geturl() == POST_LOGOUT_URI
    assert not flow.browser.cookies.get("_session")
