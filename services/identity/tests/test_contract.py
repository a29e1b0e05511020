"""Identity's OpenAPI document against Logto's contract (`shared/contract/management.openapi.json`):
each Users operation identity serves is there under Logto's method, path, operationId and tag, with
its path parameters declared."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from gatehouse_identity.app import create_app
from gatehouse_identity.config import IdentitySettings
from gatehouse_platform.config import load_settings

REPO = Path(__file__).resolve().parents[3]
CANDIDATES = [
    REPO.parent / "shared" / "contract" / "management.openapi.json",
    Path("/work/shared/contract/management.openapi.json"),
]
METHODS = ("get", "put", "post", "delete", "patch")

Operation = tuple[str, str]

USER_OPERATIONS: set[Operation] = {
    ("POST", "/api/users"),
    ("GET", "/api/users"),
    ("GET", "/api/users/{userId}"),
    ("PATCH", "/api/users/{userId}"),
    ("DELETE", "/api/users/{userId}"),
    ("GET", "/api/users/{userId}/custom-data"),
    ("PATCH", "/api/users/{userId}/custom-data"),
    ("PATCH", "/api/users/{userId}/profile"),
    ("PATCH", "/api/users/{userId}/password"),
    ("POST", "/api/users/{userId}/password/verify"),
    ("GET", "/api/users/{userId}/has-password"),
    ("PATCH", "/api/users/{userId}/password/expiration"),
    ("PATCH", "/api/users/{userId}/is-suspended"),
    ("GET", "/api/users/{userId}/logto-configs"),
    ("PATCH", "/api/users/{userId}/logto-configs"),
    # identities
    ("PUT", "/api/users/{userId}/identities/{target}"),
    ("DELETE", "/api/users/{userId}/identities/{target}"),
    ("GET", "/api/users/{userId}/identities/{target}"),
    ("GET", "/api/users/{userId}/all-identities"),
    ("GET", "/api/users/{userId}/sso-identities/{ssoConnectorId}"),
    # MFA
    ("GET", "/api/users/{userId}/mfa-verifications"),
    ("POST", "/api/users/{userId}/mfa-verifications"),
    ("DELETE", "/api/users/{userId}/mfa-verifications/{verificationId}"),
    # personal access tokens
    ("GET", "/api/users/{userId}/personal-access-tokens"),
    ("POST", "/api/users/{userId}/personal-access-tokens"),
    ("PATCH", "/api/users/{userId}/personal-access-tokens"),
    ("POST", "/api/users/{userId}/personal-access-tokens/delete"),
    ("PATCH", "/api/users/{userId}/personal-access-tokens/{name}"),
    ("DELETE", "/api/users/{userId}/personal-access-tokens/{name}"),
    # OIDC grants and sessions
    ("GET", "/api/users/{userId}/grants"),
    ("DELETE", "/api/users/{userId}/grants/{grantId}"),
    ("GET", "/api/users/{userId}/sessions"),
    ("GET", "/api/users/{userId}/sessions/{sessionId}"),
    ("DELETE", "/api/users/{userId}/sessions/{sessionId}"),
}

# Logto's Users operations identity does not serve, and why (the test below keeps this list honest).
USER_OPERATIONS_LEFT_OUT: set[Operation] = {
    ("POST", "/api/users/{userId}/identities"),  # needs a social connector's authorization round trip
}

OTHER_OPERATIONS: dict[Operation, str] = {
    ("POST", "/api/subject-tokens"): "Subject tokens",
    ("GET", "/api/configs/jwt-customizer"): "Configs",
    ("PUT", "/api/configs/jwt-customizer/{tokenTypePath}"): "Configs",
    ("PATCH", "/api/configs/jwt-customizer/{tokenTypePath}"): "Configs",
    ("GET", "/api/configs/jwt-customizer/{tokenTypePath}"): "Configs",
    ("DELETE", "/api/configs/jwt-customizer/{tokenTypePath}"): "Configs",
    ("POST", "/api/configs/jwt-customizer/test"): "Configs",
    ("GET", "/api/configs/id-token"): "Configs",
    ("PUT", "/api/configs/id-token"): "Configs",
    ("GET", "/api/configs/oidc/{keyType}"): "Configs",
    ("POST", "/api/configs/oidc/{keyType}/rotate"): "Configs",
    ("DELETE", "/api/configs/oidc/{keyType}/{keyId}"): "Configs",
    ("GET", "/api/configs/oidc/session"): "Configs",
    ("PATCH", "/api/configs/oidc/session"): "Configs",
    ("GET", "/api/authn/hasura"): "Authn",
}


def _operations(doc: dict[str, Any]) -> dict[Operation, dict[str, Any]]:
    return {
        (method.upper(), path): op
        for path, item in (doc.get("paths") or {}).items()
        for method, op in item.items()
        if method in METHODS and isinstance(op, dict)
    }


@pytest.fixture(scope="module")
def contract() -> dict[Operation, dict[str, Any]]:
    for candidate in CANDIDATES:
        if candidate.is_file():
            return _operations(json.loads(candidate.read_text()))
    pytest.skip(f"Logto's contract is not here: {', '.join(map(str, CANDIDATES))}")


@pytest.fixture(scope="module")
def ours() -> dict[Operation, dict[str, Any]]:
    app = create_app(load_settings(IdentitySettings, environ={}))
    return _operations(app.openapi_schema.to_schema())


def test_user_operations_match_logto(
    contract: dict[Operation, dict[str, Any]], ours: dict[Operation, dict[str, Any]]
) -> None:
    problems = []
    tags = {**dict.fromkeys(USER_OPERATIONS, "Users"), **OTHER_OPERATIONS}
    for method, path in sorted(tags, key=lambda k: (k[1], k[0])):
        logto = contract.get((method, path))
        assert logto is not None, f"{method} {path} is not in Logto's contract"
        mine = ours.get((method, path))
        name = f"{method} {path} ({logto['operationId']})"
        if mine is None:
            problems.append(f"missing: {name}")
            continue
        if mine.get("operationId") != logto["operationId"]:
            problems.append(f"operationId: {name} is {mine.get('operationId')!r} here")
        if tags[method, path] not in (mine.get("tags") or []):
            problems.append(f"tag: {name} has tags {mine.get('tags')!r} here")
        declared = {p["name"] for p in mine.get("parameters") or [] if p.get("in") == "path"}
        if declared != set(re.findall(r"\{([^}]+)\}", path)):
            problems.append(f"path parameters: {name} declares {sorted(declared)}")
        success = {c for c in logto.get("responses", {}) if c.startswith("2")}
        if not success <= set(mine.get("responses") or {}):
            problems.append(f"status: {name} answers {sorted(mine.get('responses') or {})}, Logto {sorted(success)}")
    assert not problems, "\n".join(problems)


def test_identity_serves_exactly_these_management_operations(ours: dict[Operation, dict[str, Any]]) -> None:
    api = {k for k in ours if k[1].startswith("/api/")}
    assert api == USER_OPERATIONS | set(OTHER_OPERATIONS)


def test_left_out_user_operations_are_in_the_contract_and_not_served(
    contract: dict[Operation, dict[str, Any]], ours: dict[Operation, dict[str, Any]]
) -> None:
    for operation in USER_OPERATIONS_LEFT_OUT:
        assert operation in contract and operation not in ours
