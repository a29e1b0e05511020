"""The generic OIDC and OAuth 2.0 connectors against a real (test) provider over HTTP."""

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import msgspec
import pytest
import pytest_asyncio
from gatehouse_connectors import FACTORIES
from gatehouse_connectors.http import ConnectorError
from gatehouse_connectors.oidc import nonce_for
from gatehouse_platform.errors import BadRequest
from gatehouse_testing.fake_provider import CLIENT_ID, CLIENT_SECRET, FakeProvider, fake_provider
from joserfc.jwk import ECKey

REDIRECT = "https://app.example.com/callback"


@pytest_asyncio.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    async with fake_provider() as p:
        yield p


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_oidc_authorization_uri_asks_for_openid_and_binds_a_nonce_to_the_state(provider: FakeProvider) -> None:
    config = provider.oidc_config(authRequestOptionalConfig={"prompt": "login"}, customConfig={"hd": "example.com"})
    url = FACTORIES["oidc"].authorization_uri(config, "state-1", REDIRECT)
    query = _query(url)
    assert url.startswith(f"{provider.url}/authorize?")
    assert query["scope"] == "openid profile email" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT and query["state"] == "state-1" and query["response_type"] == "code"
    assert query["prompt"] == "login" and query["hd"] == "example.com"
    parsed = FACTORIES["oidc"].parse_config(config)
    assert query["nonce"] == nonce_for(parsed, "state-1") != nonce_for(parsed, "state-2")


async def test_oidc_user_info_comes_from_the_verified_id_token(
    provider: FakeProvider, http: aiohttp.ClientSession
) -> None:
    config = provider.oidc_config()
    nonce = nonce_for(FACTORIES["oidc"].parse_config(config), "s1")
    code = provider.issue_code(
        "upstream-1", REDIRECT, nonce=nonce, email="a@example.com", email_verified=True, name="Ann", picture="p.png"
    )
    result = await FACTORIES["oidc"].user_info(http, config, {"code": code, "state": "s1", "redirectUri": REDIRECT})
    info = result.user_info
    assert (info.id, info.email, info.name, info.avatar) == ("upstream-1", "a@example.com", "Ann", "p.png")
    assert result.tokens.refresh_token and result.tokens.scope == "openid profile email"
    assert provider.token_requests[0]["client_secret"] == CLIENT_SECRET


async def test_an_id_token_signed_with_es384_verifies(provider: FakeProvider, http: aiohttp.ClientSession) -> None:
    provider.key, provider.alg = ECKey.generate_key("P-384", parameters={"kid": "p384"}), "ES384"
    config = provider.oidc_config()
    code = provider.issue_code("u-384", REDIRECT, nonce=nonce_for(FACTORIES["oidc"].parse_config(config), "s"))
    result = await FACTORIES["oidc"].user_info(http, config, {"code": code, "state": "s", "redirectUri": REDIRECT})
    assert result.user_info.id == "u-384"


async def test_an_id_token_with_an_algorithm_the_config_does_not_allow_is_refused(
    provider: FakeProvider, http: aiohttp.ClientSession
) -> None:
    verification = {"jwksUri": f"{provider.url}/jwks", "algorithms": ["RS256"]}
    config = provider.oidc_config(idTokenVerificationConfig=verification)
    code = provider.issue_code("u-alg", REDIRECT, nonce=nonce_for(FACTORIES["oidc"].parse_config(config), "s"))
    with pytest.raises(ConnectorError):
        await FACTORIES["oidc"].user_info(http, config, {"code": code, "state": "s", "redirectUri": REDIRECT})


async def test_an_unverified_email_is_not_taken(provider: FakeProvider, http: aiohttp.ClientSession) -> None:
    config = provider.oidc_config()
    nonce = nonce_for(FACTORIES["oidc"].parse_config(config), "s1")
    code = provider.issue_code("u2", REDIRECT, nonce=nonce, email="b@example.com", email_verified=False)
    result = await FACTORIES["oidc"].user_info(http, config, {"code": code, "state": "s1", "redirectUri": REDIRECT})
    assert result.user_info.email is msgspec.UNSET


