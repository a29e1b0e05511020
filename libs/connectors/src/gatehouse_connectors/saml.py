"""A SAML 2.0 service provider's two halves (Web Browser SSO profile): the AuthnRequest sent with the
HTTP-Redirect binding, and the verification of the IdP's Response posted back to the assertion consumer
service (HTTP-POST binding).

The Response is trusted only through its XML signature, checked with the IdP's certificate (signxml, exclusive
canonicalization); everything read afterwards is read from what the signature covers, so a wrapped or injected
element cannot stand in for the signed one. Then the usual checks: status Success, the destination and
recipient are our ACS, the audience is our entity id, the time window (2 minutes of skew), the request the
Response answers. Encrypted assertions are not supported (refused with a clear error)."""

import base64
import binascii
import secrets
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from signxml import InvalidInput, InvalidSignature, XMLVerifier
from signxml.exceptions import InvalidCertificate, InvalidDigest

from gatehouse_connectors.http import ConnectorError

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
UNSPECIFIED_NAME_ID = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
SKEW = timedelta(minutes=2)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)


def invalid(message: str) -> ConnectorError:
    return ConnectorError("connector.invalid_response", f"The SAML response is not valid: {message}")


@dataclass(frozen=True)
class IdentityProvider:
    entity_id: str
    sign_in_endpoint: str
    certificate: str
    """PEM, or the base64 DER body of an X.509 certificate as metadata carries it."""


@dataclass(frozen=True)
class ServiceProvider:
    entity_id: str
    acs_url: str
    name_id_format: str = UNSPECIFIED_NAME_ID


@dataclass(frozen=True)
class Assertion:
    name_id: str
    issuer: str
    attributes: dict[str, list[str]] = field(default_factory=dict)
    session_index: str | None = None

    def first(self, name: str) -> str | None:
        values = self.attributes.get(name)
        return values[0] if values else None


def _pem(certificate: str) -> str:
    body = certificate.strip()
    if body.startswith("-----BEGIN"):
        return body
    body = "".join(body.split())
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def parse_metadata(xml: str) -> IdentityProvider:
    """The IdP from its metadata document: entity id, the HTTP-Redirect SSO endpoint, the signing certificate."""
    try:
        root = etree.fromstring(xml.encode(), parser=_PARSER)
    except etree.XMLSyntaxError as error:
        raise ConnectorError("connector.invalid_config", f"The IdP metadata is not XML: {error}") from None
    entity = root if root.tag == f"{{{NS['md']}}}EntityDescriptor" else root.find(".//md:EntityDescriptor", NS)
    idp = None if entity is None else entity.find("md:IDPSSODescriptor", NS)
    if entity is None or idp is None:
        raise ConnectorError("connector.invalid_config", "The IdP metadata has no IDPSSODescriptor.")
    services = idp.findall("md:SingleSignOnService", NS)
    endpoint = next((s.get("Location") for s in services if s.get("Binding") == REDIRECT_BINDING), None)
    keys = idp.findall("md:KeyDescriptor", NS)
    signing = [k for k in keys if k.get("use") in (None, "signing")]
    certificate = next(
        (c.text for k in signing for c in k.findall(".//ds:X509Certificate", NS) if c.text and c.text.strip()), None
    )
    if not endpoint or not certificate:
        raise ConnectorError(
            "connector.invalid_config",
            "The IdP metadata needs an HTTP-Redirect SSO endpoint and a signing certificate.",
        )
    return IdentityProvider(
        entity_id=str(entity.get("entityID", "")), sign_in_endpoint=endpoint, certificate=certificate
    )


def new_request_id() -> str:
    return "_" + secrets.token_hex(16)  # an xs:ID must not start with a digit


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
_HASHES = {RSA_SHA256: hashes.SHA256, RSA_SHA512: hashes.SHA512}


@dataclass(frozen=True)
class RequestSigner:
    """The SP's key for signing AuthnRequests by the redirect binding (PEM private key, a SigAlg URI)."""

    private_key: str
    algorithm: str = RSA_SHA256

    def sign(self, message: bytes) -> str:
        key = serialization.load_pem_private_key(self.private_key.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConnectorError("connector.invalid_config", "The SAML signing key is not an RSA key.")
        return base64.b64encode(key.sign(message, padding.PKCS1v15(), _HASHES[self.algorithm]())).decode()


def authn_request_url(
    idp: IdentityProvider,
    sp: ServiceProvider,
    *,
    request_id: str,
    relay_state: str,
    now: datetime | None = None,
    signer: RequestSigner | None = None,
) -> str:
    """The IdP's sign-in URL carrying an AuthnRequest by the HTTP-Redirect binding, signed as that binding
    signs (SAMLRequest, RelayState and SigAlg, in that order) when a `signer` is given."""
    moment = now or datetime.now(UTC)
    request = etree.Element(
        f"{{{NS['samlp']}}}AuthnRequest",
        nsmap={"samlp": NS["samlp"], "saml": NS["saml"]},
        ID=request_id,
        Version="2.0",
        IssueInstant=_instant(moment),
        Destination=idp.sign_in_endpoint,
        AssertionConsumerServiceURL=sp.acs_url,
        ProtocolBinding=POST_BINDING,
    )
    etree.SubElement(request, f"{{{NS['saml']}}}Issuer").text = sp.entity_id
    etree.SubElement(request, f"{{{NS['samlp']}}}NameIDPolicy", Format=sp.name_id_format, AllowCreate="true")
    deflater = zlib.compressobj(wbits=-15)
    raw = deflater.compress(etree.tostring(request)) + deflater.flush()
    query = urlencode({"SAMLRequest": base64.b64encode(raw).decode(), "RelayState": relay_state})
    if signer is not None:
        query += "&" + urlencode({"SigAlg": signer.algorithm})
        query += "&" + urlencode({"Signature": signer.sign(query.encode())})
    separator = "&" if "?" in idp.sign_in_endpoint else "?"
    return idp.sign_in_endpoint + separator + query


def _time(element: Any, name: str) -> datetime | None:
    value = element.get(name)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"`{name}` is not a time") from None


