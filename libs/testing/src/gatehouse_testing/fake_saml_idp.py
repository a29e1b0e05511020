"""A SAML identity provider for tests: a real RSA key and self-signed certificate, and Responses signed with
them (signxml, enveloped signature over the assertion or the whole Response), as an IdP would post them."""

import base64
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


def _key_and_certificate() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-idp.example.com")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM).decode()


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeSamlIdp:
    entity_id: str = "https://fake-idp.example.com/metadata"
    sign_in_endpoint: str = "https://fake-idp.example.com/sso"
    key: rsa.RSAPrivateKey = field(init=False)
    certificate: str = field(init=False)

    def __post_init__(self) -> None:
        self.key, self.certificate = _key_and_certificate()

    @property
    def certificate_body(self) -> str:
        """The certificate as metadata carries it: base64 DER, no PEM armour."""
        return "".join(line for line in self.certificate.splitlines() if "CERTIFICATE" not in line)

    def metadata(self) -> str:
        return f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{self.entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>
      <ds:X509Certificate>{self.certificate_body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
      Location="{self.sign_in_endpoint}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""

    def response(
        self,
        *,
        name_id: str,
        acs_url: str,
        audience: str,
        in_response_to: str | None,
        attributes: dict[str, str] | None = None,
        sign: str = "assertion",
        status: str = "urn:oasis:names:tc:SAML:2.0:status:Success",
        issued: datetime | None = None,
        lifetime: timedelta = timedelta(minutes=5),
        tamper: Any = None,
    ) -> str:
        """A base64 `SAMLResponse`; `sign` is `assertion`, `response` or `none`; `tamper(root)` edits the XML
        after signing (to test that a changed document no longer verifies)."""
        now = issued or datetime.now(UTC)
        later = now + lifetime
        reply = f' InResponseTo="{in_response_to}"' if in_response_to else ""
        values = "".join(
            f'<saml:Attribute Name="{k}"><saml:AttributeValue>{v}</saml:AttributeValue></saml:Attribute>'
            for k, v in (attributes or {}).items()
        )
        assertion_id, response_id = "_a" + secrets.token_hex(8), "_r" + secrets.token_hex(8)
        xml = f"""<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{response_id}" Version="2.0"
 IssueInstant="{_instant(now)}" Destination="{acs_url}"{reply}>
<saml:Issuer>{self.entity_id}</saml:Issuer>
<samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status>
<saml:Assertion ID="{assertion_id}" Version="2.0" IssueInstant="{_instant(now)}">
<saml:Issuer>{self.entity_id}</saml:Issuer>
<saml:Subject><saml:NameID>{name_id}</saml:NameID>
<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
<saml:SubjectConfirmationData Recipient="{acs_url}" NotOnOrAfter="{_instant(later)}"{reply}/>
</saml:SubjectConfirmation></saml:Subject>
<saml:Conditions NotBefore="{_instant(now - timedelta(seconds=30))}" NotOnOrAfter="{_instant(later)}">
<saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>
<saml:AuthnStatement AuthnInstant="{_instant(now)}" SessionIndex="{assertion_id}"/>
<saml:AttributeStatement>{values}</saml:AttributeStatement>
</saml:Assertion></samlp:Response>"""
        root = etree.fromstring(xml.encode())
        signer = XMLSigner(signature_algorithm="rsa-sha256", digest_algorithm="sha256")
        key_pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        if sign == "assertion":
            assertion = root.find(f"{{{SAML}}}Assertion")
            signed = signer.sign(assertion, key=key_pem, cert=self.certificate, reference_uri=assertion_id)
            root.replace(assertion, signed)
        elif sign == "response":
            root = signer.sign(root, key=key_pem, cert=self.certificate, reference_uri=response_id)
        if tamper is not None:
            tamper(root)
        return base64.b64encode(etree.tostring(root)).decode()