async def test_an_id_token_for_another_state_is_refused(provider: FakeProvider, http: aiohttp.ClientSession) -> None:
    config = provider.oidc_config()
    nonce = nonce_for(FACTORIES["oidc"].parse_config(config), "other-state")
    code = provider.issue_code("u3", REDIRECT, nonce=nonce)
    with pytest.raises(ConnectorError) as caught:
        await FACTORIES["oidc"].user_info(http, config, {"code": code, "state": "s1", "redirectUri": REDIRECT})
    assert caught.value.code == "connector.social_invalid_id_token" and "nonce" in caught.value.message
    assert caught.value.status == 401


async def test_an_id_token_from_another_issuer_is_refused(provider: FakeProvider, http: aiohttp.ClientSession) -> None:
    config = provider.oidc_config(idTokenVerificationConfig={"jwksUri": f"{provider.url}/jwks", "issuer": "https://x"})
    nonce = nonce_for(FACTORIES["oidc"].parse_config(config), "s1")
    code = provider.issue_code("u4", REDIRECT, nonce=nonce)
    with pytest.raises(ConnectorError, match="issuer"):
        await FACTORIES["oidc"].user_info(http, config, {"code": code, "state": "s1", "redirectUri": REDIRECT})


async def test_a_refused_code_is_social_auth_code_invalid(provider: FakeProvider, http: aiohttp.ClientSession) -> None:
    with pytest.raises(ConnectorError) as caught:
        await FACTORIES["oidc"].user_info(
            http, provider.oidc_config(), {"code": "nope", "state": "s1", "redirectUri": REDIRECT}
        )
    assert caught.value.code == "connector.social_auth_code_invalid" and caught.value.status == 401


async def test_connector_data_without_a_code_is_400(provider: FakeProvider, http: aiohttp.ClientSession) -> None:
    with pytest.raises(BadRequest):
        await FACTORIES["oidc"].user_info(http, provider.oidc_config(), {"state": "s1", "redirectUri": REDIRECT})


async def test_an_unreachable_provider_is_connector_general(http: aiohttp.ClientSession) -> None:
    async with fake_provider() as gone:
        config = gone.oidc_config()
    with pytest.raises(ConnectorError) as caught:
        await FACTORIES["oidc"].user_info(http, config, {"code": "c", "state": "s", "redirectUri": REDIRECT})
    assert caught.value.code == "connector.general"


async def test_oauth2_maps_the_user_info_through_the_profile_map(
    provider: FakeProvider, http: aiohttp.ClientSession
) -> None:
    config = provider.oauth2_config(
        profileMap={"id": "sub", "email": "mail", "name": "display_name"}, tokenEndpointAuthMethod="client_secret_basic"
    )
    code = provider.issue_code("u5", REDIRECT, mail="c@example.com", display_name="Cy")
    result = await FACTORIES["oauth2"].user_info(http, config, {"code": code, "redirectUri": REDIRECT})
    assert (result.user_info.id, result.user_info.email, result.user_info.name) == ("u5", "c@example.com", "Cy")
    assert provider.token_requests[0]["authorization"].startswith("Basic ")
    assert "client_secret" not in provider.token_requests[0]


async def test_oauth2_client_secret_jwt_sends_an_assertion(provider: FakeProvider, http: aiohttp.ClientSession) -> None:
    config = provider.oauth2_config(tokenEndpointAuthMethod="client_secret_jwt")
    code = provider.issue_code("u6", REDIRECT)
    await FACTORIES["oauth2"].user_info(http, config, {"code": code, "redirectUri": REDIRECT})
    sent = provider.token_requests[0]
    assert sent["client_assertion_type"].endswith("jwt-bearer") and sent["client_assertion"].count(".") == 2


def test_a_config_missing_a_required_field_is_connector_invalid_config() -> None:
    with pytest.raises(BadRequest) as caught:
        FACTORIES["oauth2"].parse_config({"clientId": "x"})
    assert caught.value.code == "connector.invalid_config"


async def test_a_refresh_token_gets_a_new_access_token(provider: FakeProvider, http: aiohttp.ClientSession) -> None:
    config = provider.oauth2_config()
    result = await FACTORIES["oauth2"].user_info(
        http, config, {"code": provider.issue_code("u7", REDIRECT), "redirectUri": REDIRECT}
    )
    assert isinstance(result.tokens.refresh_token, str)
    fresh = await FACTORIES["oauth2"].refresh(http, config, result.tokens.refresh_token)
    assert fresh.access_token != result.tokens.access_token and fresh.access_token in provider.access_tokens
    with pytest.raises(ConnectorError):
        await FACTORIES["oauth2"].refresh(http, config, result.tokens.refresh_token)  # spent