def _signed_assertion(document: Any, idp: IdentityProvider) -> Any:
    """The assertion the IdP's signature covers: the signed Response's assertion, or a signed assertion."""
    try:
        results = XMLVerifier().verify(document, x509_cert=_pem(idp.certificate), expect_references=1)
    except (InvalidSignature, InvalidDigest, InvalidCertificate, InvalidInput) as error:
        raise invalid(f"the signature does not verify ({type(error).__name__})") from None
    signed = results.signed_xml if not isinstance(results, list) else results[0].signed_xml
    if signed is None:
        raise invalid("nothing is signed")
    if signed.tag == f"{{{NS['saml']}}}Assertion":
        return signed
    assertions = signed.findall("saml:Assertion", NS)
    if len(assertions) != 1:
        raise invalid("the signed response must hold exactly one assertion")
    return assertions[0]


def verify_response(
    saml_response: str,
    idp: IdentityProvider,
    sp: ServiceProvider,
    *,
    request_id: str | None,
    now: datetime | None = None,
) -> Assertion:
    """The assertion of a posted `SAMLResponse` (base64), after every check above; 400
    `connector.invalid_response` otherwise."""
    moment = now or datetime.now(UTC)
    try:
        document = etree.fromstring(base64.b64decode(saml_response, validate=False), parser=_PARSER)
    except (binascii.Error, ValueError, etree.XMLSyntaxError):
        raise invalid("it is not base64-encoded XML") from None
    if document.tag != f"{{{NS['samlp']}}}Response":
        raise invalid("it is not a samlp:Response")
    status = document.find("samlp:Status/samlp:StatusCode", NS)
    if status is None or status.get("Value") != SUCCESS:
        raise invalid(f"the IdP answered {None if status is None else status.get('Value')}")
    if document.find("saml:EncryptedAssertion", NS) is not None:
        raise invalid("encrypted assertions are not supported")
    destination = document.get("Destination")
    if destination is not None and destination != sp.acs_url:
        raise invalid("it was sent to another destination")
    assertion = _signed_assertion(document, idp)
    issuer = assertion.findtext("saml:Issuer", namespaces=NS)
    if idp.entity_id and issuer != idp.entity_id:
        raise invalid("unexpected issuer")
    conditions = assertion.find("saml:Conditions", NS)
    if conditions is not None:
        not_before, not_on_or_after = _time(conditions, "NotBefore"), _time(conditions, "NotOnOrAfter")
        if not_before is not None and moment + SKEW < not_before:
            raise invalid("it is not valid yet")
        if not_on_or_after is not None and moment - SKEW >= not_on_or_after:
            raise invalid("it has expired")
        audiences = [a.text for a in conditions.findall("saml:AudienceRestriction/saml:Audience", NS)]
        if audiences and sp.entity_id not in audiences:
            raise invalid("it is meant for another audience")
    confirmation = assertion.find("saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS)
    if confirmation is None:
        raise invalid("the subject has no bearer confirmation")
    if confirmation.get("Recipient") not in (None, sp.acs_url):
        raise invalid("it is meant for another recipient")
    expiry = _time(confirmation, "NotOnOrAfter")
    if expiry is not None and moment - SKEW >= expiry:
        raise invalid("the subject confirmation has expired")
    answered = confirmation.get("InResponseTo") or document.get("InResponseTo")
    if request_id is not None and answered != request_id:
        raise invalid("it does not answer this sign-in's request")
    name_id = assertion.findtext("saml:Subject/saml:NameID", namespaces=NS)
    if not name_id:
        raise invalid("the subject has no NameID")
    attributes: dict[str, list[str]] = {}
    for attribute in assertion.findall("saml:AttributeStatement/saml:Attribute", NS):
        values = [v.text or "" for v in attribute.findall("saml:AttributeValue", NS)]
        attributes.setdefault(str(attribute.get("Name")), []).extend(values)
    statement = assertion.find("saml:AuthnStatement", NS)
    session_index = None if statement is None else statement.get("SessionIndex")
    return Assertion(name_id=name_id.strip(), issuer=issuer or "", attributes=attributes, session_index=session_index)
