"""Email verification codes through the gateway, with a real SMTP server: an Email connector created with the
Management API sends the codes; a user resets a forgotten password by code, then signs in by email code and gets
tokens for their account."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from gatehouse_testing.fake_smtp import FakeSmtp, fake_smtp

from .conftest import REDIRECT_URI, ApiResource, Management, make_user, query_of

SETTINGS_KEYS = ("signIn", "signUp", "forgotPasswordMethods")


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with fake_smtp() as server:
        yield server


@pytest.fixture
def email_methods(management: Management, smtp: FakeSmtp) -> Iterator[None]:
    """An Email connector and a sign-in experience with email sign-in by password or code and reset by code;
    both restored afterwards."""
    before = management.call("GET", "/api/sign-in-exp", 200)
    connector = management.call(
        "POST", "/api/connectors", 200, {"connectorId": "simple-mail-transfer-protocol", "config": smtp.config()}
    )
    email = {"identifier": "email", "password": True, "verificationCode": True, "isPasswordPrimary": True}
    # the tenant's other sign-in methods stay (its sign-up identifiers must remain among them)
    methods = [m for m in before["signIn"]["methods"] if m["identifier"] != "email"] + [email]
    management.call(
        "PATCH",
        "/api/sign-in-exp",
        200,
        {"signIn": {"methods": methods}, "forgotPasswordMethods": ["EmailVerificationCode"]},
    )
    yield
    management.call("PATCH", "/api/sign-in-exp", 200, {k: before[k] for k in SETTINGS_KEYS})
    management.call("DELETE", f"/api/connectors/{connector['id']}", 204)


def last_code(smtp: FakeSmtp, email: str) -> str:
    message = smtp.messages[-1]
    assert message.recipients == [email]
    found = re.search(r"\b(\d{6})\b", message.body)
    assert found, message.body
    return found.group(1)


def verified_code(browser: httpx.Client, api: str, smtp: FakeSmtp, email: str, event: str) -> str:
    identifier = {"type": "email", "value": email}
    sent = browser.post(
        f"{api}/verification/verification-code", json={"identifier": identifier, "interactionEvent": event}
    )
    assert sent.status_code == 200, sent.text
    verification_id = sent.json()["verificationId"]
    body = {"identifier": identifier, "verificationId": verification_id, "code": last_code(smtp, email)}
    verified = browser.post(f"{api}/verification/verification-code/verify", json=body)
    assert verified.status_code == 200, verified.text
    return str(verification_id)


def authorize(
    browser: httpx.Client, management: Management, discovery: dict[str, Any], gateway_url: str
) -> tuple[Any, Any]:
    app = management.app("Traditional")
    client = OAuth2Client(app.id, app.secret, scope="openid profile email", redirect_uri=REDIRECT_URI)
    url, _ = client.create_authorization_url(discovery["authorization_endpoint"], state=secrets.token_urlsafe(8))
    started = browser.get(url)
    assert started.status_code in (302, 303) and started.headers["location"] == f"{gateway_url}/sign-in"
    return app, client


def test_a_user_resets_the_password_by_email_code_then_signs_in_by_code(
    management: Management,
    api_resource: ApiResource,
    discovery: dict[str, Any],
    browser: httpx.Client,
    gateway_url: str,
    smtp: FakeSmtp,
    email_methods: None,
) -> None:
    user = make_user(management, api_resource)
    api = f"{gateway_url}/api/experience"

    # password reset
    authorize(browser, management, discovery, gateway_url)
    assert browser.put(api, json={"interactionEvent": "ForgotPassword"}).status_code == 204
    verification_id = verified_code(browser, api, smtp, user.email, "ForgotPassword")
    assert browser.post(f"{api}/identification", json={"verificationId": verification_id}).status_code == 204
    new_password = f"Reset-{secrets.token_urlsafe(12)}"
    assert browser.put(f"{api}/profile/password", json={"password": new_password}).status_code == 204
    submitted = browser.post(f"{api}/submit")
    assert submitted.status_code == 200, submitted.text
    verified = management.http.post(
        f"/api/users/{user.id}/password/verify", json={"password": new_password}, headers=management.auth
    )
    assert verified.status_code == 204, verified.text

    # sign-in by email code, through to the client's tokens
    with httpx.Client(timeout=10, follow_redirects=False) as second:
        app, client = authorize(second, management, discovery, gateway_url)
        assert second.put(api, json={"interactionEvent": "SignIn"}).status_code == 204
        verification_id = verified_code(second, api, smtp, user.email, "SignIn")
        assert second.post(f"{api}/identification", json={"verificationId": verification_id}).status_code == 204
        done = second.post(f"{api}/submit")
        assert done.status_code == 200, done.text
        finished = second.get(done.json()["redirectTo"])
        code = query_of(finished.headers["location"])["code"]
    with client:
        client.fetch_token(discovery["token_endpoint"], code=code, auth=(app.id, app.secret))
        userinfo = client.get(discovery["userinfo_endpoint"]).json()
    assert userinfo["sub"] == user.id and userinfo["email"] == user.email
