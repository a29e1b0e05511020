"""The experience service's OpenAPI document against Logto's Experience API contract
(`shared/contract/experience.openapi.json`): the operations it serves are Logto's, and only those."""

import pytest
from gatehouse_experience.app import create_app
from gatehouse_experience.config import ExperienceSettings
from gatehouse_platform.config import load_settings
from gatehouse_testing.contract import Operation, Operations, differences, logto_operations, service_operations

SERVED: set[Operation] = {
    ("GET", "/api/experience/interaction"),
    ("PUT", "/api/experience"),
    ("POST", "/api/experience/verification/password"),
    ("POST", "/api/experience/verification/verification-code"),
    ("POST", "/api/experience/verification/verification-code/verify"),
    ("POST", "/api/experience/identification"),
    ("POST", "/api/experience/submit"),
    ("PUT", "/api/experience/interaction-event"),
    ("POST", "/api/experience/profile"),
    ("PUT", "/api/experience/profile/password"),
    ("POST", "/api/experience/verification/totp/verify"),
    ("POST", "/api/experience/verification/backup-code/verify"),
    ("POST", "/api/experience/verification/social/{connectorId}/authorization-uri"),
    ("POST", "/api/experience/verification/social/{connectorId}/verify"),
    ("POST", "/api/experience/verification/sso/{connectorId}/authorization-uri"),
    ("POST", "/api/experience/verification/sso/{connectorId}/verify"),
    ("GET", "/api/experience/sso-connectors"),
}


@pytest.fixture(scope="module")
def contract() -> Operations:
    return logto_operations("experience")


@pytest.fixture(scope="module")
def ours() -> Operations:
    return service_operations(create_app(load_settings(ExperienceSettings, environ={})))


def test_served_operations_match_logto(contract: Operations, ours: Operations) -> None:
    assert SERVED <= set(contract)
    problems = differences(ours, {operation: contract[operation] for operation in SERVED})
    assert not problems, "\n".join(problems)


def test_nothing_else_is_served(ours: Operations) -> None:
    assert {k for k in ours if k[1].startswith("/api/experience")} == SERVED
