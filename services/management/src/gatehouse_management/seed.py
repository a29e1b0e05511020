"""Seeding a tenant: the Management API resource, its `all` scope, the management-access role, Logto's default
sign-in experience and admin console config, plus (bootstrap) a machine-to-machine app holding that role. Running
it again changes nothing."""

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from gatehouse_schema.contexts import MANAGEMENT_API_SCOPE, management_resource_indicator
from gatehouse_schema.events import SYSTEM_ACTOR
from gatehouse_schema.tables.management import (
    applications,
    applications_roles,
    resources,
    roles,
    roles_scopes,
    scopes,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_management.api.admin_console_bodies import default_admin_console
from gatehouse_management.api.application_bodies import CreateApplication
from gatehouse_management.persistence.logto_configs import ADMIN_CONSOLE, LogtoConfigStore
from gatehouse_management.persistence.sign_in_experience import SignInExperienceStore
from gatehouse_management.services.applications import ApplicationService
from gatehouse_management.services.sign_in_experience import default_settings

MANAGEMENT_RESOURCE_ID = "management-api"
MANAGEMENT_SCOPE_ID = "management-api-all"
MANAGEMENT_ROLE_ID = "management-api-access"
MANAGEMENT_ROLE_NAME = "Logto Management API access"


class Bootstrap(msgspec.Struct):
    endpoint: str
    tenant_id: str
    management_resource: str
    client_id: str
    client_secret: str


async def _ensure(conn: AsyncConnection, table: sa.Table, match: dict[str, Any], values: dict[str, Any]) -> str:
    """The id of the row matching `match`, inserting `values` first if there is none."""
    query = sa.select(table.c.id).where(*(table.c[k] == v for k, v in match.items()))
    found = (await conn.execute(query)).scalar_one_or_none()
    if found is not None:
        return str(found)
    await conn.execute(insert(table).values(**values).on_conflict_do_nothing())
    return str((await conn.execute(query)).scalar_one())


async def seed_tenant(engine: AsyncEngine, tenant_id: str) -> str:
    """Ensures the Management API resource, its `all` scope, the access role and the sign-in experience;
    returns the role id.

    Rows that already exist (also ones created or changed through the API) are reused, never duplicated."""
    indicator = management_resource_indicator(tenant_id)
    async with engine.begin() as conn:
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"seed:{tenant_id}"})
        resource_id = await _ensure(
            conn,
            resources,
            {"tenant_id": tenant_id, "indicator": indicator},
            {
                "tenant_id": tenant_id,
                "id": MANAGEMENT_RESOURCE_ID,
                "name": "Logto Management API",
                "indicator": indicator,
                "is_default": False,
                "access_token_ttl": 3600,
            },
        )
        scope_id = await _ensure(
            conn,
            scopes,
            {"tenant_id": tenant_id, "resource_id": resource_id, "name": MANAGEMENT_API_SCOPE},
            {
                "tenant_id": tenant_id,
                "id": MANAGEMENT_SCOPE_ID,
                "resource_id": resource_id,
                "name": MANAGEMENT_API_SCOPE,
                "description": "Default scope for Management API, allows all permissions.",
            },
        )
        role_id = await _ensure(
            conn,
            roles,
            {"tenant_id": tenant_id, "name": MANAGEMENT_ROLE_NAME},
            {
                "tenant_id": tenant_id,
                "id": MANAGEMENT_ROLE_ID,
                "name": MANAGEMENT_ROLE_NAME,
                "description": "This default role grants access to the Logto management API.",
                "type": "MachineToMachine",
                "is_default": False,
            },
        )
        await conn.execute(
            insert(roles_scopes)
            .values(tenant_id=tenant_id, role_id=role_id, scope_id=scope_id)
            .on_conflict_do_nothing()
        )
        await SignInExperienceStore().create_if_missing(conn, tenant_id, msgspec.to_builtins(default_settings()))
        admin_console = msgspec.to_builtins(default_admin_console())
        await LogtoConfigStore().create_if_missing(conn, tenant_id, ADMIN_CONSOLE, admin_console)
    return role_id


async def _app_exists(engine: AsyncEngine, tenant_id: str, app_id: str) -> bool:
    async with engine.connect() as conn:
        found = await conn.execute(
            sa.select(applications.c.id).where(applications.c.tenant_id == tenant_id, applications.c.id == app_id)
        )
        return found.first() is not None


async def bootstrap_app(
    engine: AsyncEngine, service: ApplicationService, tenant_id: str, endpoint: str, path: Path, role_id: str
) -> Bootstrap:
    """The bootstrap M2M app: reuse the one in `path` if it still exists, else create one."""
    raw = await asyncio.to_thread(lambda: path.read_bytes() if path.exists() else None)
    if raw is not None:
        existing = msgspec.json.decode(raw, type=Bootstrap)
        if existing.tenant_id == tenant_id and await _app_exists(engine, tenant_id, existing.client_id):
            return existing
    app = await service.create(
        tenant_id,
        CreateApplication(
            name="Gatehouse bootstrap",
            type="MachineToMachine",
            description="Created by `seed --bootstrap` to call the Management API.",
        ),
        SYSTEM_ACTOR,
    )
    async with engine.begin() as conn:
        await conn.execute(
            insert(applications_roles)
            .values(tenant_id=tenant_id, application_id=app.id, role_id=role_id)
            .on_conflict_do_nothing()
        )
    secrets = await service.list_secrets(tenant_id, app.id)
    result = Bootstrap(
        endpoint=endpoint,
        tenant_id=tenant_id,
        management_resource=management_resource_indicator(tenant_id),
        client_id=app.id,
        client_secret=secrets[0].value,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(msgspec.to_builtins(result), f, indent=2)
        f.write("\n")
    return result
