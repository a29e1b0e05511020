"""Signs JWT access tokens (`typ` at+jwt, RFC 9068) with the tenant's current key.

The token is put together here (base64url of the header and of the msgspec-encoded claims, signed
with the key's `cryptography` object) instead of through joserfc's `jwt.encode`, whose header and
claims checks, registry lookups and JSON encoding cost about as much CPU as the ES384 signature
itself. The result is the same compact JWS; claims msgspec cannot encode go through joserfc.
"""

import base64
import os
import time
from dataclasses import dataclass

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from gatehouse_identity.keys.keyring import Keyring, SigningKey

_ID_ALPHABET = b"0123456789abcdefghijklmnopqrstuvwxyz"
_ID_LIMIT = 252  # the largest multiple of 36 below 256: bytes from it on are skipped, so every letter is equally likely
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "ES256": hashes.SHA256,
    "ES384": hashes.SHA384,
    "ES512": hashes.SHA512,
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
}
_encoder = msgspec.json.Encoder()


def token_id(size: int = 21) -> str:
    """A `jti` in Logto's id format (lowercase letters and digits, uniform), from one `os.urandom` call."""
    out = bytearray()
    while len(out) < size:
        out += bytes(_ID_ALPHABET[b % 36] for b in os.urandom(size + 8) if b < _ID_LIMIT)
    return out[:size].decode()


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


class _Signer:
    """One signing key: its protected headers (`typ` at+jwt for access tokens, JWT for ID tokens),
    encoded once, and its raw signature."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key
        self.headers = {typ: {"alg": key.alg, "typ": typ, "kid": key.kid} for typ in ("at+jwt", "JWT")}
        self.headers_b64 = {typ: _b64(msgspec.json.encode(header)) for typ, header in self.headers.items()}
        self.hash = _HASHES.get(key.alg)
        private = key.key.private_key if isinstance(key.key, ECKey | RSAKey) else None
        self.ec = private if isinstance(private, ec.EllipticCurvePrivateKey) else None
        self.rsa = private if isinstance(private, rsa.RSAPrivateKey) and key.alg.startswith("RS") else None
        self.size = (self.ec.curve.key_size + 7) // 8 if self.ec is not None else 0

    def sign(self, claims: dict[str, object], typ: str = "at+jwt") -> str:
        if self.hash is None or (self.ec is None and self.rsa is None):
            return jwt.encode(self.headers[typ], claims, self.key.key, algorithms=[self.key.alg])
        try:
            payload = _encoder.encode(claims)
        except (TypeError, msgspec.EncodeError):
            return jwt.encode(self.headers[typ], claims, self.key.key, algorithms=[self.key.alg])
        signing_input = self.headers_b64[typ] + b"." + _b64(payload)
        if self.ec is not None:
            r, s = decode_dss_signature(self.ec.sign(signing_input, ec.ECDSA(self.hash())))
            signature = r.to_bytes(self.size, "big") + s.to_bytes(self.size, "big")
        else:
            assert self.rsa is not None
            signature = self.rsa.sign(signing_input, padding.PKCS1v15(), self.hash())
        return (signing_input + b"." + _b64(signature)).decode()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int
    scope: str


class AccessTokenIssuer:
    def __init__(self, keyring: Keyring, issuer: str) -> None:
        self.keyring = keyring
        self.issuer = issuer
        self._signer: _Signer | None = None

    def _signer_for(self, key: SigningKey) -> _Signer:
        signer = self._signer
        if signer is None or signer.key is not key:  # the keyring swaps its SigningKey on rotation
            signer = self._signer = _Signer(key)
        return signer

    def sign(self, key: SigningKey, claims: dict[str, object], typ: str = "at+jwt") -> str:
        """A compact JWS of `claims` with `key` (the caller's `keyring.signing_key`, read once so a claim
        derived from the key, such as an ID token's `at_hash`, matches the signature); `typ` at+jwt or JWT."""
        return self._signer_for(key).sign(claims, typ)

    def issue(
        self,
        *,
        subject: str,
        client_id: str,
        audience: str,
        scopes: list[str],
        ttl: int,
        extra: dict[str, object] | None = None,
    ) -> IssuedToken:
        key = self.keyring.signing_key
        now = int(time.time())
        scope = " ".join(scopes)
        claims: dict[str, object] = {
            "jti": token_id(),
            "sub": subject,
            "iat": now,
            "exp": now + ttl,
            "scope": scope,
            "client_id": client_id,
            "iss": self.issuer,
            "aud": audience,
        }
        if extra:
            claims.update(extra)
        return IssuedToken(self._signer_for(key).sign(claims), ttl, scope)
