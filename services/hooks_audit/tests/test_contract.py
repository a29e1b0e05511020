"""The hooks_audit service's OpenAPI document against Logto's contract (`shared/contract/management.openapi.json`):
every operation of the Hooks, Dashboard and Audit logs groups is there, under the same operationId and tag, with
its path parameters declared."""

import pytest
from gatehouse_hooks_audit.app import create_app
from gatehouse_hooks_audit.config import HooksAuditSettings
from gatehouse_platform.config import load_settings
from gatehouse_testing.contract import Operations, differences, first_tag, logto_operations, service_operations

EXPECTED_COUNTS = {"Hooks": 8, "Dashboard": 3, "Audit logs": 2}


@pytest.fixture(scope="module")
def contract() -> Operations:
    return logto_operations()


@pytest.fixture(scope="module")
def ours() -> Operations:
    return service_operations(create_app(load_settings(HooksAuditSettings, environ={})))


@pytest.mark.parametrize("group", list(EXPECTED_COUNTS))
def test_operations_match_logto(group: str, contract: Operations, ours: Operations) -> None:
    wanted = {k: op for k, op in contract.items() if first_tag(op) == group}
    assert len(wanted) == EXPECTED_COUNTS[group], sorted(wanted)
    problems = differences(ours, wanted)
    assert not problems, f"{group}: {len(problems)} of {len(wanted)} operations differ from Logto's:\n" + "\n".join(
        problems
    )


def test_the_service_serves_nothing_else(contract: Operations, ours: Operations) -> None:
    assert {first_tag(op) for op in ours.values()} == set(EXPECTED_COUNTS)
