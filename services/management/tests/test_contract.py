"""The management service's OpenAPI document against Logto's contract (`shared/contract/management.openapi.json`).

For each group below, every operation of the contract (method + path, with Logto's path parameter
names) must be in the document, under the same operationId and tag, with its path parameters declared.
A failure lists exactly which operations are missing or differ.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from gatehouse_management.app import create_app
from gatehouse_management.config import ManagementSettings
from gatehouse_platform.config import load_settings

REPO = Path(__file__).resolve().parents[3]
CANDIDATES = [
    REPO.parent / "shared" / "contract" / "management.openapi.json",
    Path("/work/shared/contract/management.openapi.json"),
]
METHODS = ("get", "put", "post", "delete", "patch")

Operation = tuple[str, str]  # (METHOD, path as Logto spells it)

# Applications operations that belong to organizations, not to this service yet.
ORGANIZATION_OPERATIONS: set[Operation] = {
    ("GET", "/api/applications/{id}/organizations"),
    ("GET", "/api/applications/{id}/users/{userId}/consent-organizations"),
    ("PUT", "/api/applications/{id}/users/{userId}/consent-organizations"),
    ("POST", "/api/applications/{id}/users/{userId}/consent-organizations"),
    ("DELETE", "/api/applications/{id}/users/{userId}/consent-organizations/{organizationId}"),
}
USER_ROLES_PREFIX = "/api/users/{userId}/roles"


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
    app = create_app(load_settings(ManagementSettings, environ={}))
    return _operations(app.openapi_schema.to_schema())


def _wanted(contract: dict[Operation, dict[str, Any]], group: str) -> dict[Operation, dict[str, Any]]:
    def first_tag(op: dict[str, Any]) -> str:
        return (op.get("tags") or ["(untagged)"])[0]

    if group == "Users":
        return {k: op for k, op in contract.items() if k[1].startswith(USER_ROLES_PREFIX)}
    if group == "Applications":
        return {k: op for k, op in contract.items() if first_tag(op) == group and k not in ORGANIZATION_OPERATIONS}
    return {k: op for k, op in contract.items() if first_tag(op) == group}


def _path_params(op: dict[str, Any]) -> set[str]:
    return {p["name"] for p in op.get("parameters") or [] if isinstance(p, dict) and p.get("in") == "path"}


def _differences(ours: dict[Operation, dict[str, Any]], wanted: dict[Operation, dict[str, Any]]) -> list[str]:
    problems = []
    for (method, path), logto in sorted(wanted.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        name = f"{method} {path} ({logto['operationId']})"
        mine = ours.get((method, path))
        if mine is None:
            problems.append(f"missing: {name}")
            continue
        if mine.get("operationId") != logto["operationId"]:
            problems.append(f"operationId: {name} is {mine.get('operationId')!r} here")
        tag = (logto.get("tags") or [None])[0]
        if tag not in (mine.get("tags") or []):
            problems.append(f"tag: {name} has tags {mine.get('tags')!r} here, Logto's is {tag!r}")
        in_path = set(re.findall(r"\{([^}]+)\}", path))
        if _path_params(mine) != in_path:
            problems.append(f"path parameters: {name} declares {sorted(_path_params(mine))}, wants {sorted(in_path)}")
    return problems


# How many operations each group has in the contract (Logto 1.42.0): a guard against selecting nothing.
EXPECTED_COUNTS = {"Resources": 10, "Roles": 14, "Users": 4, "Applications": 25}


@pytest.mark.parametrize("group", ["Resources", "Roles", "Users", "Applications"])
def test_operations_match_logto(
    group: str, contract: dict[Operation, dict[str, Any]], ours: dict[Operation, dict[str, Any]]
) -> None:
    wanted = _wanted(contract, group)
    assert len(wanted) == EXPECTED_COUNTS[group], sorted(wanted)
    problems = _differences(ours, wanted)
    assert not problems, f"{group}: {len(problems)} of {len(wanted)} operations differ from Logto's:\n" + "\n".join(
        problems
    )


def test_the_organization_operations_are_the_only_ones_left_out(contract: dict[Operation, dict[str, Any]]) -> None:
    applications = {k for k, op in contract.items() if (op.get("tags") or [None])[0] == "Applications"}
    assert ORGANIZATION_OPERATIONS <= applications
    assert len(applications - ORGANIZATION_OPERATIONS) == EXPECTED_COUNTS["Applications"]
