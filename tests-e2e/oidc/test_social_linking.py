"""Linking a social identity end to end through the gateway, with Gatehouse itself as the social provider:
a Generic OIDC connector (`POST /api/connectors`) whose endpoints are this stack's `/oidc`, its authorization
URI (`POST /api/connectors/{id}/authorization-uri`), a real sign-in there (Experience API), then
`POST /api/users/{id}/identities` with what came back. The connector keeps the token set; the Users API shows
its metadata and `DELETE /api/secrets/{id}` removes it."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from .conftest import (
    REDIRECT_URI,
    ApiResource,
    Experience,
    Management,
    User,
    gatehouse_as_provider,
    make_user,
    query_of,
    sign_in_with_password,
)


def oidc_connector(management: Management, discovery: dict[str, Any], target: str) -> dict[str, Any]:
    upstream = management.app("Traditional")
    # as Logto's provider, a refresh token for `offline_access` only with `prompt=consent`
    config = gatehouse_as_provider(
        discovery, upstream, "profile email offline_access", authRequestOptionalConfig={"prompt": "consent"}
    )
    body = {"connectorId": "oidc", "metadata": {"target": target}, "enableTokenStorage": True, "config": config}
    connector: dict[str, Any] = management.call("POST", "/api/connectors", 200, body)
    return connector


def test_a_user_links_an_identity_signed_in_at_an_oidc_provider_and_its_tokens_are_kept(
    management: Management,
    api_resource: ApiResource,
    discovery: dict[str, Any],
    browser: httpx.Client,
    experience: Experience,
    gateway_url: str,
    user: User,
) -> None:
    target = f"upstream-{secrets.token_hex(3)}"
    connector = oidc_connector(management, discovery, target)
    assert (connector["connectorId"], connector["target"], connector["type"]) == ("oidc", target, "Social")

    state = secrets.token_urlsafe(12)
    uri = management.call(
        "POST",
        f"/api/connectors/{connector['id']}/authorization-uri",
        200,
        {"state": state, "redirectUri": REDIRECT_URI},
    )["redirectTo"]
    upstream_user = make_user(management, api_resource)
    signed_in = sign_in_with_password(browser, experience, gateway_url, uri, upstream_user)
    callback = query_of(signed_in.callback_url)
    assert callback["state"] == state

    connector_data = {"code": callback["code"], "state": state, "redirectUri": REDIRECT_URI}
    identities = management.call(
        "POST",
        f"/api/users/{user.id}/identities",
        200,
        {"connectorId": connector["id"], "connectorData": connector_data},
    )
    linked = identities[target]
    assert linked["userId"] == upstream_user.id
    assert linked["details"]["rawData"]["iss"] == discovery["issuer"]

    shown = management.call("GET", f"/api/users/{user.id}/identities/{target}?includeTokenSecret=true", 200)
    secret = shown["tokenSecret"]
    assert (secret["connectorId"], secret["identityId"], secret["target"]) == (
        connector["id"],
        upstream_user.id,
        target,
    )
    assert secret["metadata"]["hasRefreshToken"] is True

    # the same upstream account cannot be linked to a second user
    other = make_user(management, api_resource)
    state2 = secrets.token_urlsafe(12)
    uri2 = management.call(
        "POST",
        f"/api/connectors/{connector['id']}/authorization-uri",
        200,
        {"state": state2, "redirectUri": REDIRECT_URI},
    )["redirectTo"]
    with httpx.Client(timeout=10, follow_redirects=False) as second_browser:
        again = query_of(
            sign_in_with_password(second_browser, experience, gateway_url, uri2, upstream_user).callback_url
        )
    refused = management.http.post(
        f"/api/users/{other.id}/identities",
        json={
            "connectorId": connector["id"],
            "connectorData": {**connector_data, "code": again["code"], "state": state2},
        },
        headers=management.auth,
    )
    assert refused.status_code == 422 and refused.json()["code"] == "user.identity_already_in_use", refused.text

    management.call("DELETE", f"/api/secrets/{secret['id']}", 204)
    assert "tokenSecret" not in management.call(
        "GET", f"/api/users/{user.id}/identities/{target}?includeTokenSecret=true", 200
    )
    management.call("DELETE", f"/api/connectors/{connector['id']}", 204)
