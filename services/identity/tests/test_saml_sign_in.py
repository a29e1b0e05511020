"""SAML sign-ins through the SAML social connector: the sign-in URL identity builds (`saml.begin`), the
assertion consumer service (`POST /api/authn/saml/{connectorId}`) verifying a real signed Response, and the
verified user handed once to the sign-in flow (`saml.result`)."""

import base64
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from gatehouse_platform.errors import GatehouseError
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.ids import generate_id
from gatehouse_schema.rpc.identity import (
    SAML_BEGIN,
    SAML_RESULT,
    AccountDocument,
    SamlBegin,
    SamlResult,
    SamlStarted,
)
from gatehouse_schema.tables import management as m
from gatehouse_testing.fake_saml_idp import FakeSamlIdp
from gatehouse_testing.sso_connectors import write_sso_connector
from httpx import AsyncClient
from lxml import etree
from sqlalchemy.ext.asyncio import AsyncEngine

ENTITY_ID = "https://gatehouse.example.com/saml/sp"
FLOW_CALLBACK = "https://app.example.com/callback/saml"


@pytest.fixture(scope="module")
def idp() -> FakeSamlIdp:
    return FakeSamlIdp()


@pytest_asyncio.fixture
async def saml_connector(db: AsyncEngine, idp: FakeSamlIdp) -> Callable[..., Any]:
    async def make(factory: str = "saml", **config: Any) -> tuple[str, str]:
        connector_id = generate_id()
        acs = f"http://127.0.0.1:3001/api/authn/saml/{connector_id}"
        values = {
            "entityID": ENTITY_ID,
            "assertionConsumerServiceUrl": acs,
            "idpMetadataXml": idp.metadata(),
            "profileMap": {"id": "nameID", "email": "mail", "name": "displayName"},
            **config,
        }
        async with db.begin() as conn:
            await conn.execute(
                sa.insert(m.connectors).values(
                    tenant_id="default",
                    id=connector_id,
                    connector_id=factory,
                    config=values,
                    metadata={"target": f"saml-{connector_id[:6]}"},
                    sync_profile=False,
                    enable_token_storage=False,
                    created_at=sa.func.now(),
                )
            )
        return connector_id, acs

    return make


async def begin(rpc: RpcClient, connector_id: str, state: str = "st-1") -> tuple[SamlStarted, str]:
    request = SamlBegin(kind="social", connector_id=connector_id, redirect_uri=FLOW_CALLBACK, state=state)
    started = await rpc.call("identity", SAML_BEGIN, request, SamlStarted)
    query = {k: v[0] for k, v in parse_qs(urlsplit(started.authorization_uri).query).items()}
    authn_request = etree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"]), wbits=-15))
    assert query["RelayState"] == started.session_id
    return started, str(authn_request.get("ID"))


def response(idp: FakeSamlIdp, acs: str, request_id: str, **overrides: Any) -> str:
    values: dict[str, Any] = {
        "name_id": "ada-at-idp",
        "acs_url": acs,
        "audience": ENTITY_ID,
        "in_response_to": request_id,
        "attributes": {"mail": "ada@example.com", "displayName": "Ada L."},
    }
    return idp.response(**{**values, **overrides})


async def result(rpc: RpcClient, connector_id: str, session_id: str) -> dict[str, Any]:
    request = SamlResult(kind="social", connector_id=connector_id, session_id=session_id)
    body: dict[str, Any] = (await rpc.call("identity", SAML_RESULT, request, AccountDocument)).body
    return body


async def test_a_signed_response_sends_the_browser_back_and_hands_over_the_user_once(
    client: AsyncClient, rpc: RpcClient, idp: FakeSamlIdp, saml_connector: Callable[..., Any]
) -> None:
    connector_id, acs = await saml_connector()
    started, request_id = await begin(rpc, connector_id)
    assert started.authorization_uri.startswith(idp.sign_in_endpoint + "?")
    posted = await client.post(
        f"/api/authn/saml/{connector_id}",
        data={"SAMLResponse": response(idp, acs, request_id), "RelayState": started.session_id},
    )
    assert posted.status_code == 302, posted.text
    assert posted.headers["location"] == f"{FLOW_CALLBACK}?state=st-1"
    user = await result(rpc, connector_id, started.session_id)
    assert (user["id"], user["email"], user["name"]) == ("ada-at-idp", "ada@example.com", "Ada L.")
    assert user["rawData"]["nameID"] == "ada-at-idp"
    with pytest.raises(GatehouseError) as again:
        await result(rpc, connector_id, started.session_id)
    assert again.value.code == "session.connector_validation_session_not_found"


