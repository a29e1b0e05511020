"""Fixtures of the organization and membership tests: rows other contexts own (applications, users with a
primary email, enterprise SSO connectors), rows the organization template routes would write (roles, scopes),
and readers of the outbox."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_platform.db import create_engine
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables.identity import users
from gatehouse_schema.tables.management import applications, sso_connectors
from gatehouse_schema.tables.organizations import (
    organization_role_scope_relations,
    organization_roles,
    organization_scopes,
    outbox,
)
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

TENANT = "default"


@pytest_asyncio.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(scope="session")
def make_app(engine: AsyncEngine) -> Callable[..., Awaitable[str]]:
    """Writes a management-owned application row (as management would)."""

    async def make(
        name: str = "app", type: str = "MachineToMachine", description: str | None = None, third_party: bool = False
    ) -> str:
        app_id = generate_id()
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(applications).values(
                    tenant_id=TENANT,
                    id=app_id,
                    name=f"{name}-{app_id}",
                    secret="s",
                    description=description,
                    type=type,
                    oidc_client_metadata={"redirectUris": [], "postLogoutRedirectUris": []},
                    custom_client_metadata={},
                    custom_data={},
                    is_third_party=third_party,
                    app_level_access_control_enabled=False,
                    created_at=sa.func.now(),
                )
            )
        return app_id

    return make


@pytest_asyncio.fixture(scope="session")
def make_sso_connector(engine: AsyncEngine) -> Callable[..., Awaitable[str]]:
    """Writes a management-owned enterprise SSO connector row (as management would)."""

    async def make(name: str | None = None) -> str:
        connector_id = generate_id(12)
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(sso_connectors).values(
                    tenant_id=TENANT,
                    id=connector_id,
                    provider_name="OIDC",
                    connector_name=name or f"sso-{connector_id}",
                    config={"clientId": "client", "clientSecret": "secret", "issuer": "https://idp.example.com"},
                    domains=["corp.example.com"],
                    branding={"logo": "https://cdn.example.com/corp.svg"},
                    sync_profile=False,
                    enable_token_storage=False,
                    created_at=sa.func.now(),
                )
            )
        return connector_id

    return make


@pytest_asyncio.fixture(scope="session")
def make_role(engine: AsyncEngine) -> Callable[..., Awaitable[str]]:
    """Writes an organization role of the template (its routes are another module's), with these scope ids."""

    async def make(type: str = "User", name: str | None = None, scope_ids: tuple[str, ...] = ()) -> str:
        role_id = generate_id()
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(organization_roles).values(
                    tenant_id=TENANT, id=role_id, name=name or f"role-{role_id}", description="d", type=type
                )
            )
            for scope_id in scope_ids:
                await conn.execute(
                    sa.insert(organization_role_scope_relations).values(
                        tenant_id=TENANT, organization_role_id=role_id, organization_scope_id=scope_id
                    )
                )
        return role_id

    return make


@pytest_asyncio.fixture(scope="session")
def make_user_with_email(engine: AsyncEngine) -> Callable[[str | None], Awaitable[str]]:
    """Writes an identity-owned user row with this primary email (None: without one), as identity would."""

    async def make(email: str | None) -> str:
        user_id = generate_id()
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(users).values(
                    tenant_id=TENANT,
                    id=user_id,
                    username=f"user_{user_id}",
                    primary_email=email,
                    name="invitee",
                    profile={},
                    identities={},
                    custom_data={},
                    logto_config={},
                    mfa_verifications=[],
                    is_suspended=False,
                    created_at=sa.func.now(),
                    updated_at=sa.func.now(),
                )
            )
        return user_id

    return make


@pytest_asyncio.fixture(scope="session")
def make_scope(engine: AsyncEngine) -> Callable[..., Awaitable[str]]:
    async def make(name: str | None = None) -> str:
        scope_id = generate_id()
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(organization_scopes).values(
                    tenant_id=TENANT, id=scope_id, name=name or f"scope-{scope_id}", description=None
                )
            )
        return scope_id

    return make


@pytest_asyncio.fixture(scope="session")
def events_of(engine: AsyncEngine) -> Callable[[str, str], Awaitable[list[dict[str, Any]]]]:
    """The payloads (`data`) of the outbox's events of this type about this entity, oldest first."""

    async def events(event_type: str, entity_id: str) -> list[dict[str, Any]]:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.select(outbox.c.payload).order_by(outbox.c.id))
            found = []
            for (payload,) in rows:
                event = msgspec.json.decode(payload)
                if event["type"] == event_type and event.get("subject") == entity_id:
                    found.append(event["data"])
            return found

    return events


async def new_organization(client: AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/api/organizations", json={"name": "org", **body}, headers=auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
