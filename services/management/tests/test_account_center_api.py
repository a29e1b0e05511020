"""Account center: Logto's seeded defaults until the first write, and PATCH replacing the given fields."""

from collections.abc import AsyncIterator

import pytest_asyncio
import sqlalchemy as sa
from gatehouse_management.seed import seed_tenant
from gatehouse_platform.db import create_engine
from gatehouse_schema.tables.management import account_centers, custom_profile_fields
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

PATH = "/api/account-center"


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    await seed_tenant(engine, "default")
    async with engine.begin() as conn:
        await conn.execute(sa.delete(account_centers))
        await conn.execute(sa.delete(custom_profile_fields))
    yield engine
    await engine.dispose()


async def test_a_tenant_that_never_wrote_it_reads_logtos_defaults(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    response = await client.get(PATH, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "tenantId": "default",
        "id": "default",
        "enabled": False,
        "fields": {},
        "webauthnRelatedOrigins": [],
        "deleteAccountUrl": None,
        "customCss": None,
        "profileFields": None,
    }


async def test_patch_replaces_given_fields_and_keeps_the_others(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    first = await client.patch(
        PATH,
        json={"enabled": True, "fields": {"name": "Edit", "email": "ReadOnly"}, "customCss": "body{}"},
        headers=auth,
    )
    assert first.status_code == 200, first.text
    assert first.json()["fields"] == {"name": "Edit", "email": "ReadOnly"}
    second = await client.patch(PATH, json={"fields": {"avatar": "Off"}}, headers=auth)
    body = second.json()
    # `fields` is replaced whole (Logto's jsonb replace mode); untouched columns stay
    assert body["fields"] == {"avatar": "Off"} and body["enabled"] is True and body["customCss"] == "body{}"
    assert (await client.get(PATH, headers=auth)).json() == body


async def test_unknown_field_keys_are_dropped(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    response = await client.patch(PATH, json={"fields": {"name": "Edit", "shoeSize": "Edit"}}, headers=auth)
    assert response.status_code == 200 and response.json()["fields"] == {"name": "Edit"}


async def test_related_origins_are_deduplicated_in_order(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    origins = ["https://b.example", "https://a.example", "https://b.example"]
    response = await client.patch(PATH, json={"webauthnRelatedOrigins": origins}, headers=auth)
    assert response.json()["webauthnRelatedOrigins"] == ["https://b.example", "https://a.example"]


async def test_delete_account_url_is_set_and_an_empty_one_clears_it(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    url = "https://example.com/delete-me"
    assert (await client.patch(PATH, json={"deleteAccountUrl": url}, headers=auth)).json()["deleteAccountUrl"] == url
    assert (await client.patch(PATH, json={"deleteAccountUrl": ""}, headers=auth)).json()["deleteAccountUrl"] is None
    await client.patch(PATH, json={"deleteAccountUrl": url}, headers=auth)
    assert (await client.patch(PATH, json={"deleteAccountUrl": None}, headers=auth)).json()["deleteAccountUrl"] is None


async def test_bad_input_is_400_guard_invalid_input(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    for body in (
        {"deleteAccountUrl": "ftp://example.com/x"},
        {"deleteAccountUrl": "not a url"},
        {"deleteAccountUrl": "https://example.com/" + "x" * 2048},
        {"fields": {"name": "Sometimes"}},
        {"enabled": "yes"},
        {"webauthnRelatedOrigins": "https://a.example"},
    ):
        response = await client.patch(PATH, json=body, headers=auth)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["code"] == "guard.invalid_input"
    assert (await client.get(PATH, headers=auth)).json()["deleteAccountUrl"] is None


async def test_profile_fields_must_name_existing_fields_once(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    missing = await client.patch(PATH, json={"profileFields": [{"name": "company"}]}, headers=auth)
    assert missing.status_code == 400
    assert missing.json()["code"] == "custom_profile_fields.entity_not_exists_with_names"
    assert "company" in missing.json()["message"]
    created = await client.post(
        "/api/custom-profile-fields", json={"name": "company", "type": "Text", "required": False}, headers=auth
    )
    assert created.status_code == 201, created.text
    twice = await client.patch(PATH, json={"profileFields": [{"name": "company"}, {"name": "company"}]}, headers=auth)
    assert twice.status_code == 400 and twice.json()["code"] == "request.invalid_input"
    assert twice.json()["data"] == {"duplicateNames": ["company"]}
    ok = await client.patch(PATH, json={"profileFields": [{"name": "company"}]}, headers=auth)
    assert ok.status_code == 200 and ok.json()["profileFields"] == [{"name": "company"}]
    cleared = await client.patch(PATH, json={"profileFields": None}, headers=auth)
    assert cleared.json()["profileFields"] is None


async def test_requires_a_management_token(client: AsyncClient, engine: AsyncEngine) -> None:
    assert (await client.get(PATH)).status_code == 401
    assert (await client.patch(PATH, json={"enabled": True})).status_code == 401