async def test_a_json_body_is_accepted_too(
    client: AsyncClient, rpc: RpcClient, idp: FakeSamlIdp, saml_connector: Callable[..., Any]
) -> None:
    connector_id, acs = await saml_connector()
    started, request_id = await begin(rpc, connector_id)
    body = {"SAMLResponse": response(idp, acs, request_id), "RelayState": started.session_id}
    assert (await client.post(f"/api/authn/saml/{connector_id}", json=body)).status_code == 302


async def test_the_same_response_cannot_be_posted_twice(
    client: AsyncClient, rpc: RpcClient, idp: FakeSamlIdp, saml_connector: Callable[..., Any]
) -> None:
    connector_id, acs = await saml_connector()
    started, request_id = await begin(rpc, connector_id)
    form = {"SAMLResponse": response(idp, acs, request_id), "RelayState": started.session_id}
    assert (await client.post(f"/api/authn/saml/{connector_id}", data=form)).status_code == 302
    again = await client.post(f"/api/authn/saml/{connector_id}", data=form)
    assert again.status_code == 404 and again.json()["code"] == "session.connector_validation_session_not_found"


async def test_an_unknown_relay_state_or_another_connector_is_404(
    client: AsyncClient, rpc: RpcClient, idp: FakeSamlIdp, saml_connector: Callable[..., Any]
) -> None:
    connector_id, acs = await saml_connector()
    other_id, _ = await saml_connector()
    started, request_id = await begin(rpc, connector_id)
    saml = response(idp, acs, request_id)
    for path, relay in ((connector_id, "nope"), (other_id, started.session_id), (connector_id, None)):
        form = {"SAMLResponse": saml} | ({"RelayState": relay} if relay else {})
        answered = await client.post(f"/api/authn/saml/{path}", data=form)
        assert answered.status_code == 404, answered.text
        assert answered.json()["code"] == "session.connector_validation_session_not_found"


async def test_a_response_that_fails_verification_is_400_and_hands_over_nothing(
    client: AsyncClient, rpc: RpcClient, idp: FakeSamlIdp, saml_connector: Callable[..., Any]
) -> None:
    connector_id, acs = await saml_connector()
    started, request_id = await begin(rpc, connector_id)
    for saml in (
        response(FakeSamlIdp(), acs, request_id),  # signed by another key
        response(idp, acs, "_another_request"),
        response(idp, acs, request_id, audience="https://someone-else.example.com"),
    ):
        answered = await client.post(
            f"/api/authn/saml/{connector_id}", data={"SAMLResponse": saml, "RelayState": started.session_id}
        )
        assert answered.status_code == 400 and answered.json()["code"] == "connector.invalid_response", answered.text
    with pytest.raises(GatehouseError):
        await result(rpc, connector_id, started.session_id)


async def test_a_body_without_a_saml_response_is_400(client: AsyncClient, saml_connector: Callable[..., Any]) -> None:
    connector_id, _ = await saml_connector()
    answered = await client.post(f"/api/authn/saml/{connector_id}", data={"RelayState": "x"})
    assert answered.status_code == 400 and answered.json()["code"] == "connector.invalid_response"


async def test_begin_needs_a_saml_connector(
    rpc: RpcClient, saml_connector: Callable[..., Any], idp: FakeSamlIdp
) -> None:
    with pytest.raises(GatehouseError) as unknown:
        await begin(rpc, "no-such-connector")
    assert unknown.value.code == "entity.not_found"
    oidc_id, _ = await saml_connector(factory="oidc")
    with pytest.raises(GatehouseError) as wrong:
        await begin(rpc, oidc_id)
    assert wrong.value.code == "connector.unexpected_type"


async def test_a_config_without_the_idp_is_an_invalid_config(
    rpc: RpcClient, saml_connector: Callable[..., Any]
) -> None:
    connector_id, _ = await saml_connector(idpMetadataXml="")
    with pytest.raises(GatehouseError) as caught:
        await begin(rpc, connector_id)
    assert caught.value.code == "connector.invalid_config"


