"""Merging the services' own OpenAPI documents into Logto's documents (swagger.json and the
`/api/.well-known/*.openapi.json` split). Used by the gateway at run time and by `make openapi`."""

import copy
from collections.abc import Iterable
from typing import Any

EXPERIENCE_PREFIXES = ("/api/experience", "/api/interaction")
ACCOUNT_PREFIXES = ("/api/my-account", "/api/verifications")


def document_of(path: str) -> str:
    """Which of Logto's three documents a path belongs to: management, experience or user."""
    if path.startswith(EXPERIENCE_PREFIXES):
        return "experience"
    if path.startswith(ACCOUNT_PREFIXES):
        return "user"
    return "management"


def merge_documents(docs: Iterable[dict[str, Any]], *, server_url: str, only: str | None = None) -> dict[str, Any]:
    """One OpenAPI 3 document with the `/api` and `/oidc` paths of `docs` (optionally one of Logto's splits)."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    tags: dict[str, dict[str, Any]] = {}
    for doc in docs:
        for path, item in doc.get("paths", {}).items():
            if not path.startswith(("/api", "/oidc")):
                continue
            if only is not None and document_of(path) != only:
                continue
            paths.setdefault(path, {}).update(copy.deepcopy(item))
            for op in item.values():
                if isinstance(op, dict):
                    for tag in op.get("tags", []):
                        tags.setdefault(tag, {"name": tag})
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(name, schema)
    return {
        "openapi": "3.0.1",
        "info": {
            "title": "Gatehouse API references",
            "version": "Cloud",
            "description": "API references for Gatehouse, compatible with Logto's API.",
        },
        "servers": [{"url": server_url}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
        "security": [{"bearerAuth": []}],
        "tags": sorted(tags.values(), key=lambda t: t["name"]),
    }
