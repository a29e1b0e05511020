"""Token storage of enterprise SSO connectors (Logto's `enableTokenStorage`): an OIDC SSO sign-in or registration
through a connector that stores tokens keeps the IdP's token set in identity's secret vault at submit; the Users
API shows it desensitized and the Account API's `GET /api/my-account/sso-identities/{connectorId}/access-token`
returns its access token to the signed-in user. With the real identity service and a real (test) OIDC provider."""

from typing import Any

import sqlalchemy as sa
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables.identity import secrets as secrets_table
from gatehouse_testing.fake_provider import FakeProvider
from gatehouse_testing.vault import SSO_TOKEN_SECRET_KEYS as TOKEN_SECRET_KEYS
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from .accountkit import IDENTITIES_SCOPES, SocialKit, bearer_of, kit, rpc
from .flowkit import error, make_user, provider, started
from .test_sso_flow import IDENTIFY, SSO_CALLBACK, oidc_authorization, oidc_connector, oidc_sso, sso_experience

__all__ = ["kit", "provider", "rpc"]

NOT_FOUND, EXPIRED = (
    "secrets.third_party_token_set.token_not_found",
    "secrets.third_party_token_set.access_token_expired",
)


# Arrangements


async def sso_connector(kit: SocialKit, **options: Any) -> tuple[str, str]:
    """The sign-in experience with SSO, a new OIDC SSO connector of the provider (its `options`) and a new subject
    of the IdP: the connector's id and the subject."""
    await sso_experience(kit.db)
    return await oidc_connector(kit.db, kit.provider, **options), f"sub-{generate_id()[:8].lower()}"


async def token_secret(kit: SocialKit, user_id: str, connector_id: str) -> Any:
    """The Users API's desensitized token set of the user's SSO identity through the connector (None without one);
    the all-identities read shows the same."""
    url = f"/api/users/{user_id}/sso-identities/{connector_id}?includeTokenSecret=true"
    one = await kit.identity.get(url, headers=kit.auth)
    assert one.status_code == 200, one.text
    everything = await kit.identity.get(
        f"/api/users/{user_id}/all-identities?includeTokenSecret=true", headers=kit.auth
    )
    [entry] = [e for e in everything.json()["ssoIdentities"] if e["ssoConnectorId"] == connector_id]
    assert entry.get("tokenSecret") == one.json().get("tokenSecret")
    return one.json().get("tokenSecret")


async def kept_secrets(db: AsyncEngine, user_id: str) -> list[str]:
    async with db.connect() as conn:
        query = sa.select(secrets_table.c.id).where(secrets_table.c.user_id == user_id)
        return list((await conn.execute(query)).scalars())


def issued_to(provider: FakeProvider, access_token: str) -> str | None:
    """The subject the provider issued the access token for."""
    claims = provider.access_tokens.get(access_token)
    return None if claims is None else str(claims["sub"])


# Steps


