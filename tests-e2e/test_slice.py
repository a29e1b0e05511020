"""The first vertical slice, end to end through the gateway: OIDC discovery, JWKS, client credentials,
the Management API for applications, the audit log fed by events, cache invalidation by events, and
the gateway's answer when a service is down. Every request goes to the gateway URL.

The test that stops a service is the last one in this file.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from gatehouse_devstack.stack import Stack
from joserfc import jwt
from joserfc.jwk import KeySet

if TYPE_CHECKING:
    from conftest import Bootstrap

MANAGEMENT_API = "https://default.logto.app/api"
OAUTH_ERROR_KEYS = {"code", "message", "error", "error_description"}


def poll(check: Callable[[], Any], deadline: float, interval: float = 0.05) -> Any:
    """`check()` until it returns something truthy or `deadline` seconds pass; returns the last result."""
    end = time.monotonic() + deadline
    while True:
        result = check()
        if result or time.monotonic() > end:
            return result
        time.sleep(interval)


def assert_oauth_error(resp: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    assert set(body) == OAUTH_ERROR_KEYS, body
    assert body["code"] == f"oidc.{error}"
    assert body["error"] == error
    assert body["message"] and body["error_description"]
    assert resp.headers["cache-control"] == "no-store"
    return body


def assert_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = resp.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert set(body) <= {"code", "message", "data"}, body
    return body


def token_request(http: httpx.Client, form: dict[str, str], **kwargs: Any) -> httpx.Response:
    return http.post("/oidc/token", data=form, **kwargs)


# --- OIDC ------------------------------------------------------------------------------------------


def test_discovery(http: httpx.Client, gateway_url: str) -> None:
    resp = http.get("/oidc/.well-known/openid-configuration")
    assert resp.status_code == 200
    doc = resp.json()
    issuer = gateway_url + "/oidc"
    assert doc["issuer"] == issuer
    assert doc["jwks_uri"] == issuer + "/jwks"
    assert doc["token_endpoint"] == issuer + "/token"
    assert "client_credentials" in doc["grant_types_supported"]
    assert {"client_secret_basic", "client_secret_post"} <= set(doc["token_endpoint_auth_methods_supported"])


def test_jwks_has_an_es384_key(http: httpx.Client) -> None:
    resp = http.get("/oidc/jwks")
    assert resp.status_code == 200
    keys = resp.json()["keys"]
    assert keys
    ec = [k for k in keys if k["kty"] == "EC" and k["crv"] == "P-384"]
    assert ec, keys
    key = ec[0]
    assert key["alg"] == "ES384"
    assert key["kid"]
    assert {"x", "y"} <= set(key)
    for k in keys:  # public keys only
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(k), k


def _verify(http: httpx.Client, gateway_url: str, token: str, client_id: str) -> dict[str, Any]:
    key_set = KeySet.import_key_set(http.get("/oidc/jwks").json())
    decoded = jwt.decode(token, key_set, algorithms=["ES384"])
    assert decoded.header["typ"] == "at+jwt"
    assert decoded.header["alg"] == "ES384"
    claims: dict[str, Any] = decoded.claims
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": gateway_url + "/oidc"},
        aud={"essential": True, "value": MANAGEMENT_API},
        client_id={"essential": True, "value": client_id},
        scope={"essential": True, "value": "all"},
        jti={"essential": True},
        iat={"essential": True},
        exp={"essential": True},
    ).validate(claims)
    now = time.time()
    assert claims["iat"] <= now + 5
    assert claims["exp"] > now
    assert claims["exp"] - claims["iat"] == 3600
    return claims


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_client_credentials(http: httpx.Client, gateway_url: str, bootstrap: Bootstrap, method: str) -> None:
    form = {"grant_type": "client_credentials", "resource": MANAGEMENT_API, "scope": "all"}
    if method == "client_secret_basic":
        resp = token_request(http, form, auth=(bootstrap.client_id, bootstrap.client_secret))
    else:
        form |= {"client_id": bootstrap.client_id, "client_secret": bootstrap.client_secret}
        resp = token_request(http, form)
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "all"
    assert "refresh_token" not in body and "id_token" not in body
    _verify(http, gateway_url, body["access_token"], bootstrap.client_id)


def test_client_credentials_without_scope_gets_all_granted(http: httpx.Client, bootstrap: Bootstrap) -> None:
    form = {"grant_type": "client_credentials", "resource": MANAGEMENT_API}
    resp = token_request(http, form, auth=(bootstrap.client_id, bootstrap.client_secret))
    assert resp.status_code == 200, resp.text
    assert resp.json()["scope"] == "all"


def test_tokens_are_distinct(http: httpx.Client, gateway_url: str, bootstrap: Bootstrap) -> None:
    form = {"grant_type": "client_credentials", "resource": MANAGEMENT_API, "scope": "all"}
    tokens = [
        token_request(http, form, auth=(bootstrap.client_id, bootstrap.client_secret)).json()["access_token"]
        for _ in range(2)
    ]
    claims = [_verify(http, gateway_url, t, bootstrap.client_id) for t in tokens]
    assert claims[0]["jti"] != claims[1]["jti"]


def test_no_resource_is_invalid_target(http: httpx.Client, bootstrap: Bootstrap) -> None:
    resp = token_request(
        http, {"grant_type": "client_credentials"}, auth=(bootstrap.client_id, bootstrap.client_secret)
    )
    assert_oauth_error(resp, 400, "invalid_target")


def test_unknown_resource_is_invalid_target(http: httpx.Client, bootstrap: Bootstrap) -> None:
    form = {"grant_type": "client_credentials", "resource": "https://nothing.example/api"}
    resp = token_request(http, form, auth=(bootstrap.client_id, bootstrap.client_secret))
    assert_oauth_error(resp, 400, "invalid_target")


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_wrong_secret_is_invalid_client(http: httpx.Client, bootstrap: Bootstrap, method: str) -> None:
    form = {"grant_type": "client_credentials", "resource": MANAGEMENT_API}
    if method == "client_secret_basic":
        resp = token_request(http, form, auth=(bootstrap.client_id, "wrong"))
        assert resp.headers["www-authenticate"].lower().startswith("basic")
    else:
        resp = token_request(http, form | {"client_id": bootstrap.client_id, "client_secret": "wrong"})
    assert_oauth_error(resp, 401, "invalid_client")


def test_unknown_client_is_invalid_client(http: httpx.Client) -> None:
    form = {"grant_type": "client_credentials", "resource": MANAGEMENT_API}
    resp = token_request(http, form, auth=("no-such-client", "secret"))
    assert_oauth_error(resp, 401, "invalid_client")


def test_unknown_grant_type(http: httpx.Client, bootstrap: Bootstrap) -> None:
    form = {"grant_type": "urn:example:nothing", "resource": MANAGEMENT_API}
    resp = token_request(http, form, auth=(bootstrap.client_id, bootstrap.client_secret))
    assert_oauth_error(resp, 400, "unsupported_grant_type")


def test_scope_not_granted_is_invalid_scope(http: httpx.Client, bootstrap: Bootstrap) -> None:
    form = {"grant_type": "client_credentials", "resource": MANAGEMENT_API, "scope": "all write:everything"}
    resp = token_request(http, form, auth=(bootstrap.client_id, bootstrap.client_secret))
    assert_oauth_error(resp, 400, "invalid_scope")


def test_non_form_body_is_invalid_request(http: httpx.Client, bootstrap: Bootstrap) -> None:
    resp = http.post(
        "/oidc/token",
        json={"grant_type": "client_credentials", "resource": MANAGEMENT_API},
        auth=(bootstrap.client_id, bootstrap.client_secret),
    )
    assert_oauth_error(resp, 400, "invalid_request")


def test_basic_and_post_credentials_together_is_invalid_request(http: httpx.Client, bootstrap: Bootstrap) -> None:
    form = {"grant_type": "client_credentials", "resource": MANAGEMENT_API, "client_secret": bootstrap.client_secret}
    resp = token_request(http, form, auth=(bootstrap.client_id, bootstrap.client_secret))
    assert_oauth_error(resp, 400, "invalid_request")


# --- Management API: applications ----------------------------------------------------------------


def test_no_token_is_401(http: httpx.Client) -> None:
    assert_error(http.get("/api/applications"), 401, "auth.authorization_header_missing")


def test_garbage_token_is_401(http: httpx.Client) -> None:
    assert_error(http.get("/api/applications", headers={"Authorization": "Bearer x.y.z"}), 401, "auth.unauthorized")


def test_tampered_token_is_401(http: httpx.Client, bootstrap: Bootstrap) -> None:
    """A real token whose audience was rewritten (so its signature no longer matches) is refused."""
    basic = base64.b64encode(f"{bootstrap.client_id}:{bootstrap.client_secret}".encode()).decode()
    token = token_request(
        http,
        {"grant_type": "client_credentials", "resource": MANAGEMENT_API, "scope": "all"},
        headers={"Authorization": f"Basic {basic}"},
    ).json()["access_token"]
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["aud"] = "https://other.example/api"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    resp = http.get("/api/applications", headers={"Authorization": f"Bearer {head}.{forged}.{sig}"})
    assert_error(resp, 401, "auth.unauthorized")


def _create(http: httpx.Client, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    resp = http.post("/api/applications", json=body, headers=auth)
    assert resp.status_code == 200, resp.text
    app: dict[str, Any] = resp.json()
    return app


def test_application_crud(http: httpx.Client, auth: dict[str, str]) -> None:
    app = _create(http, auth, name="e2e crud", type="SPA", description="made by the e2e slice")
    assert app["name"] == "e2e crud"
    assert app["type"] == "SPA"
    assert app["description"] == "made by the e2e slice"
    assert app["tenantId"] == "default"
    assert isinstance(app["createdAt"], int)
    app_id = app["id"]

    got = http.get(f"/api/applications/{app_id}", headers=auth)
    assert got.status_code == 200
    assert got.json() == app

    listed = http.get("/api/applications", headers=auth)
    assert listed.status_code == 200
    assert app_id in [a["id"] for a in listed.json()]

    page = http.get("/api/applications", params={"page": 1, "page_size": 1}, headers=auth)
    assert page.status_code == 200
    assert len(page.json()) == 1
    total = int(page.headers["total-number"])
    assert total >= 2  # the bootstrap app and this one
    everything = http.get("/api/applications", params={"page": 1, "page_size": 100}, headers=auth)
    assert len(everything.json()) == total

    patched = http.patch(f"/api/applications/{app_id}", json={"name": "e2e renamed"}, headers=auth)
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "e2e renamed"
    assert patched.json()["description"] == "made by the e2e slice"
    assert http.get(f"/api/applications/{app_id}", headers=auth).json()["name"] == "e2e renamed"

    deleted = http.delete(f"/api/applications/{app_id}", headers=auth)
    assert deleted.status_code == 204
    assert_error(http.get(f"/api/applications/{app_id}", headers=auth), 404, "entity.not_exists_with_id")
    assert_error(http.delete(f"/api/applications/{app_id}", headers=auth), 404, "entity.not_exists_with_id")


def test_m2m_secrets_are_only_on_the_secrets_route(http: httpx.Client, auth: dict[str, str]) -> None:
    app = _create(http, auth, name="e2e m2m", type="MachineToMachine")
    try:
        secrets = http.get(f"/api/applications/{app['id']}/secrets", headers=auth)
        assert secrets.status_code == 200, secrets.text
        rows = secrets.json()
        assert [s["name"] for s in rows] == ["Default secret"]
        value = rows[0]["value"]
        assert value
        for shown in (app, http.get(f"/api/applications/{app['id']}", headers=auth).json()):
            assert "secret" not in shown
            assert value not in json.dumps(shown)
    finally:
        http.delete(f"/api/applications/{app['id']}", headers=auth)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"type": "SPA"}', id="missing-name"),
        pytest.param(b'{"name": "x", "type": "Spaceship"}', id="unknown-type"),
        pytest.param(b'{"name": 123, "type": "SPA"}', id="wrong-json-type"),
        pytest.param(b'{"name": "x", "type": "SPA", "isThirdParty": "yes"}', id="wrong-json-type-bool"),
        pytest.param(b'{"name": "x", "type": "SPA"', id="malformed-json"),
        pytest.param(b"[]", id="not-an-object"),
        pytest.param(b"", id="empty-body"),
    ],
)
def test_create_bad_input_is_400(http: httpx.Client, auth: dict[str, str], body: bytes) -> None:
    resp = http.post("/api/applications", content=body, headers=auth | {"content-type": "application/json"})
    assert_error(resp, 400, "guard.invalid_input")


def test_patch_bad_input_is_400(http: httpx.Client, auth: dict[str, str], bootstrap: Bootstrap) -> None:
    url = f"/api/applications/{bootstrap.client_id}"
    assert_error(http.patch(url, json={"name": 5}, headers=auth), 400, "guard.invalid_input")
    resp = http.patch(url, content=b"{nope", headers=auth | {"content-type": "application/json"})
    assert_error(resp, 400, "guard.invalid_input")


def test_list_filters_by_type(http: httpx.Client, auth: dict[str, str]) -> None:
    spa = _create(http, auth, name="e2e filter spa", type="SPA")
    native = _create(http, auth, name="e2e filter native", type="Native")
    try:
        only_spa = http.get("/api/applications", params={"types": "SPA"}, headers=auth).json()
        assert spa["id"] in [a["id"] for a in only_spa]
        assert {a["type"] for a in only_spa} == {"SPA"}
        both = http.get("/api/applications", params=[("types", "SPA"), ("types", "Native")], headers=auth).json()
        assert {spa["id"], native["id"]} <= {a["id"] for a in both}
        assert_error(http.get("/api/applications", params={"types": "Nope"}, headers=auth), 400, "guard.invalid_input")
    finally:
        for app in (spa, native):
            http.delete(f"/api/applications/{app['id']}", headers=auth)


def test_patch_accepts_is_admin(http: httpx.Client, auth: dict[str, str]) -> None:
    app = _create(http, auth, name="e2e is-admin", type="MachineToMachine")
    try:
        resp = http.patch(f"/api/applications/{app['id']}", json={"isAdmin": False}, headers=auth)
        assert resp.status_code == 200, resp.text
        assert resp.json()["id"] == app["id"]
    finally:
        http.delete(f"/api/applications/{app['id']}", headers=auth)


def test_create_ignores_unknown_fields(http: httpx.Client, auth: dict[str, str]) -> None:
    resp = http.post("/api/applications", json={"name": "e2e extra", "type": "SPA", "color": "red"}, headers=auth)
    assert resp.status_code == 200, resp.text
    assert "color" not in resp.json()
    http.delete(f"/api/applications/{resp.json()['id']}", headers=auth)


def test_empty_name_is_400(http: httpx.Client, auth: dict[str, str], bootstrap: Bootstrap) -> None:
    assert_error(
        http.post("/api/applications", json={"name": "", "type": "SPA"}, headers=auth), 400, "guard.invalid_input"
    )
    resp = http.patch(f"/api/applications/{bootstrap.client_id}", json={"name": ""}, headers=auth)
    assert_error(resp, 400, "guard.invalid_input")


@pytest.mark.parametrize("params", [{"page_size": "0"}, {"page": "0"}, {"page_size": "101"}, {"page": "x"}], ids=str)
def test_bad_pagination_is_400(http: httpx.Client, auth: dict[str, str], params: dict[str, str]) -> None:
    assert_error(http.get("/api/applications", params=params, headers=auth), 400, "guard.invalid_pagination")


def test_unknown_id_is_404(http: httpx.Client, auth: dict[str, str]) -> None:
    body = assert_error(http.get("/api/applications/no-such-app", headers=auth), 404, "entity.not_exists_with_id")
    assert "no-such-app" in body["message"]
    resp = http.patch("/api/applications/no-such-app", json={"name": "x"}, headers=auth)
    assert_error(resp, 404, "entity.not_exists_with_id")
    assert_error(http.get("/api/applications/no-such-app/secrets", headers=auth), 404, "entity.not_exists_with_id")


# --- events: audit log and cache invalidation ---------------------------------------------------


def test_created_application_shows_in_audit_log_within_1s(http: httpx.Client, auth: dict[str, str]) -> None:
    app = _create(http, auth, name="e2e audited", type="Native")
    created = time.monotonic()
    try:

        def entry() -> dict[str, Any] | None:
            resp = http.get("/api/logs", params={"logKey": "Application.Created"}, headers=auth)
            assert resp.status_code == 200, resp.text
            return next((e for e in resp.json() if e["payload"].get("subject") == app["id"]), None)

        found = poll(entry, deadline=1.0)
        assert found is not None, f"no audit entry after {time.monotonic() - created:.2f}s"
        assert time.monotonic() - created < 1.5
        assert found["key"] == "Application.Created"
        assert app["id"] in json.dumps(found["payload"]["params"])
    finally:
        http.delete(f"/api/applications/{app['id']}", headers=auth)


def test_deleted_client_cannot_get_tokens(http: httpx.Client, auth: dict[str, str]) -> None:
    app = _create(http, auth, name="e2e doomed", type="MachineToMachine")
    secret = http.get(f"/api/applications/{app['id']}/secrets", headers=auth).json()[0]["value"]
    form = {"grant_type": "client_credentials", "resource": MANAGEMENT_API}
    first = token_request(http, form, auth=(app["id"], secret))  # identity now holds the client in its cache
    assert first.status_code == 200, first.text
    assert first.json()["scope"] == ""  # no roles: a token without scopes

    assert http.delete(f"/api/applications/{app['id']}", headers=auth).status_code == 204
    deleted = time.monotonic()
    rejected = poll(lambda: token_request(http, form, auth=(app["id"], secret)).status_code == 401, deadline=2.0)
    assert rejected, "the deleted client still gets tokens (its cached record was not invalidated)"
    assert time.monotonic() - deleted < 2.5
    assert_oauth_error(token_request(http, form, auth=(app["id"], secret)), 401, "invalid_client")


# --- the gateway's own routes --------------------------------------------------------------------


def test_status(http: httpx.Client) -> None:
    resp = http.get("/api/status")
    assert resp.status_code == 204


def test_unknown_route(http: httpx.Client) -> None:
    assert_error(http.get("/api/nope"), 404, "request.route_not_found")


def test_swagger_json(http: httpx.Client, gateway_url: str) -> None:
    resp = http.get("/api/swagger.json")
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["openapi"].startswith("3.")
    assert doc["servers"][0]["url"] == gateway_url
    assert doc["paths"]["/api/applications"]["get"]["operationId"] == "ListApplications"
    assert doc["paths"]["/api/applications"]["post"]["operationId"] == "CreateApplication"
    assert "/health" not in doc["paths"]


def test_request_id_round_trip(http: httpx.Client) -> None:
    resp = http.get("/oidc/jwks", headers={"x-request-id": "e2e-req-1"})
    assert resp.headers.get_list("x-request-id") == ["e2e-req-1"]


# --- last: a service goes down -------------------------------------------------------------------


def test_stopped_service_is_503_within_1s(http: httpx.Client, stack: Stack) -> None:
    """Runs last: the organizations service stays stopped for the rest of the session."""
    assert http.get("/api/organizations").status_code != 503
    stack.stop_service("organizations")
    started = time.monotonic()
    resp = http.get("/api/organizations")
    elapsed = time.monotonic() - started
    body = assert_error(resp, 503, "request.service_unavailable")
    assert "organizations" in body["message"]
    assert elapsed < 1.0, elapsed
    assert http.get("/oidc/jwks").status_code == 200  # the rest still serves
