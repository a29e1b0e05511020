"""The OpenID Provider metadata. It advertises only what this deployment serves today."""

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
    "urn:logto:scope:organizations",
    "urn:logto:scope:organization_roles",
]


def discovery_document(issuer: str, signing_alg: str) -> bytes:
    doc: dict[str, Any] = {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/jwks",
        "token_endpoint": f"{issuer}/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": [signing_alg],
        "scopes_supported": SCOPES_SUPPORTED,
        "subject_types_supported": ["public"],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
    return msgspec.json.encode(doc)