async def sso_sign_in(kit: SocialKit, connector_id: str, sub: str) -> None:
    """A whole OIDC SSO sign-in of `sub` (known, or linked by the IdP's verified email) up to submit."""
    browser = await started(kit.identity, kit.client, kit.db, "SignIn")
    verification_id = await oidc_sso(browser, kit.provider, connector_id, sub, email=email_of(sub), email_verified=True)
    identified = await browser.call("POST", IDENTIFY, {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text
    state = await browser.call("GET", "/api/experience/interaction")
    assert "TokenSetSecret" not in state.text and "tokenSet" not in state.text  # never shown
    assert await browser.finish()


async def sso_access_token(kit: SocialKit, connector_id: str, bearer: dict[str, str]) -> Response:
    """`GET /api/my-account/sso-identities/{connectorId}/access-token`."""
    return await kit.client.get(f"/api/my-account/sso-identities/{connector_id}/access-token", headers=bearer)


def email_of(sub: str) -> str:
    """The IdP's (verified) email of the subject, which links it to the user of that email."""
    return f"{sub}@corp.example"


# Tests


async def test_an_oidc_sso_sign_in_keeps_the_token_set_for_the_users_and_account_apis(kit: SocialKit) -> None:
    connector_id, sub = await sso_connector(kit, token_storage=True)
    user = await make_user(kit.identity, kit.auth, primaryEmail=email_of(sub))
    await sso_sign_in(kit, connector_id, sub)

    secret = await token_secret(kit, user["id"], connector_id)
    assert set(secret) == TOKEN_SECRET_KEYS and secret["type"] == "federated_token_set"
    assert (secret["userId"], secret["ssoConnectorId"], secret["issuer"], secret["identityId"]) == (
        user["id"],
        connector_id,
        kit.provider.url,
        sub,
    )
    assert secret["metadata"]["hasRefreshToken"] is True and secret["metadata"]["tokenType"] == "Bearer"

    await kit.social_field("ReadOnly")
    bearer = await bearer_of(kit.identity, kit.rpc, kit.db, user["id"], IDENTITIES_SCOPES)
    got = await sso_access_token(kit, connector_id, bearer)
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    assert issued_to(kit.provider, body["access_token"]) == sub
    assert (body["token_type"], body["scope"]) == ("Bearer", "openid profile email")
    assert 3500 < body["expires_in"] <= 3600

    # the next sign-in of the identity replaces the token set
    await sso_sign_in(kit, connector_id, sub)
    again = (await sso_access_token(kit, connector_id, bearer)).json()
    assert again["access_token"] != body["access_token"] and issued_to(kit.provider, again["access_token"]) == sub
    assert len(await kept_secrets(kit.db, user["id"])) == 1

    # the checks of the social one: a connector without a kept token, the `identities` scope, the `social` field
    error(
        await sso_access_token(kit, "no-such-connector", bearer),
        404,
        "secrets.third_party_token_set.token_not_found",
    )
    narrow = await bearer_of(kit.identity, kit.rpc, kit.db, user["id"], "openid profile")
    error(await sso_access_token(kit, connector_id, narrow), 401, "auth.unauthorized")
    await kit.social_field("Off")
    error(await sso_access_token(kit, connector_id, bearer), 400, "account_center.field_not_enabled")


async def test_without_token_storage_no_token_set_is_kept(kit: SocialKit) -> None:
    connector_id, sub = await sso_connector(kit)
    user = await make_user(kit.identity, kit.auth, primaryEmail=email_of(sub))
    await sso_sign_in(kit, connector_id, sub)

    assert await token_secret(kit, user["id"], connector_id) is None
    assert await kept_secrets(kit.db, user["id"]) == []
    await kit.social_field("Edit")
    bearer = await bearer_of(kit.identity, kit.rpc, kit.db, user["id"], IDENTITIES_SCOPES)
    error(await sso_access_token(kit, connector_id, bearer), 404, NOT_FOUND)


async def test_an_sso_registration_keeps_the_token_set_which_goes_when_it_expires_unrefreshable(
    kit: SocialKit,
) -> None:
    connector_id, sub = await sso_connector(kit, token_storage=True)
    browser = await started(kit.identity, kit.client, kit.db, "Register")
    verification_id, query = await oidc_authorization(browser, connector_id)
    # an IdP that issues no refresh token
    code = kit.provider.issue_code(sub, SSO_CALLBACK, nonce=query["nonce"], refresh_token=False)
    body = {"connectorData": {"code": code, "state": query["state"]}, "verificationId": verification_id}
    assert (await browser.call("POST", f"/api/experience/verification/sso/{connector_id}/verify", body)).is_success
    created = await browser.call("POST", IDENTIFY, {"verificationId": verification_id})
    assert created.status_code == 201, created.text
    user_id = (await browser.call("GET", "/api/experience/interaction")).json()["userId"]
    assert await browser.finish()

    secret = await token_secret(kit, user_id, connector_id)
    assert secret["identityId"] == sub and secret["metadata"]["hasRefreshToken"] is False
    await kit.social_field("Edit")
    bearer = await bearer_of(kit.identity, kit.rpc, kit.db, user_id, IDENTITIES_SCOPES)
    got = await sso_access_token(kit, connector_id, bearer)
    assert got.status_code == 200 and issued_to(kit.provider, got.json()["access_token"]) == sub, got.text

    # expired, with no refresh token to renew it: 401, and the token set is forgotten (as a social one)
    async with kit.db.begin() as conn:
        expired = secrets_table.c.metadata.op("||")(sa.cast({"expiresAt": 1}, secrets_table.c.metadata.type))
        await conn.execute(sa.update(secrets_table).where(secrets_table.c.id == secret["id"]).values(metadata=expired))
    error(await sso_access_token(kit, connector_id, bearer), 401, "secrets.third_party_token_set.access_token_expired")
    error(await sso_access_token(kit, connector_id, bearer), 404, NOT_FOUND)
    assert await token_secret(kit, user_id, connector_id) is None
