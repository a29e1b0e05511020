"""The SAML service provider: the AuthnRequest it sends, and which Responses it accepts (signed by the IdP's
key, for us, in time, answering our request) and refuses."""

import base64
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from gatehouse_connectors.http import ConnectorError
from gatehouse_connectors.saml import (
    NS,
    IdentityProvider,
    RequestSigner,
    ServiceProvider,
    authn_request_url,
    new_request_id,
    parse_metadata,
    verify_response,
)
from gatehouse_testing.fake_saml_idp import FakeSamlIdp
from lxml import etree

SP = ServiceProvider(entity_id="https://gatehouse.example.com/saml/sp", acs_url="https://gatehouse.example.com/acs")


@pytest.fixture(scope="module")
def fake() -> FakeSamlIdp:
    return FakeSamlIdp()


@pytest.fixture(scope="module")
def idp(fake: FakeSamlIdp) -> IdentityProvider:
    return IdentityProvider(fake.entity_id, fake.sign_in_endpoint, fake.certificate)


def respond(fake: FakeSamlIdp, request_id: str | None = "_req1", **overrides: Any) -> str:
    values: dict[str, Any] = {
        "name_id": "ada@example.com",
        "acs_url": SP.acs_url,
        "audience": SP.entity_id,
        "in_response_to": request_id,
        "attributes": {"email": "ada@example.com", "name": "Ada"},
    }
    return fake.response(**{**values, **overrides})


def test_the_authn_request_goes_by_redirect_with_the_relay_state(idp: IdentityProvider) -> None:
    request_id = new_request_id()
    url = authn_request_url(idp, SP, request_id=request_id, relay_state="jti-1")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(idp.sign_in_endpoint + "?") and query["RelayState"] == "jti-1"
    request = etree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"]), wbits=-15))
    assert request.get("ID") == request_id and request.get("AssertionConsumerServiceURL") == SP.acs_url
    assert request.findtext("saml:Issuer", namespaces=NS) == SP.entity_id


def test_metadata_gives_the_endpoint_and_the_signing_certificate(fake: FakeSamlIdp) -> None:
    parsed = parse_metadata(fake.metadata())
    assert (parsed.entity_id, parsed.sign_in_endpoint) == (fake.entity_id, fake.sign_in_endpoint)
    assert parsed.certificate.strip() == fake.certificate_body


def test_metadata_without_an_sso_descriptor_is_an_invalid_config() -> None:
    with pytest.raises(ConnectorError) as caught:
        parse_metadata('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>')
    assert caught.value.code == "connector.invalid_config"


@pytest.mark.parametrize("sign", ["assertion", "response"])
def test_a_signed_response_gives_the_subject_and_attributes(
    fake: FakeSamlIdp, idp: IdentityProvider, sign: str
) -> None:
    assertion = verify_response(respond(fake, sign=sign), idp, SP, request_id="_req1")
    assert assertion.name_id == "ada@example.com" and assertion.issuer == fake.entity_id
    assert assertion.first("name") == "Ada" and assertion.first("email") == "ada@example.com"


def test_the_metadata_certificate_form_verifies_too(fake: FakeSamlIdp) -> None:
    idp = IdentityProvider(fake.entity_id, fake.sign_in_endpoint, fake.certificate_body)
    assert verify_response(respond(fake), idp, SP, request_id="_req1").name_id == "ada@example.com"


def _refused(fake: FakeSamlIdp, idp: IdentityProvider, response: str, match: str, **kwargs: Any) -> None:
    with pytest.raises(ConnectorError, match=match) as caught:
        verify_response(response, idp, SP, **{"request_id": "_req1", **kwargs})
    assert caught.value.code == "connector.invalid_response" and caught.value.status == 400


def test_an_unsigned_response_is_refused(fake: FakeSamlIdp, idp: IdentityProvider) -> None:
    _refused(fake, idp, respond(fake, sign="none"), "signature")


def test_a_response_signed_by_another_key_is_refused(fake: FakeSamlIdp) -> None:
    other = FakeSamlIdp()
    idp = IdentityProvider(fake.entity_id, fake.sign_in_endpoint, other.certificate)
    _refused(fake, idp, respond(fake), "signature")


def test_a_changed_subject_no_longer_verifies(fake: FakeSamlIdp, idp: IdentityProvider) -> None:
    def swap(root: Any) -> None:
        root.find(".//saml:NameID", NS).text = "mallory@example.com"

    _refused(fake, idp, respond(fake, tamper=swap), "signature")


def test_an_injected_unsigned_assertion_is_not_read(fake: FakeSamlIdp, idp: IdentityProvider) -> None:
    """Signature wrapping: a forged assertion placed before the signed one must not be the one read."""

    def inject(root: Any) -> None:
        forged = etree.fromstring(etree.tostring(root.find("saml:Assertion", NS)))
        forged.find(".//saml:NameID", NS).text = "mallory@example.com"
        forged.set("ID", "_forged")
        sig = forged.find("ds:Signature", NS)
        if sig is not None:
            forged.remove(sig)
        root.insert(2, forged)

    try:
        assertion = verify_response(respond(fake, tamper=inject), idp, SP, request_id="_req1")
    except ConnectorError:
        return  # refused outright: also safe
    assert assertion.name_id == "ada@example.com"


def test_an_error_status_is_refused(fake: FakeSamlIdp, idp: IdentityProvider) -> None:
    _refused(fake, idp, respond(fake, status="urn:oasis:names:tc:SAML:2.0:status:Requester"), "Requester")


def test_an_expired_response_is_refused(fake: FakeSamlIdp, idp: IdentityProvider) -> None:
    old = datetime.now(UTC) - timedelta(hours=1)
    _refused(fake, idp, respond(fake, issued=old), "expired")


def test_a_response_for_another_audience_or_acs_is_refused(fake: FakeSamlIdp, idp: IdentityProvider) -> None:
    _refused(fake, idp, respond(fake, audience="https://other.example.com"), "audience")
    _refused(fake, idp, respond(fake, acs_url="https://other.example.com/acs"), "destination")


def test_a_response_to_another_request_is_refused(fake: FakeSamlIdp, idp: IdentityProvider) -> None:
    _refused(fake, idp, respond(fake, request_id="_other"), "request")


def test_garbage_is_refused(fake: FakeSamlIdp, idp: IdentityProvider) -> None:
    _refused(fake, idp, "not base64 at all!", "base64")
    _refused(fake, idp, base64.b64encode(b"<x/>").decode(), "samlp:Response")


def test_a_signed_request_carries_a_signature_the_sp_certificate_verifies(idp: IdentityProvider) -> None:
    sp_key = FakeSamlIdp()  # any RSA key and certificate will do for the SP
    pem = sp_key.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    url = authn_request_url(idp, SP, request_id="_r", relay_state="rs", signer=RequestSigner(pem))
    query = urlsplit(url).query
    signed_part, _, signature = query.rpartition("&Signature=")
    assert "SigAlg=" in signed_part
    sp_key.key.public_key().verify(
        base64.b64decode(unquote(signature)), signed_part.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
