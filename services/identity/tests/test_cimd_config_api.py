"""`/api/configs/cimd`: Logto's tenant-level CIMD switch. A missing config reads as disabled; enabling is
422 because Gatehouse does not fetch client ID metadata documents (no SSRF-protected fetcher)."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_schema.tables.identity import oidc_configs
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

PATH = "/api/configs/cimd"
TENANT = "default"


async def stored(db: AsyncEngine) -> Any:
    async with db.connect() as conn:
        return (
            await conn.execute(
                sa.select(oidc_configs.c.value).where(oidc_configs.c.tenant_id == TENANT, oidc_configs.c.key == "cimd")
            )
        ).scalar_one_or_none()


@pytest_asyncio.fixture
async def no_cimd_config(db: AsyncEngine) -> AsyncIterator[None]:
    """Starts and leaves the tenant without a stored CIMD config."""

    async def clear() -> None:
        async with db.begin() as conn:
            await conn.execute(
                sa.delete(oidc_configs).where(oidc_configs.c.tenant_id == TENANT, oidc_configs.c.key == "cimd")
            )

    await clear()
    yield
    await clear()


async def test_a_missing_config_reads_as_disabled(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine, no_cimd_config: None
) -> None:
    response = await client.get(PATH, headers=auth)

    assert response.status_code == 200 and response.json() == {"enabled": False}
    assert await stored(db) is None


@pytest.mark.parametrize("body", [{"enabled": False}, {}])
async def test_disabling_or_an_empty_patch_is_stored(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine, no_cimd_config: None, body: dict[str, Any]
) -> None:
    response = await client.patch(PATH, json=body, headers=auth)

    assert response.status_code == 200 and response.json() == {"enabled": False}
    assert await stored(db) == {"enabled": False}
    assert (await client.get(PATH, headers=auth)).json() == {"enabled": False}


async def test_enabling_is_refused_without_ssrf_protection_and_writes_nothing(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine, no_cimd_config: None
) -> None:
    response = await client.patch(PATH, json={"enabled": True}, headers=auth)

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "request.invalid_input"
    assert "SSRF protection" in body["message"] and "does not fetch client ID metadata documents" in body["message"]
    assert await stored(db) is None
    assert (await client.get(PATH, headers=auth)).json() == {"enabled": False}


async def test_enabling_is_refused_over_a_stored_config_and_keeps_it(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine, no_cimd_config: None
) -> None:
    assert (await client.patch(PATH, json={"enabled": False}, headers=auth)).status_code == 200

    response = await client.patch(PATH, json={"enabled": True}, headers=auth)

    assert response.status_code == 422 and response.json()["code"] == "request.invalid_input"
    assert await stored(db) == {"enabled": False}


@pytest.mark.parametrize("body", [{"enabled": "yes"}, {"enabled": None}, ["enabled"]])
async def test_an_invalid_body_is_a_bad_request(
    client: AsyncClient, auth: dict[str, str], db: AsyncEngine, no_cimd_config: None, body: Any
) -> None:
    response = await client.patch(PATH, json=body, headers=auth)

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "guard.invalid_input" and response.json()["message"]
    assert await stored(db) is None


async def test_the_routes_need_a_management_api_token(
    client: AsyncClient, db: AsyncEngine, no_cimd_config: None
) -> None:
    for response in (await client.get(PATH), await client.patch(PATH, json={"enabled": False})):
        assert response.status_code == 401
        assert response.json()["code"] == "auth.authorization_header_missing"
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await client.patch(PATH, json={"enabled": False}, headers=bad)).status_code == 401
    assert await stored(db) is None
