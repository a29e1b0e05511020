"""Logto's Actions through the gateway: a Post sign-in Action saved with the Management API runs when a user
signs in through the Experience API, and the ID token the client gets already carries its change."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client

from .conftest import REDIRECT_URI, ApiResource, Experience, Management, make_user, query_of, sign_in_with_password

SCRIPT = """
const runAction = async ({ event, environmentVariables }) => ({
  action: 'updateUser',
  user: { name: environmentVariables.PREFIX + event.user.username, customData: { viaAction: true } },
});
"""


@pytest.fixture
def post_sign_in_action(management: Management) -> Iterator[None]:
    body = {"script": SCRIPT, "environmentVariables": {"PREFIX": "acted-"}, "enabled": True}
    management.call("PUT", "/api/configs/actions/action.postSignIn", 201, body)
    yield
    management.call("DELETE", "/api/configs/actions/action.postSignIn", 204)


def test_a_post_sign_in_action_updates_the_user_before_tokens_are_issued(
    management: Management,
    api_resource: ApiResource,
    discovery: dict[str, Any],
    browser: httpx.Client,
    experience: Experience,
    gateway_url: str,
    post_sign_in_action: None,
) -> None:
    user = make_user(management, api_resource)
    app = management.app("Traditional")
    client = OAuth2Client(app.id, app.secret, scope="openid profile", redirect_uri=REDIRECT_URI)
    url, state = client.create_authorization_url(discovery["authorization_endpoint"], state=secrets.token_urlsafe(8))
    callback = query_of(sign_in_with_password(browser, experience, gateway_url, url, user).callback_url)
    assert callback["state"] == state
    with client:
        tokens = client.fetch_token(discovery["token_endpoint"], code=callback["code"], auth=(app.id, app.secret))
        userinfo = client.get(discovery["userinfo_endpoint"]).json()
    assert tokens["id_token"]
    assert userinfo["name"] == f"acted-{user.username}"
    stored = management.call("GET", f"/api/users/{user.id}", 200)
    assert stored["name"] == f"acted-{user.username}" and stored["customData"] == {"viaAction": True}
