"""The management service's OpenAPI document against Logto's contract (`shared/contract/management.openapi.json`).

For each group below, every operation of the contract (method + path, with Logto's path parameter
names) must be in the document, under the same operationId and tag, with its path parameters declared.
A failure lists exactly which operations are missing or differ.
"""

from __future__ import annotations

import pytest
from gatehouse_management.app import create_app
from gatehouse_management.config import ManagementSettings
from gatehouse_platform.config import load_settings
from gatehouse_testing.contract import (
    Operation,
    Operations,
    differences,
    first_tag,
    logto_operations,
    service_operations,
)

# Applications operations the organizations service serves (its membership and user consent organization routes).
ORGANIZATION_OPERATIONS: set[Operation] = {
    ("GET", "/api/applications/{id}/organizations"),
    ("GET", "/api/applications/{id}/users/{userId}/consent-organizations"),
    ("PUT", "/api/applications/{id}/users/{userId}/consent-organizations"),
    ("POST", "/api/applications/{id}/users/{userId}/consent-organizations"),
    ("DELETE", "/api/applications/{id}/users/{userId}/consent-organizations/{organizationId}"),
}
USER_ROLES_PREFIX = "/api/users/{userId}/roles"
# the Configs operations management serves (identity serves the OIDC ones)
ADMIN_CONSOLE_PREFIX = "/api/configs/admin-console"
# needs file storage (uploaded zip archives), which Gatehouse does not have
SIGN_IN_EXPERIENCE_LEFT_OUT: set[Operation] = {("POST", "/api/sign-in-exp/default/custom-ui-assets")}


@pytest.fixture(scope="module")
def contract() -> Operations:
    return logto_operations()


@pytest.fixture(scope="module")
def ours() -> Operations:
    return service_operations(create_app(load_settings(ManagementSettings, environ={})))


def _wanted(contract: Operations, group: str) -> Operations:
    if group == "Users":
        return {k: op for k, op in contract.items() if k[1].startswith(USER_ROLES_PREFIX)}
    if group == "Configs":
        return {k: op for k, op in contract.items() if k[1].startswith(ADMIN_CONSOLE_PREFIX)}
    if group == "Applications":
        return {k: op for k, op in contract.items() if first_tag(op) == group and k not in ORGANIZATION_OPERATIONS}
    if group == "Sign-in experience":
        return {k: op for k, op in contract.items() if first_tag(op) == group and k not in SIGN_IN_EXPERIENCE_LEFT_OUT}
    return {k: op for k, op in contract.items() if first_tag(op) == group}


# How many operations each group has in the contract (Logto 1.42.0): a guard against selecting nothing.
EXPECTED_COUNTS = {
    "Resources": 10,
    "Roles": 14,
    "Users": 4,
    "Applications": 25,
    "Sign-in experience": 4,
    "Custom phrases": 4,
    "Account center": 2,
    "Captcha provider": 3,
    "Custom profile fields": 7,
    "Configs": 2,
    "Connectors": 7,
    "Connector factories": 2,
    "SSO connectors": 9,
    "SSO connector providers": 1,
}


@pytest.mark.parametrize("group", list(EXPECTED_COUNTS))
def test_operations_match_logto(group: str, contract: Operations, ours: Operations) -> None:
    wanted = _wanted(contract, group)
    assert len(wanted) == EXPECTED_COUNTS[group], sorted(wanted)
    problems = differences(ours, wanted)
    assert not problems, f"{group}: {len(problems)} of {len(wanted)} operations differ from Logto's:\n" + "\n".join(
        problems
    )


def test_the_organization_operations_are_the_only_ones_left_out(contract: Operations) -> None:
    applications = {k for k, op in contract.items() if first_tag(op) == "Applications"}
    assert ORGANIZATION_OPERATIONS <= applications
    assert len(applications - ORGANIZATION_OPERATIONS) == EXPECTED_COUNTS["Applications"]


def test_only_the_custom_ui_assets_upload_is_left_out_of_the_sign_in_experience(contract: Operations) -> None:
    group = {k for k, op in contract.items() if first_tag(op) == "Sign-in experience"}
    assert SIGN_IN_EXPERIENCE_LEFT_OUT <= group
    assert len(group - SIGN_IN_EXPERIENCE_LEFT_OUT) == EXPECTED_COUNTS["Sign-in experience"]
