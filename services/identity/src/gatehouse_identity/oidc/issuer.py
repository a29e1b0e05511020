"""Signs JWT access tokens (`typ` at+jwt, RFC 9068) with the tenant's current key."""

import time
from dataclasses import dataclass

from gatehouse_schema.ids import generate_id
from joserfc import jwt

from gatehouse_identity.keys.keyring import Keyring


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int
    scope: str


class AccessTokenIssuer:
    def __init__(self, keyring: Keyring, issuer: str) -> None:
        self.keyring = keyring
        self.issuer = issuer

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
            "jti": generate_id(),
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
        header = {"alg": key.alg, "typ": "at+jwt", "kid": key.kid}
        return IssuedToken(jwt.encode(header, claims, key.key, algorithms=[key.alg]), ttl, scope)
