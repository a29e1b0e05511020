"""The OpenID Provider metadata. It advertises only what this deployment serves today."""

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

import msgspec

SCOPES_SUPPORTED = [
    "openid",
    "offline_access",
    "profile",
    "email",
    "phone",
    "address",
    "custom_data",
    "identities",
    "roles",
]
# Logto's organization scopes: the claims `organizations`, `organization_data`, `organization_roles`, and
# organization tokens (`organization_id` at the token endpoint)
ORGANIZATION_SCOPES = ["urn:logto:scope:organizations", "urn:logto:scope:organization_roles"]


def discovery_document(issuer: str, signing_alg: str, claims_supported: list[str]) -> bytes:
    doc: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/auth",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/me",
        "jwks_uri": f"{issuer}/jwks",
        "end_session_endpoint": f"{issuer}/session/end",
        "introspection_endpoint": f"{issuer}/token/introspection",
        "revocation_endpoint": f"{issuer}/token/revocation",
        "device_authorization_endpoint": f"{issuer}/device/auth",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "id_token_signing_alg_values_supported": [signing_alg],
        "scopes_supported": SCOPES_SUPPORTED + ORGANIZATION_SCOPES,
        "claims_supported": claims_supported,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "subject_types_supported": ["public"],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": False,
    }
    return msgspec.json.encode(doc)


@dataclass(frozen=True)
class StaticBody:
    """A precomputed response body with its strong ETag."""

    body: bytes
    etag: bytes

    @classmethod
    def of(cls, body: bytes) -> "StaticBody":
        return cls(body, b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"')

    def matches(self, if_none_match: bytes | None) -> bool:
        """`If-None-Match` (RFC 9110 §13.1.2: weak comparison, a list, or `*`) names this body."""
        if not if_none_match:
            return False
        for tag in if_none_match.split(b","):
            tag = tag.strip()
            if tag == b"*" or tag.removeprefix(b"W/") == self.etag:
                return True
        return False


@functools.lru_cache(maxsize=16)
def discovery_body(issuer: str, signing_alg: str, claims_supported: tuple[str, ...]) -> StaticBody:
    """The discovery document, encoded once per (issuer, signing algorithm): it changes only with them."""
    return StaticBody.of(discovery_document(issuer, signing_alg, list(claims_supported)))


_jwks_memo: StaticBody | None = None


def jwks_body(jwks: bytes) -> StaticBody:
    """The keyring's JWKS bytes with their ETag, recomputed only when the keyring publishes new bytes."""
    global _jwks_memo
    memo = _jwks_memo
    if memo is None or memo.body is not jwks:
        memo = _jwks_memo = StaticBody.of(jwks)
    return memo
