"""JWT customizer rules: the declarative subset Gatehouse runs instead of Logto's JavaScript.

Logto runs a customizer's `script` (arbitrary JavaScript) on every token. Running user code cannot be
made safe inside this service, so a customizer's `script` must be empty or absent; the claims come
from its `environmentVariables` instead, each variable one claim of the token:

- `"plan": "gold"` adds the literal claim `"plan": "gold"`;
- `"department": "{{ user.customData.department }}"` adds the value found at that path of the token's
  context: `user.*` (access tokens of a user: id, username, primaryEmail, primaryPhone, name, avatar,
  customData, identities, profile, isSuspended, createdAt, updatedAt) and `application.*` (both token
  types: id, name, type, customData, isThirdParty). A path that finds nothing adds no claim, so
  evaluation never fails and `blockIssuanceOnError` has nothing to block.

Standard claims of the token (`iss`, `sub`, `aud`, `exp`, ...) cannot be overridden.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gatehouse_platform.errors import BadRequest

ACCESS_TOKEN = "access-token"
CLIENT_CREDENTIALS = "client-credentials"
CONFIG_KEYS = {ACCESS_TOKEN: "jwt.accessToken", CLIENT_CREDENTIALS: "jwt.clientCredentials"}
ID_TOKEN_KEY = "idToken"
ROOTS = {ACCESS_TOKEN: ("user", "application"), CLIENT_CREDENTIALS: ("application",)}
RESERVED_CLAIMS = frozenset(
    {"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "client_id", "act", "organization_id", "cnf", "sid"}
)
EXTENDED_ID_TOKEN_CLAIMS = (
    "custom_data",
    "identities",
    "sso_identities",
    "roles",
    "organizations",
    "organization_data",
    "organization_roles",
)
_REFERENCE = re.compile(r"^\{\{\s*([^{}]*?)\s*\}\}$")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)+$")


@dataclass(frozen=True)
class ClaimRule:
    claim: str
    literal: str | None  # a literal value, or
    path: tuple[str, ...]  # the context path to read (root first)


@dataclass(frozen=True)
class Customizer:
    """A stored customizer compiled once, so issuing a token only walks a few dict lookups."""

    rules: tuple[ClaimRule, ...]

    @property
    def roots(self) -> frozenset[str]:
        return frozenset(r.path[0] for r in self.rules if r.literal is None)

    def claims(self, context: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for rule in self.rules:
            if rule.literal is not None:
                out[rule.claim] = rule.literal
                continue
            value: Any = context
            for step in rule.path:
                value = value.get(step) if isinstance(value, Mapping) else None
                if value is None:
                    break
            if value is not None:
                out[rule.claim] = value
        return out


def check_script(script: str | None) -> None:
    if script is not None and script.strip():
        raise BadRequest("jwt_customizer.script_not_supported")


def compile_customizer(token_type: str, variables: Mapping[str, str]) -> Customizer:
    """The rules of a customizer's variables; 400 on a reserved claim or a reference outside the subset."""
    rules = []
    for claim, value in variables.items():
        if not claim or claim in RESERVED_CLAIMS:
            raise BadRequest("jwt_customizer.reserved_claim", claim=claim)
        match = _REFERENCE.match(value)
        if match is None:
            rules.append(ClaimRule(claim, value, ()))
            continue
        path = match.group(1)
        if not _PATH.match(path) or path.split(".")[0] not in ROOTS[token_type]:
            raise BadRequest(
                "jwt_customizer.invalid_claim_reference", reference=value, roots=", ".join(ROOTS[token_type])
            )
        rules.append(ClaimRule(claim, None, tuple(path.split("."))))
    return Customizer(tuple(rules))


def preview_customizer(
    token_type: str,
    script: str | None,
    variables: Mapping[str, str],
    token: Mapping[str, Any],
    context: Mapping[str, Any],
) -> dict[str, Any]:
    """`POST /api/configs/jwt-customizer/test`: the sample token with the customizer's claims added."""
    check_script(script)
    return {**token, **compile_customizer(token_type, variables).claims(context)}
