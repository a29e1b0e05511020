"""Identity's OpenAPI document against Logto's contract (`shared/contract/management.openapi.json`):
each Users operation identity serves is there under Logto's method, path, operationId and tag, with
its path parameters declared."""

import pytest
from gatehouse_identity.app import create_app
from gatehouse_identity.config import IdentitySettings
from gatehouse_platform.config import load_settings
from gatehouse_testing.contract import (
    Operation,
    Operations,
    differences,
    first_tag,
    logto_operations,
    service_operations,
)

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
    ("POST", "/api/users/{userId}/identities"),
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
USER_OPERATIONS_LEFT_OUT: set[Operation] = set()

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
    ("GET", "/api/configs/cimd"): "Configs",
    ("PATCH", "/api/configs/cimd"): "Configs",
    ("GET", "/api/authn/hasura"): "Authn",
    ("POST", "/api/authn/saml/{connectorId}"): "Authn",
    ("POST", "/api/authn/single-sign-on/saml/{connectorId}"): "Authn",
    ("DELETE", "/api/secrets/{id}"): "Secrets",
    ("GET", "/api/configs/actions"): "Configs",
    ("GET", "/api/configs/actions/{actionType}"): "Configs",
    ("PUT", "/api/configs/actions/{actionType}"): "Configs",
    ("PATCH", "/api/configs/actions/{actionType}"): "Configs",
    ("DELETE", "/api/configs/actions/{actionType}"): "Configs",
    ("POST", "/api/configs/actions/test"): "Configs",
}


@pytest.fixture(scope="module")
def contract() -> Operations:
    return logto_operations()


@pytest.fixture(scope="module")
def ours() -> Operations:
    return service_operations(create_app(load_settings(IdentitySettings, environ={})))


def test_user_operations_match_logto(contract: Operations, ours: Operations) -> None:
    tags = {**dict.fromkeys(USER_OPERATIONS, "Users"), **OTHER_OPERATIONS}
    missing = [operation for operation in tags if operation not in contract]
    assert not missing, f"not in Logto's contract: {missing}"
    wrong_tag = [operation for operation in tags if first_tag(contract[operation]) != tags[operation]]
    assert not wrong_tag, f"Logto files these under another tag: {wrong_tag}"
    problems = differences(ours, {operation: contract[operation] for operation in tags})
    assert not problems, "\n".join(problems)


def test_identity_serves_exactly_these_management_operations(ours: Operations) -> None:
    api = {k for k in ours if k[1].startswith("/api/")}
    assert api == USER_OPERATIONS | set(OTHER_OPERATIONS)


def test_left_out_user_operations_are_in_the_contract_and_not_served(contract: Operations, ours: Operations) -> None:
    for operation in USER_OPERATIONS_LEFT_OUT:
        assert operation in contract and operation not in ours
