"""Gatehouse as an OpenID Provider for a client no one here wrote: authlib's OAuth 2.0 / OIDC client
(`authlib.integrations.httpx_client.OAuth2Client`), against the gateway only.

The client builds the authorization URL (PKCE S256), a browser follows it, the sign-in is reported over
the interaction RPC (as the experience service will), the browser comes back with the code and authlib
exchanges it. ID tokens and JWT access tokens are verified with joserfc against the keys of `/oidc/jwks`
(fetched through the gateway, nothing shared with the server) and the ID token's OIDC rules are checked
by authlib's own `CodeIDToken` (iss, aud, exp, iat, nonce, azp, at_hash).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from .conftest import (
    JWT_ALGORITHMS,
    POST_LOGOUT_URI,
    REDIRECT_URI,
    ApiResource,
    App,
    Experience,
    Management,
    User,
    browse_sign_in,
    query_of,
)

FULL_SCOPE = "openid profile email offline_access read write"
REUSE_GRACE = 3.0  # seconds a rotated refresh token stays usable (Logto's value)


def verify_jwt(http: httpx.Client, discovery: dict[str, Any], token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Signature against the JWKS the discovery document points at (through the gateway), then iss and exp."""
    jwks_uri = discovery["jwks_uri"]
    keys = KeySet.import_key_set(http.get(jwks_uri).json())
    decoded = jwt.decode(token, keys, algorithms=JWT_ALGORITHMS)
    JWTClaimsRegistry(
        iss={"essential": True, "value": discovery["issuer"]}, exp={"essential": True}, iat={"essential": True}
    ).validate(decoded.claims)
    return dict(decoded.header), dict(decoded.claims)


