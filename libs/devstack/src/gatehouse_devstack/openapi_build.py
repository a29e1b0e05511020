"""`make openapi`: the merged OpenAPI document built from the services' own schemas, without servers."""

import json
from pathlib import Path
from typing import Any

from gatehouse_platform.openapi import merge_documents


def service_documents() -> list[dict[str, Any]]:
    from gatehouse_experience.app import create_app as experience
    from gatehouse_gateway.app import create_app as gateway
    from gatehouse_hooks_audit.app import create_app as hooks_audit
    from gatehouse_identity.app import create_app as identity
    from gatehouse_management.app import create_app as management
    from gatehouse_organizations.app import create_app as organizations

    docs = [f().openapi_schema.to_schema() for f in (identity, management, organizations, hooks_audit, experience)]
    docs.append(gateway().app.openapi_schema.to_schema())
    return docs


def write_openapi(out: Path) -> None:
    doc = merge_documents(service_documents(), server_url="http://127.0.0.1:3001")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {out} ({sum(len(v) for v in doc['paths'].values())} operations)")
