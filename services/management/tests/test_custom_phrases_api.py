"""Custom phrases: Logto's upsert, listing, deletion, and the fallback language they protect."""

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_management.seed import seed_tenant
from gatehouse_management.services.sign_in_experience import default_settings
from gatehouse_platform.db import create_engine
from gatehouse_schema.tables.management import custom_phrases, outbox, sign_in_experiences
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    await seed_tenant(engine, "default")
    async with engine.begin() as conn:
        await conn.execute(sa.update(sign_in_experiences).values(settings=msgspec.to_builtins(default_settings())))
        await conn.execute(sa.delete(custom_phrases))
    yield engine
    await engine.dispose()


async def put(client: AsyncClient, auth: dict[str, str], tag: str, body: Any) -> Any:
    return await client.put(f"/api/custom-phrases/{tag}", json=body, headers=auth)


async def test_put_creates_then_replaces_keeping_the_id(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    first = await put(client, auth, "de", {"input": {"username": "Benutzer"}, "action": {"sign_in": ""}})
    assert first.status_code == 201, first.text
    created = first.json()
    # empty strings and the objects they leave empty are dropped, as Logto's clean-deep
    assert created["translation"] == {"input": {"username": "Benutzer"}}
    assert created["tenantId"] == "default" and created["languageTag"] == "de" and len(created["id"]) == 21
    second = await put(client, auth, "de", {"action": {"sign_in": "Anmelden"}})
    assert second.status_code == 201 and second.json()["id"] == created["id"]
    assert second.json()["translation"] == {"action": {"sign_in": "Anmelden"}}
    fetched = await client.get("/api/custom-phrases/de", headers=auth)
    assert fetched.status_code == 200 and fetched.json() == second.json()


async def test_list_is_ordered_by_language_tag(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    for tag in ("zh-CN", "de", "fr"):
        assert (await put(client, auth, tag, {"input": {"username": tag}})).status_code == 201
    listed = (await client.get("/api/custom-phrases", headers=auth)).json()
    assert [p["languageTag"] for p in listed] == ["de", "fr", "zh-CN"]


async def test_unknown_phrases_are_404_entity_not_found(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    for response in (
        await client.get("/api/custom-phrases/ja", headers=auth),
        await client.delete("/api/custom-phrases/ja", headers=auth),
    ):
        assert response.status_code == 404 and response.json()["code"] == "entity.not_found"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_an_unknown_language_tag_is_400(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, method: str
) -> None:
    response = await client.request(method, "/api/custom-phrases/xx-YY", json={"a": "b"}, headers=auth)
    assert response.status_code == 400 and response.json()["code"] == "guard.invalid_input"


@pytest.mark.parametrize("body", [{"input": 3}, {"input": {"username": None}}, ["a"], {"a": ["b"]}])
async def test_a_translation_is_nested_strings(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, body: Any
) -> None:
    response = await put(client, auth, "de", body)
    assert response.status_code == 400 and response.json()["code"] == "guard.invalid_input"


async def test_the_fallback_language_cannot_be_deleted(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    assert (await put(client, auth, "fi", {"input": {"username": "Käyttäjä"}})).status_code == 201
    fallback = {"languageInfo": {"autoDetect": True, "fallbackLanguage": "fi"}}
    assert (await client.patch("/api/sign-in-exp", json=fallback, headers=auth)).status_code == 200
    refused = await client.delete("/api/custom-phrases/fi", headers=auth)
    assert refused.status_code == 409
    assert refused.json()["code"] == "localization.cannot_delete_default_language"
    assert (await client.delete("/api/custom-phrases/en", headers=auth)).status_code == 404
    english = {"languageInfo": {"autoDetect": True, "fallbackLanguage": "en"}}
    assert (await client.patch("/api/sign-in-exp", json=english, headers=auth)).status_code == 200
    # Logto checks the fallback first: `en` is refused even without custom phrases
    assert (await client.delete("/api/custom-phrases/en", headers=auth)).status_code == 409
    assert (await client.delete("/api/custom-phrases/fi", headers=auth)).status_code == 204
    assert (await client.get("/api/custom-phrases/fi", headers=auth)).status_code == 404


async def test_writes_publish_custom_phrase_events(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    await put(client, auth, "it", {"input": {"username": "Utente"}})
    assert (await client.delete("/api/custom-phrases/it", headers=auth)).status_code == 204
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.payload).where(outbox.c.subject.like("%.CustomPhrase.Updated")).order_by(outbox.c.id)
        )
        events = [msgspec.json.decode(p)["data"] for p in rows.scalars()]
    assert events[-2:] == [{"languageTag": "it", "deleted": False}, {"languageTag": "it", "deleted": True}]
