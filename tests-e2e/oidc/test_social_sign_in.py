"""Social sign-in through the gateway, with real providers: Gatehouse itself as an OpenID provider behind a
Generic OIDC connector, and a SAML identity provider (a real signing key) behind the SAML connector, whose
Response is posted to the gateway's assertion consumer service. A client then gets tokens for the Gatehouse
user the social account is linked to."""

from __future__ import annotations

import base64
import secrets
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from gatehouse_testing.fake_saml_idp import FakeSamlIdp
from lxml import etree

from .conftest import (
    REDIRECT_URI,
    ApiResource,
    Experience,
    Management,
    gatehouse_as_provider,
    make_user,
    query_of,
    sign_in_with_password,
)

PROVIDER_CALLBACK = "https://rp.e2e.example.com/social-callback"


@pytest.fixture
def social_targets(management: Management) -> Iterator[list[str]]:
    """The sign-in experience's social targets, restored afterwards."""
    before = management.call("GET", "/api/sign-in-exp", 200)["socialSignInConnectorTargets"]
    targets: list[str] = []
    yield targets
    management.call("PATCH", "/api/sign-in-exp", 200, {"socialSignInConnectorTargets": before})


def enable(management: Management, targets: list[str], target: str) -> None:
    targets.append(target)
    updated = management.call("PATCH", "/api/sign-in-exp", 200, {"socialSignInConnectorTargets": targets})
    assert target in updated["socialSignInConnectorTargets"]


def start(
    browser: httpx.Client, gateway_url: str, discovery: dict[str, Any], management: Management
) -> tuple[Any, Any]:
    """A client's authorization request, the browser on the sign-in page, a SignIn interaction started."""
    app = management.app("Traditional")
    client = OAuth2Client(app.id, app.secret, scope="openid profile", redirect_uri=REDIRECT_URI)
    url, _ = client.create_authorization_url(discovery["authorization_endpoint"], state=secrets.token_urlsafe(8))
    started = browser.get(url)
    assert started.status_code in (302, 303) and started.headers["location"] == f"{gateway_url}/sign-in"
    assert browser.put(f"{gateway_url}/api/experience", json={"interactionEvent": "SignIn"}).status_code == 204
    return app, client


def finish(
    browser: httpx.Client, gateway_url: str, discovery: dict[str, Any], app: Any, client: Any, verification_id: str
) -> dict[str, Any]:
    """Identification with the social verification, submit, the redirect back, the code for tokens, userinfo."""
    api = f"{gateway_url}/api/experience"
    identified = browser.post(f"{api}/identification", json={"verificationId": verification_id})
    assert identified.status_code == 204, identified.text
    submitted = browser.post(f"{api}/submit")
    assert submitted.status_code == 200, submitted.text
    finished = browser.get(submitted.json()["redirectTo"])
    assert finished.status_code in (302, 303), finished.text
    code = query_of(finished.headers["location"])["code"]
    with client:
        client.fetch_token(discovery["token_endpoint"], code=code, auth=(app.id, app.secret))
        userinfo: dict[str, Any] = client.get(discovery["userinfo_endpoint"]).json()
    return userinfo


