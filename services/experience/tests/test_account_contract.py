"""The experience service's Account API routes against Logto's (`shared/contract/account.openapi.json`): the
operations it serves are Logto's, and only those."""

import pytest
from gatehouse_experience.app import create_app
from gatehouse_experience.config import ExperienceSettings
from gatehouse_platform.config import load_settings
from gatehouse_testing.contract import Operation, Operations, differences, logto_operations, service_operations

SERVED: set[Operation] = {
    ("GET", "/api/my-account"),
    ("PATCH", "/api/my-account"),
    ("PATCH", "/api/my-account/profile"),
    ("POST", "/api/my-account/password"),
    ("POST", "/api/verifications/password"),
    ("POST", "/api/verifications/social"),
    ("POST", "/api/verifications/social/verify"),
    ("GET", "/api/my-account/logto-configs"),
    ("PATCH", "/api/my-account/logto-configs"),
    ("GET", "/api/my-account/identities/{target}/access-token"),
    ("GET", "/api/my-account/sso-identities/{connectorId}/access-token"),
    ("PUT", "/api/my-account/identities/{target}/access-token"),
    ("POST", "/api/my-account/identities"),
    ("PUT", "/api/my-account/identities"),
    ("DELETE", "/api/my-account/identities/{target}"),
    ("GET", "/api/my-account/mfa-verifications"),
    ("POST", "/api/my-account/mfa-verifications"),
    ("DELETE", "/api/my-account/mfa-verifications/{verificationId}"),
    ("POST", "/api/my-account/mfa-verifications/totp-secret/generate"),
    ("POST", "/api/my-account/mfa-verifications/backup-codes/generate"),
    ("GET", "/api/my-account/mfa-verifications/backup-codes"),
}


@pytest.fixture(scope="module")
def contract() -> Operations:
    return logto_operations("account")


@pytest.fixture(scope="module")
def ours() -> Operations:
    return service_operations(create_app(load_settings(ExperienceSettings, environ={})))


def test_served_account_operations_match_logto(contract: Operations, ours: Operations) -> None:
    assert SERVED <= set(contract)
    problems = differences(ours, {operation: contract[operation] for operation in SERVED})
    assert not problems, "\n".join(problems)


def test_no_other_account_operation_is_served(ours: Operations) -> None:
    account = {k for k in ours if k[1].startswith(("/api/my-account", "/api/verifications"))}
    assert account == SERVED
