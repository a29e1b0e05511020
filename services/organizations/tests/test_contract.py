"""The organizations service's OpenAPI document against Logto's contract (`shared/contract/management.openapi.json`).

For each group below, every operation of the contract (method + path, with Logto's path parameter names) must
be in the document, under the same operationId and tag, with its path parameters declared. A failure lists
exactly which operations are missing or differ.
"""

from __future__ import annotations

import pytest
from gatehouse_organizations.app import create_app
from gatehouse_organizations.config import OrganizationsSettings
from gatehouse_platform.config import load_settings
from gatehouse_testing.contract import (
    Operation,
    Operations,
    differences,
    first_tag,
    logto_operations,
    service_operations,
)

# The membership routes of other groups that this service serves.
MEMBERSHIP_OPERATIONS: set[Operation] = {
    ("GET", "/api/users/{userId}/organizations"),
    ("GET", "/api/applications/{id}/organizations"),
}
# The Applications operations this service serves: a user's consent organizations of a third-party application.
CONSENT_PATH = "/api/applications/{id}/users/{userId}/consent-organizations"
CONSENT_OPERATIONS: set[Operation] = {
    ("GET", CONSENT_PATH),
    ("PUT", CONSENT_PATH),
    ("POST", CONSENT_PATH),
    ("DELETE", CONSENT_PATH + "/{organizationId}"),
}


@pytest.fixture(scope="module")
def contract() -> Operations:
    return logto_operations()


@pytest.fixture(scope="module")
def ours() -> Operations:
    return service_operations(create_app(load_settings(OrganizationsSettings, environ={})))


def _wanted(contract: Operations, group: str) -> Operations:
    if group == "Memberships":
        return {k: op for k, op in contract.items() if k in MEMBERSHIP_OPERATIONS}
    if group == "Consent organizations":
        return {k: op for k, op in contract.items() if k in CONSENT_OPERATIONS and first_tag(op) == "Applications"}
    return {k: op for k, op in contract.items() if first_tag(op) == group}


# How many operations each group has in the contract: a guard against selecting nothing.
EXPECTED_COUNTS = {
    "Organizations": 36,  # with the 12 just-in-time email domain, SSO connector and role operations
    "Organization invitations": 6,
    "Organization roles": 13,
    "Organization scopes": 5,
    "Memberships": 2,
    "Consent organizations": 4,
}


@pytest.mark.parametrize("group", list(EXPECTED_COUNTS))
def test_operations_match_logto(group: str, contract: Operations, ours: Operations) -> None:
    wanted = _wanted(contract, group)
    assert len(wanted) == EXPECTED_COUNTS[group], sorted(wanted)
    problems = differences(ours, wanted)
    assert not problems, f"{group}: {len(problems)} of {len(wanted)} operations differ from Logto's:\n" + "\n".join(
        problems
    )


def test_every_organizations_operation_is_served_sso_connector_jit_included(
    contract: Operations, ours: Operations
) -> None:
    organizations = {k for k, op in contract.items() if first_tag(op) == "Organizations"}
    sso_connector_jit = {k for k in organizations if "/jit/sso-connectors" in k[1]}
    assert len(sso_connector_jit) == 4
    assert organizations <= set(ours)


def test_the_applications_operations_served_here_are_the_membership_and_consent_ones(
    contract: Operations, ours: Operations
) -> None:
    applications = {k for k, op in contract.items() if first_tag(op) == "Applications"}
    served = {k for k, op in ours.items() if first_tag(op) == "Applications"}
    assert served <= applications
    assert served == CONSENT_OPERATIONS | {("GET", "/api/applications/{id}/organizations")}
