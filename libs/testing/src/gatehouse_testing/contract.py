"""Checks a service's OpenAPI document against Logto's contract (`shared/contract/management.openapi.json`,
beside the repository): every operation a service claims is there under Logto's method, path,
operationId and tag, declares Logto's path parameters and documents one of Logto's success statuses."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

REPO = Path(__file__).resolve().parents[4]
CONTRACT_DIRS = [REPO.parent / "shared" / "contract", Path("/work/shared/contract")]
METHODS = ("get", "put", "post", "delete", "patch")

Operation = tuple[str, str]  # (METHOD, path as Logto spells it)
Operations = dict[Operation, dict[str, Any]]


def operations(doc: dict[str, Any]) -> Operations:
    return {
        (method.upper(), path): op
        for path, item in (doc.get("paths") or {}).items()
        for method, op in item.items()
        if method in METHODS and isinstance(op, dict)
    }


def logto_operations(document: str = "management") -> Operations:
    """The operations of one of the contract's documents (`management`, `experience`, `account`); the test
    is skipped where the contract is not beside the repository."""
    candidates = [directory / f"{document}.openapi.json" for directory in CONTRACT_DIRS]
    for candidate in candidates:
        if candidate.is_file():
            return operations(json.loads(candidate.read_text()))
    pytest.skip(f"Logto's contract is not here: {', '.join(map(str, candidates))}")


def service_operations(app: Litestar) -> Operations:
    return operations(app.openapi_schema.to_schema())


def first_tag(op: dict[str, Any]) -> str:
    return str((op.get("tags") or ["(untagged)"])[0])


def _path_params(op: dict[str, Any]) -> set[str]:
    return {p["name"] for p in op.get("parameters") or [] if isinstance(p, dict) and p.get("in") == "path"}


def differences(ours: Operations, wanted: Operations) -> list[str]:
    """What differs from Logto for each wanted operation, one line each (empty when all match)."""
    problems = []
    for (method, path), logto in sorted(wanted.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        name = f"{method} {path} ({logto['operationId']})"
        mine = ours.get((method, path))
        if mine is None:
            problems.append(f"missing: {name}")
            continue
        if mine.get("operationId") != logto["operationId"]:
            problems.append(f"operationId: {name} is {mine.get('operationId')!r} here")
        tag = first_tag(logto)
        if tag not in (mine.get("tags") or []):
            problems.append(f"tag: {name} has tags {mine.get('tags')!r} here, Logto's is {tag!r}")
        in_path = set(re.findall(r"\{([^}]+)\}", path))
        if _path_params(mine) != in_path:
            problems.append(f"path parameters: {name} declares {sorted(_path_params(mine))}, wants {sorted(in_path)}")
        # Logto's documents often list a generated 200 beside the real status: one of them must be ours
        success = {code for code in logto.get("responses", {}) if code.startswith("2")}
        if success and not success & set(mine.get("responses") or {}):
            problems.append(f"status: {name} documents {sorted(mine.get('responses') or {})}, Logto {sorted(success)}")
    return problems
