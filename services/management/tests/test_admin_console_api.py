"""Admin console config: seeded with the tenant, partially updated field by field, Logto's 404 without one."""

from collections.abc import AsyncIterator

import pytest_asyncio
import sqlalchemy as sa
from gatehouse_management.seed import seed_tenant
from gatehouse_platform.db import create_engine
from gatehouse_schema.tables.management import logto_configs
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

PATH = "/api/configs/admin-console"


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(sa.delete(logto_configs).where(logto_configs.c.tenant_id == "default"))
    await seed_tenant(engine, "default")
    yield engine
    await engine.dispose()


async def test_a_seeded_tenant_starts_with_logto_defaults(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    response = await client.get(PATH, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == {"signInExperienceCustomized": False, "organizationCreated": False}


async def test_patch_replaces_only_the_fields_given(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    notice = {"isPaidTenant": False, "tag": "dev", "readAt": 1700000000000}
    first = await client.patch(
        PATH, json={"organizationCreated": True, "developmentTenantMigrationNotification": notice}, headers=auth
    )
    assert first.status_code == 200, first.text
    assert first.json() == {
        "signInExperienceCustomized": False,
        "organizationCreated": True,
        "developmentTenantMigrationNotification": notice,
    }
    second = await client.patch(PATH, json={"checkedChargeNotification": {"token": True}}, headers=auth)
    assert second.json()["checkedChargeNotification"] == {"token": True}
    assert second.json()["organizationCreated"] is True
    assert (await client.get(PATH, headers=auth)).json() == second.json()


async def test_a_wrongly_typed_field_is_400_and_changes_nothing(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    response = await client.patch(PATH, json={"organizationCreated": "yes"}, headers=auth)
    assert response.status_code == 400
    assert response.json()["code"] == "guard.invalid_input"
    assert (await client.get(PATH, headers=auth)).json()["organizationCreated"] is False


async def test_a_notification_without_its_required_fields_is_400(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    response = await client.patch(PATH, json={"developmentTenantMigrationNotification": {"tag": "x"}}, headers=auth)
    assert response.status_code == 400


async def test_without_the_config_get_and_patch_are_404(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.delete(logto_configs).where(logto_configs.c.tenant_id == "default"))
    assert (await client.get(PATH, headers=auth)).status_code == 404
    response = await client.patch(PATH, json={"organizationCreated": True}, headers=auth)
    assert response.status_code == 404 and response.json()["code"] == "entity.not_found"


async def test_requires_a_management_token(client: AsyncClient, engine: AsyncEngine) -> None:
    assert (await client.get(PATH)).status_code == 401