def test_a_user_signs_in_with_an_account_at_another_openid_provider(
    management: Management,
    api_resource: ApiResource,
    discovery: dict[str, Any],
    browser: httpx.Client,
    experience: Experience,
    gateway_url: str,
    social_targets: list[str],
) -> None:
    target = f"upstream-{secrets.token_hex(3)}"
    # at the provider, Gatehouse's sign-in page is the client: its callback is the registered redirect URI
    upstream_app = management.app(
        "Traditional", oidcClientMetadata={"redirectUris": [PROVIDER_CALLBACK], "postLogoutRedirectUris": []}
    )
    config = gatehouse_as_provider(discovery, upstream_app, "profile")
    connector = management.call(
        "POST", "/api/connectors", 200, {"connectorId": "oidc", "metadata": {"target": target}, "config": config}
    )
    enable(management, social_targets, target)
    upstream, user = make_user(management, api_resource), make_user(management, api_resource)
    management.call("PUT", f"/api/users/{user.id}/identities/{target}", 201, {"userId": upstream.id})

    app, client = start(browser, gateway_url, discovery, management)
    state = secrets.token_urlsafe(12)
    social = browser.post(
        f"{gateway_url}/api/experience/verification/social/{connector['id']}/authorization-uri",
        json={"state": state, "redirectUri": PROVIDER_CALLBACK},
    )
    assert social.status_code == 200, social.text
    # the provider's own sign-in, in its own browser (another site's cookies)
    with httpx.Client(timeout=10, follow_redirects=False) as provider_browser:
        back = sign_in_with_password(
            provider_browser, experience, gateway_url, social.json()["authorizationUri"], upstream
        )
    callback = query_of(back.callback_url)
    assert callback["state"] == state
    verified = browser.post(
        f"{gateway_url}/api/experience/verification/social/{connector['id']}/verify",
        json={
            "connectorData": {**callback, "redirectUri": PROVIDER_CALLBACK},
            "verificationId": social.json()["verificationId"],
        },
    )
    assert verified.status_code == 200, verified.text
    userinfo = finish(browser, gateway_url, discovery, app, client, verified.json()["verificationId"])
    assert userinfo["sub"] == user.id
    management.call("DELETE", f"/api/connectors/{connector['id']}", 204)


def test_a_user_signs_in_with_a_saml_identity_provider_through_the_gateway_acs(
    management: Management,
    api_resource: ApiResource,
    discovery: dict[str, Any],
    browser: httpx.Client,
    gateway_url: str,
    social_targets: list[str],
) -> None:
    idp, target = FakeSamlIdp(), f"saml-{secrets.token_hex(3)}"
    connector_id = f"saml{secrets.token_hex(4)}"
    acs = f"{gateway_url}/api/authn/saml/{connector_id}"
    entity_id = f"{gateway_url}/saml-sp/{connector_id}"
    config = {"entityID": entity_id, "assertionConsumerServiceUrl": acs, "idpMetadataXml": idp.metadata()}
    management.call(
        "POST",
        "/api/connectors",
        200,
        {"id": connector_id, "connectorId": "saml", "metadata": {"target": target}, "config": config},
    )
    enable(management, social_targets, target)
    user = make_user(management, api_resource)
    management.call("PUT", f"/api/users/{user.id}/identities/{target}", 201, {"userId": "ada-at-the-idp"})

    app, client = start(browser, gateway_url, discovery, management)
    social = browser.post(
        f"{gateway_url}/api/experience/verification/social/{connector_id}/authorization-uri",
        json={"state": "saml-state", "redirectUri": PROVIDER_CALLBACK},
    )
    assert social.status_code == 200, social.text
    request = query_of(social.json()["authorizationUri"])
    authn_request = etree.fromstring(zlib.decompress(base64.b64decode(request["SAMLRequest"]), wbits=-15))
    saml_response = idp.response(
        name_id="ada-at-the-idp", acs_url=acs, audience=entity_id, in_response_to=str(authn_request.get("ID"))
    )
    # the IdP's auto-submitted form, through the gateway
    posted = browser.post(acs, data={"SAMLResponse": saml_response, "RelayState": request["RelayState"]})
    assert posted.status_code == 302 and posted.headers["location"] == f"{PROVIDER_CALLBACK}?state=saml-state"
    verified = browser.post(
        f"{gateway_url}/api/experience/verification/social/{connector_id}/verify",
        json={"connectorData": {"state": "saml-state"}, "verificationId": social.json()["verificationId"]},
    )
    assert verified.status_code == 200, verified.text
    userinfo = finish(browser, gateway_url, discovery, app, client, verified.json()["verificationId"])
    assert userinfo["sub"] == user.id
    management.call("DELETE", f"/api/connectors/{connector_id}", 204)
