"""The route table: longest match wins, and it covers Logto's whole documented surface."""

import json
import re
from pathlib import Path

import pytest
from gatehouse_gateway.routes import GATEWAY_ROUTES, ROUTE_TABLE, SERVICES, RouteTable

CONTRACT = Path("/work/shared/contract/swagger-all.json")


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return RouteTable()


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/users/abc/roles", "management"),
        ("/api/users/abc", "identity"),
        ("/api/users", "identity"),
        ("/api/users/abc/organizations", "organizations"),
        ("/api/users/abc/organizations/o1/roles", "organizations"),
        ("/api/applications/x/organizations", "organizations"),
        ("/api/applications/x/users/u/consent-organizations", "organizations"),
        ("/api/applications/x/users/u/consent-scopes", "management"),
        ("/api/applications/x", "management"),
        ("/api/applications", "management"),
        ("/api/applications/x/secrets", "management"),
        ("/oidc/token", "identity"),
        ("/api/authn/hasura", "identity"),
        ("/oidc/.well-known/openid-configuration", "identity"),
        ("/api/logs", "hooks_audit"),
        ("/api/logs/l1", "hooks_audit"),
        ("/api/experience", "experience"),
        ("/api/experience/identification", "experience"),
        ("/api/organizations", "organizations"),
        ("/api/hooks/h1/test", "hooks_audit"),
        ("/api/.well-known/sign-in-exp", "experience"),
        ("/sign-in", "experience"),
        ("/api/nope", None),
        ("/api/users-x", None),
        ("/api", None),
        ("/", None),
        ("/oidcx", None),
        ("/nothing/here", None),
    ],
)
def test_resolve(table: RouteTable, path: str, service: str | None) -> None:
    assert table.resolve(path) == service


def test_trailing_slash_resolves_like_the_path(table: RouteTable) -> None:
    assert table.resolve("/api/users/abc/roles/") == "management"
    assert table.resolve("/api/applications/") == "management"


def test_wildcard_matches_exactly_one_segment(table: RouteTable) -> None:
    # `/api/users/*/roles` must not match `/api/users/roles` (no id segment): that is identity's.
    assert table.resolve("/api/users/roles") == "identity"


def test_every_route_names_a_known_service() -> None:
    assert set(ROUTE_TABLE.values()) <= set(SERVICES)


def test_custom_table_longest_match() -> None:
    custom = RouteTable({"/a": "one", "/a/*/b": "two", "/a/x/b": "three", "/a/*/b/*/c": "four"})
    assert custom.resolve("/a") == "one"
    assert custom.resolve("/a/y") == "one"
    assert custom.resolve("/a/y/b") == "two"
    assert custom.resolve("/a/x/b") == "three"
    assert custom.resolve("/a/y/b/z/c") == "four"
    assert custom.resolve("/a/y/b/z") == "two"
    assert custom.resolve("/b") is None


def _concrete(path: str) -> str:
    """`/api/users/{userId}/roles` -> `/api/users/p-userId/roles` (any value in a parameter's place)."""
    return re.sub(r"\{([^}]+)\}", lambda m: "p-" + m.group(1), path)


def test_contract_surface_is_covered(table: RouteTable) -> None:
    if not CONTRACT.exists():
        pytest.skip(f"{CONTRACT} is missing")
    doc = json.loads(CONTRACT.read_text())
    paths = list(doc["paths"])
    assert len(paths) > 100
    own = set(GATEWAY_ROUTES)
    uncovered = [p for p in paths if p not in own and table.resolve(_concrete(p)) is None]
    assert uncovered == [], f"paths no service serves: {uncovered}"