@pytest_asyncio.fixture
async def sso_connector(db: AsyncEngine, idp: FakeSamlIdp) -> Callable[..., Any]:
    """An enterprise SSO connector of the SAML provider, as management writes it."""

    async def make(provider: str = "SAML", **config: Any) -> str:
        values = {"metadata": idp.metadata(), "attributeMapping": {"email": "mail", "name": "displayName"}, **config}
        return await write_sso_connector(db, provider, values, domains=["example.com"])

    return make


async def test_an_enterprise_sso_saml_sign_in_uses_the_derived_sp_urls(
    client: AsyncClient, rpc: RpcClient, idp: FakeSamlIdp, sso_connector: Callable[..., Any]
) -> None:
    connector_id = await sso_connector()
    request = SamlBegin(kind="sso", connector_id=connector_id, redirect_uri=FLOW_CALLBACK, state="sso-st")
    started = await rpc.call("identity", SAML_BEGIN, request, SamlStarted)
    query = {k: v[0] for k, v in parse_qs(urlsplit(started.authorization_uri).query).items()}
    authn_request = etree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"]), wbits=-15))
    acs = f"http://127.0.0.1:3001/api/authn/single-sign-on/saml/{connector_id}"
    assert authn_request.get("AssertionConsumerServiceURL") == acs
    entity_id = f"http://127.0.0.1:3001/enterprise-sso/{connector_id}"
    saml = idp.response(
        name_id="ada-sso",
        acs_url=acs,
        audience=entity_id,
        in_response_to=str(authn_request.get("ID")),
        attributes={"mail": "ada@example.com", "displayName": "Ada"},
    )
    posted = await client.post(
        f"/api/authn/single-sign-on/saml/{connector_id}",
        data={"SAMLResponse": saml, "RelayState": started.session_id},
    )
    assert posted.status_code == 302 and posted.headers["location"] == f"{FLOW_CALLBACK}?state=sso-st"
    taken = await rpc.call(
        "identity",
        SAML_RESULT,
        SamlResult(kind="sso", connector_id=connector_id, session_id=started.session_id),
        AccountDocument,
    )
    assert (taken.body["id"], taken.body["email"]) == ("ada-sso", "ada@example.com")
    # the social ACS does not take an SSO connector's session
    again = await client.post(f"/api/authn/saml/{connector_id}", data={"SAMLResponse": saml, "RelayState": "x"})
    assert again.status_code == 404


async def test_a_signed_authn_request_uses_the_active_signing_key(
    rpc: RpcClient, db: AsyncEngine, sso_connector: Callable[..., Any]
) -> None:
    connector_id = await sso_connector(signAuthnRequest=True)
    request = SamlBegin(kind="sso", connector_id=connector_id, redirect_uri=FLOW_CALLBACK, state="s")
    with pytest.raises(GatehouseError) as missing:
        await rpc.call("identity", SAML_BEGIN, request, SamlStarted)
    assert missing.value.code == "connector.invalid_config"
    signer = FakeSamlIdp()
    pem = signer.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(m.saml_sso_connector_signing_keys).values(
                tenant_id="default",
                id=generate_id(),
                sso_connector_id=connector_id,
                private_key=pem,
                certificate=signer.certificate,
                active=True,
                expires_at=sa.func.now() + sa.text("interval '1 year'"),
                created_at=sa.func.now(),
            )
        )
    started = await rpc.call("identity", SAML_BEGIN, request, SamlStarted)
    assert "&SigAlg=" in started.authorization_uri and "&Signature=" in started.authorization_uri


async def test_an_oidc_sso_connector_has_no_saml_sign_in(rpc: RpcClient, sso_connector: Callable[..., Any]) -> None:
    connector_id = await sso_connector(provider="OIDC")
    request = SamlBegin(kind="sso", connector_id=connector_id, redirect_uri=FLOW_CALLBACK, state="s")
    with pytest.raises(GatehouseError) as caught:
        await rpc.call("identity", SAML_BEGIN, request, SamlStarted)
    assert caught.value.code == "connector.unexpected_type"
