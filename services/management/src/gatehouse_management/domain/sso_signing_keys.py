"""SP signing keys of SAML connectors (Logto's `saml-sso-connector-signing-key` library): a fresh RSA key pair
and its self-signed X.509 certificate, valid three years, and the certificate's SHA-256 fingerprints. The
private key is stored (PEM) for identity to sign AuthnRequests with; it is never returned."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID

from gatehouse_management.api.sso_connector_bodies import Fingerprint, Fingerprints, SigningKey
from gatehouse_management.persistence.rows import epoch_ms

KEY_SIZE = 4096  # Logto's
LIFESPAN_YEARS = 3  # Logto's `signingKeyLifeSpanInYears`


@dataclass(frozen=True)
class KeyMaterial:
    private_key: str
    certificate: str
    created_at: datetime
    expires_at: datetime


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def generate(common_name: str, now: datetime | None = None) -> KeyMaterial:
    """A new key pair and its self-signed certificate (SHA-256 with RSA, a random serial number), valid from now
    for `LIFESPAN_YEARS`. CPU-bound (a 4096-bit key takes most of a second): run it off the event loop."""
    created_at = now or datetime.now(UTC)  # exact: keys made in the same second still list in creation order
    now = created_at.replace(microsecond=0)
    expires_at = _add_years(now, LIFESPAN_YEARS)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "gatehouse"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gatehouse"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(expires_at)
        .sign(key, hashes.SHA256())
    )
    return KeyMaterial(
        private_key=key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode(),
        certificate=certificate.public_bytes(Encoding.PEM).decode(),
        created_at=created_at,
        expires_at=expires_at,
    )


def fingerprints(certificate_pem: str) -> Fingerprints:
    """Logto's `calculateCertificateFingerprints`: SHA-256 of the DER certificate, upper-case hex, plain and
    colon-separated."""
    der = x509.load_pem_x509_certificate(certificate_pem.encode()).public_bytes(Encoding.DER)
    digest = hashlib.sha256(der).hexdigest().upper()
    formatted = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
    return Fingerprints(sha256=Fingerprint(formatted=formatted, unformatted=digest))


def to_signing_key(row: Any) -> SigningKey:
    """The key as the API shows it: everything but the private key."""
    return SigningKey(
        id=row.id,
        certificate=row.certificate,
        created_at=epoch_ms(row.created_at) or 0,
        expires_at=epoch_ms(row.expires_at) or 0,
        active=row.active,
        fingerprints=fingerprints(row.certificate),
    )
