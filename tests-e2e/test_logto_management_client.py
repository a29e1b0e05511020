"""Gatehouse driven by a client no one here wrote: Logto's official Management API client from npm,
`@logto/api` (`createManagementApi` with `baseUrl` and `apiIndicator` pointed at the gateway).

`node/management-flow.mjs` makes an API resource with two scopes, a machine-to-machine role holding
them and a machine-to-machine app with that role, reads the app's secret, gets client_credentials
tokens for the new app, takes the role away and asks again; it prints a JSON summary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Bootstrap

NODE_PROJECT = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_PROJECT / "management-flow.mjs"
MANAGEMENT_API = "https://default.logto.app/api"


@pytest.fixture(scope="session")
def node_project() -> Path:
    """The Node project with its dependencies installed (`npm ci` once, when node_modules is missing)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("`node` and `npm` are needed on PATH to run Logto's @logto/api client")
    if not (NODE_PROJECT / "node_modules" / "@logto" / "api").is_dir():
        lock = (NODE_PROJECT / "package-lock.json").is_file()
        command = ["npm", "ci" if lock else "install", "--no-audit", "--no-fund"]
        done = subprocess.run(command, cwd=NODE_PROJECT, capture_output=True, text=True, timeout=180, check=False)
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return NODE_PROJECT


@pytest.fixture(scope="module")
def flow(node_project: Path, gateway_url: str, bootstrap: Bootstrap) -> dict[str, Any]:
    assert bootstrap.management_resource == MANAGEMENT_API
    env = {
        **os.environ,
        "GATEHOUSE_URL": gateway_url,
        "GATEHOUSE_CLIENT_ID": bootstrap.client_id,
        "GATEHOUSE_CLIENT_SECRET": bootstrap.client_secret,
        "GATEHOUSE_API_INDICATOR": bootstrap.management_resource,
        "NODE_NO_WARNINGS": "1",
    }
    done = subprocess.run(
        ["node", str(SCRIPT)], cwd=node_project, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    try:
        summary: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"the flow printed no JSON (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    summary["exit_code"] = done.returncode
    summary["stderr"] = done.stderr
    return summary


def test_flow_has_no_mismatch(flow: dict[str, Any]) -> None:
    assert flow["mismatches"] == [], json.dumps(flow, indent=2)
    assert flow["ok"] is True
    assert flow["exit_code"] == 0, flow["stderr"]


def test_the_client_authenticated_with_the_all_scope(flow: dict[str, Any], gateway_url: str) -> None:
    assert flow["client"]["baseUrl"] == gateway_url
    assert flow["client"]["apiIndicator"] == MANAGEMENT_API
    assert flow["client"]["managementTokenScope"] == "all"
    assert flow["clientWarnings"] == []


def test_every_call_answered_as_logto_does(flow: dict[str, Any]) -> None:
    calls = [(c["method"], c["path"], c.get("status")) for c in flow["calls"]]
    assert calls == [
        ("POST", "/api/resources", 201),
        ("POST", "/api/resources/{resourceId}/scopes", 201),
        ("POST", "/api/resources/{resourceId}/scopes", 201),
        ("POST", "/api/roles", 200),
        ("GET", "/api/roles/{id}/scopes", 200),
        ("POST", "/api/applications", 200),
        ("POST", "/api/roles/{id}/applications", 201),
        ("GET", "/api/applications/{applicationId}/roles", 200),
        ("GET", "/api/applications/{id}/secrets", 200),
        ("DELETE", "/api/applications/{applicationId}/roles/{roleId}", 204),
        ("GET", "/api/applications/{applicationId}/roles", 200),
        ("DELETE", "/api/applications/{id}", 204),
        ("DELETE", "/api/roles/{id}", 204),
        ("DELETE", "/api/resources/{id}", 204),
    ], json.dumps(flow["calls"], indent=2)
    assert flow["secrets"] and all(s["hasValue"] for s in flow["secrets"])


def test_token_carries_exactly_the_role_scopes(flow: dict[str, Any]) -> None:
    wanted = sorted(flow["scopeNames"])
    for key in ("tokenWithRole", "tokenWithRoleNoScope"):
        token = flow[key]
        assert token["status"] == 200, token
        assert sorted(token["payload"]["scope"].split()) == wanted
        assert sorted(token["scope"].split()) == wanted
        assert token["payload"]["sub"] == flow["created"]["applicationId"]


def test_without_the_role_the_scopes_are_refused(flow: dict[str, Any]) -> None:
    denied = flow["tokenWithoutRole"]
    assert denied["status"] == 400, denied
    assert denied["body"]["error"] == "invalid_scope"
    empty = flow["tokenWithoutRoleNoScope"]
    assert empty["status"] == 200, empty
    assert not empty["payload"]["scope"]
    assert not empty["scope"]