def verify_id_token(
    http: httpx.Client, discovery: dict[str, Any], token: dict[str, Any], client_id: str, nonce: str
) -> dict[str, Any]:
    header, claims = verify_jwt(http, discovery, token["id_token"])
    id_token = CodeIDToken(
        claims,
        header,
        options={
            "iss": {"essential": True, "value": discovery["issuer"]},
            "aud": {"essential": True, "value": client_id},
        },
        params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    id_token.validate(leeway=30)
    assert "at_hash" in claims  # so validate() really compared it with the access token
    return claims


@dataclass
class Session:
    """One authlib client after a completed authorization code + PKCE flow."""

    oauth: OAuth2Client
    app: App
    token: dict[str, Any]
    nonce: str
    id_claims: dict[str, Any]


def make_oauth(app: App, auth_method: str | None = None, scope: str = FULL_SCOPE) -> OAuth2Client:
    return OAuth2Client(
        client_id=app.id,
        client_secret=app.secret,
        token_endpoint_auth_method=auth_method or ("client_secret_basic" if app.secret else "none"),
        scope=scope,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        timeout=10,
    )


def authorize(
    oauth: OAuth2Client,
    discovery: dict[str, Any],
    browser: httpx.Client,
    experience: Experience,
    gateway_url: str,
    user: User,
    resource: ApiResource,
    **params: str,
) -> tuple[dict[str, Any], str, str]:
    """authlib builds the URL, the browser and the sign-in stand-in do the rest; authlib exchanges the code.
    Returns (token, nonce, authorization URL)."""
    verifier = generate_token(64)
    nonce = generate_token(20)
    url, state = oauth.create_authorization_url(
        discovery["authorization_endpoint"],
        code_verifier=verifier,
        nonce=nonce,
        resource=resource.indicator,
        **({"prompt": "consent"} | params),
    )
    sent = query_of(url)
    assert sent["code_challenge_method"] == "S256" and "code_verifier" not in sent
    digest = hashlib.sha256(verifier.encode()).digest()
    assert sent["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    signed_in = browse_sign_in(browser, experience, gateway_url, url, user.id)
    assert signed_in.details.client_id == oauth.client_id and signed_in.details.resources == [resource.indicator]
    back = signed_in.callback_url
    assert back.startswith(REDIRECT_URI + "?"), back
    assert query_of(back)["iss"] == discovery["issuer"] and query_of(back)["state"] == state
    token: dict[str, Any] = dict(
        oauth.fetch_token(discovery["token_endpoint"], authorization_response=back, code_verifier=verifier)
    )
    return token, nonce, back


@pytest.fixture
def session(
    management: Management,
    discovery: dict[str, Any],
    browser: httpx.Client,
    experience: Experience,
    gateway_url: str,
    user: User,
    api_resource: ApiResource,
    http: httpx.Client,
) -> Iterator[Session]:
    app = management.app("Traditional")
    with make_oauth(app) as oauth:
        token, nonce, _ = authorize(oauth, discovery, browser, experience, gateway_url, user, api_resource)
        yield Session(oauth, app, token, nonce, verify_id_token(http, discovery, token, app.id, nonce))


@pytest.mark.parametrize(
    ("app_type", "auth_method"),
    [("Traditional", "client_secret_basic"), ("Traditional", "client_secret_post"), ("SPA", "none")],
)
def test_authorization_code_with_pkce(
    app_type: str,
    auth_method: str,
    management: Management,
    discovery: dict[str, Any],
    browser: httpx.Client,
    experience: Experience,
    gateway_url: str,
    user: User,
    api_resource: ApiResource,
    http: httpx.Client,
) -> None:
    assert "S256" in discovery["code_challenge_methods_supported"]
    assert auth_method in discovery["token_endpoint_auth_methods_supported"]
    app = management.app(app_type)
    with make_oauth(app, auth_method) as oauth:
        token, nonce, callback = authorize(oauth, discovery, browser, experience, gateway_url, user, api_resource)
        assert token["token_type"].lower() == "bearer" and token["expires_at"] > time.time()
        assert token["refresh_token"] and token["id_token"]
        assert set(token["scope"].split()) >= {"openid", "profile", "email", "offline_access"}
        claims = verify_id_token(http, discovery, token, app.id, nonce)
        assert claims["sub"] == user.id and claims["username"] == user.username and claims["name"] == user.name
        assert claims["email"] == user.email
        assert browser.cookies.get("_session") and not browser.cookies.get("_interaction")

        # the code is single use
        with pytest.raises(OAuthError) as reused:
            oauth.fetch_token(discovery["token_endpoint"], authorization_response=callback, code_verifier="x" * 43)
        assert reused.value.error == "invalid_grant"


def test_a_wrong_pkce_verifier_is_refused(
    management: Management,
    discovery: dict[str, Any],
    browser: httpx.Client,
    experience: Experience,
    gateway_url: str,
    user: User,
    api_resource: ApiResource,
) -> None:
    with make_oauth(management.app("SPA")) as oauth:
        url, _ = oauth.create_authorization_url(
            discovery["authorization_endpoint"], code_verifier=generate_token(64), resource=api_resource.indicator
        )
        back = browse_sign_in(browser, experience, gateway_url, url, user.id).callback_url
        with pytest.raises(OAuthError) as refused:
            oauth.fetch_token(
                discovery["token_endpoint"], authorization_response=back, code_verifier=generate_token(64)
            )
        assert refused.value.error == "invalid_grant"


def test_userinfo(session: Session, discovery: dict[str, Any], user: User) -> None:
    response = session.oauth.get(discovery["userinfo_endpoint"])  # authlib puts the bearer token in the header
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["sub"] == user.id == session.id_claims["sub"]
    assert info["username"] == user.username and info["email"] == user.email and info["name"] == user.name


def test_refresh_for_the_resource_gives_a_jwt_access_token(
    session: Session, discovery: dict[str, Any], http: httpx.Client, user: User, api_resource: ApiResource
) -> None:
    first_refresh = session.token["refresh_token"]
    # no `scope` (None keeps authlib from adding the client's): all the grant holds on the resource
    refreshed = session.oauth.refresh_token(discovery["token_endpoint"], resource=api_resource.indicator, scope=None)
    assert refreshed["refresh_token"] != first_refresh  # rotated
    header, claims = verify_jwt(http, discovery, refreshed["access_token"])
    assert header["typ"] == "at+jwt"
    assert claims["aud"] == api_resource.indicator and claims["sub"] == user.id
    assert claims["client_id"] == session.app.id
    assert claims["scope"].split() == ["read"]  # the user's role grants read, not write
    assert claims["exp"] - claims["iat"] == api_resource.access_token_ttl
    narrowed = session.oauth.refresh_token(
        discovery["token_endpoint"], resource=api_resource.indicator, scope="openid offline_access read"
    )
    assert verify_jwt(http, discovery, narrowed["access_token"])[1]["scope"] == "read"
    # a refresh without `resource` keeps the grant's OIDC scopes and gives an opaque token for userinfo
    plain = session.oauth.refresh_token(discovery["token_endpoint"], scope="openid profile email offline_access")
    assert plain["access_token"].count(".") != 2
    assert session.oauth.get(discovery["userinfo_endpoint"]).json()["sub"] == user.id


GRANTED_SCOPE = "openid profile email offline_access read"  # what the user's role lets the app have


def test_refresh_with_the_client_configured_scope(
    management: Management,
    discovery: dict[str, Any],
    browser: httpx.Client,
    experience: Experience,
    gateway_url: str,
    user: User,
    api_resource: ApiResource,
) -> None:
    with make_oauth(management.app("Traditional"), scope=GRANTED_SCOPE) as oauth:
        token, _, _ = authorize(oauth, discovery, browser, experience, gateway_url, user, api_resource)
        assert token["refresh_token"]
        refreshed = oauth.refresh_token(discovery["token_endpoint"])  # authlib adds scope=GRANTED_SCOPE
        assert refreshed["access_token"] and refreshed["refresh_token"] != token["refresh_token"]
        assert oauth.get(discovery["userinfo_endpoint"]).json()["sub"] == user.id


def test_reuse_of_a_rotated_refresh_token_after_the_grace_revokes_the_grant(
    session: Session, discovery: dict[str, Any]
) -> None:
    oauth, token_endpoint = session.oauth, discovery["token_endpoint"]
    scope = "openid offline_access"
    first = session.token["refresh_token"]
    second = oauth.refresh_token(token_endpoint, refresh_token=first, scope=scope)["refresh_token"]
    # within the grace (concurrent refreshes of one client), the rotated token still works
    concurrent = oauth.refresh_token(token_endpoint, refresh_token=first, scope=scope)
    latest_access = concurrent["access_token"]
    time.sleep(REUSE_GRACE + 0.5)
    with pytest.raises(OAuthError) as reused:
        oauth.refresh_token(token_endpoint, refresh_token=first, scope=scope)
    assert reused.value.error == "invalid_grant"
    # taken as stolen: the whole grant is gone, with the tokens issued since
    for token in (second, concurrent["refresh_token"]):
        with pytest.raises(OAuthError) as revoked:
            oauth.refresh_token(token_endpoint, refresh_token=token, scope=scope)
        assert revoked.value.error == "invalid_grant"
    introspected = oauth.introspect_token(discovery["introspection_endpoint"], token=latest_access)
    assert introspected.status_code == 200 and introspected.json() == {"active": False}


def test_introspection_and_revocation(session: Session, discovery: dict[str, Any], user: User) -> None:
    oauth = session.oauth
    introspection, revocation = discovery["introspection_endpoint"], discovery["revocation_endpoint"]
    access, refresh = session.token["access_token"], session.token["refresh_token"]

    active = oauth.introspect_token(introspection, token=refresh, token_type_hint="refresh_token")
    assert active.status_code == 200, active.text
    info = active.json()
    assert info["active"] is True and info["sub"] == user.id and info["client_id"] == session.app.id
    assert "offline_access" in info["scope"].split() and info["exp"] > time.time()
    opaque = oauth.introspect_token(introspection, token=access, token_type_hint="access_token").json()
    assert opaque["active"] is True and opaque["sub"] == user.id

    assert oauth.revoke_token(revocation, token=access, token_type_hint="access_token").status_code == 200
    assert oauth.introspect_token(introspection, token=access).json() == {"active": False}
    denied = oauth.get(discovery["userinfo_endpoint"])
    assert denied.status_code == 401 and denied.headers["www-authenticate"].lower().startswith("bearer")

    assert oauth.revoke_token(revocation, token=refresh, token_type_hint="refresh_token").status_code == 200
    assert oauth.introspect_token(introspection, token=refresh).json() == {"active": False}
    with pytest.raises(OAuthError) as gone:
        oauth.refresh_token(discovery["token_endpoint"], refresh_token=refresh, scope="openid")
    assert gone.value.error == "invalid_grant"


def test_client_credentials(
    management: Management, discovery: dict[str, Any], http: httpx.Client, api_resource: ApiResource
) -> None:
    app = management.app("MachineToMachine")
    management.call("POST", f"/api/roles/{api_resource.m2m_role}/applications", 201, {"applicationIds": [app.id]})
    for method in ("client_secret_basic", "client_secret_post"):
        with OAuth2Client(app.id, app.secret, token_endpoint_auth_method=method, timeout=10) as oauth:
            token = oauth.fetch_token(
                discovery["token_endpoint"],
                grant_type="client_credentials",
                resource=api_resource.indicator,
                scope="read",
            )
            assert "refresh_token" not in token and "id_token" not in token
            header, claims = verify_jwt(http, discovery, token["access_token"])
            assert header["typ"] == "at+jwt"
            assert claims["sub"] == app.id == claims["client_id"] and claims["aud"] == api_resource.indicator
            assert claims["scope"] == "read" and claims["exp"] - claims["iat"] == api_resource.access_token_ttl
            with pytest.raises(OAuthError) as too_much:
                oauth.fetch_token(
                    discovery["token_endpoint"],
                    grant_type="client_credentials",
                    resource=api_resource.indicator,
                    scope="write",
                )
            assert too_much.value.error == "invalid_scope"
    with OAuth2Client(app.id, "not-the-secret", timeout=10) as wrong:
        with pytest.raises(OAuthError) as refused:
            wrong.fetch_token(
                discovery["token_endpoint"], grant_type="client_credentials", resource=api_resource.indicator
            )
        assert refused.value.error == "invalid_client"


def test_client_credentials_for_an_organization(
    management: Management, discovery: dict[str, Any], http: httpx.Client, api_resource: ApiResource
) -> None:
    """Organization-level machine-to-machine access: an M2M app made a member of an organization (through
    the organizations service) gets a token for the organization with its organization role's scopes,
    and for an API resource in the organization's context with the role's resource scopes."""
    suffix = secrets.token_hex(4)
    scope = management.call("POST", "/api/organization-scopes", 201, {"name": f"sync:members-{suffix}"})
    read = next(
        s for s in management.call("GET", f"/api/resources/{api_resource.id}/scopes", 200) if s["name"] == "read"
    )
    role = management.call(
        "POST",
        "/api/organization-roles",
        201,
        {
            "name": f"bot-{suffix}",
            "type": "MachineToMachine",
            "organizationScopeIds": [scope["id"]],
            "resourceScopeIds": [read["id"]],
        },
    )
    org = management.call("POST", "/api/organizations", 201, {"name": f"e2e-m2m-org-{suffix}"})
    app = management.app("MachineToMachine")
    with OAuth2Client(app.id, app.secret, timeout=10) as oauth:
        with pytest.raises(OAuthError) as outsider:
            oauth.fetch_token(discovery["token_endpoint"], grant_type="client_credentials", organization_id=org["id"])
        assert outsider.value.error == "access_denied"
        management.call("POST", f"/api/organizations/{org['id']}/applications", 201, {"applicationIds": [app.id]})
        management.call(
            "POST",
            f"/api/organizations/{org['id']}/applications/{app.id}/roles",
            201,
            {"organizationRoleIds": [role["id"]]},
        )
        endpoint = discovery["token_endpoint"]
        token = oauth.fetch_token(endpoint, grant_type="client_credentials", organization_id=org["id"])
        _, claims = verify_jwt(http, discovery, token["access_token"])
        assert claims["aud"] == f"urn:logto:organization:{org['id']}" and claims["sub"] == app.id
        assert claims["scope"] == scope["name"]
        in_context = oauth.fetch_token(
            discovery["token_endpoint"],
            grant_type="client_credentials",
            organization_id=org["id"],
            resource=api_resource.indicator,
        )
        _, claims = verify_jwt(http, discovery, in_context["access_token"])
        assert claims["aud"] == api_resource.indicator and claims["organization_id"] == org["id"]
        assert claims["scope"] == "read"


def test_rp_initiated_logout(
    management: Management,
    discovery: dict[str, Any],
    browser: httpx.Client,
    experience: Experience,
    gateway_url: str,
    user: User,
    api_resource: ApiResource,
) -> None:
    app = management.app("Traditional")
    with make_oauth(app, scope="openid profile") as oauth:
        token, _, _ = authorize(oauth, discovery, browser, experience, gateway_url, user, api_resource, prompt="login")
        assert "refresh_token" not in token  # no offline_access: the grant lives with the session
        assert browser.cookies.get("_session")
        logout = browser.get(
            discovery["end_session_endpoint"],
            params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": POST_LOGOUT_URI, "state": "bye"},
        )
        assert logout.status_code in (302, 303), logout.text
        assert logout.headers["location"] == f"{POST_LOGOUT_URI}?state=bye"
        assert not browser.cookies.get("_session")
        # the session is gone: a silent sign-in needs a login, and the session's grant ended with it
        silent, _ = oauth.create_authorization_url(
            discovery["authorization_endpoint"], code_verifier=generate_token(64), prompt="none"
        )
        answer = browser.get(silent)
        assert (
            answer.status_code in (302, 303)
            and urlsplit(answer.headers["location"]).path == urlsplit(REDIRECT_URI).path
        )
        assert query_of(answer.headers["location"])["error"] == "login_required"
        assert oauth.get(discovery["userinfo_endpoint"]).status_code == 401
