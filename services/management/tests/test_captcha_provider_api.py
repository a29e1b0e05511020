"""Captcha provider: one stored config per tenant (Turnstile or reCAPTCHA Enterprise), Logto's 404 without one."""

from collections.abc import AsyncIterator

import msgspec
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_management.seed import seed_tenant
from gatehouse_management.services.sign_in_experience import default_settings
from gatehouse_platform.db import create_engine
from gatehouse_schema.tables.management import captcha_providers, outbox, sign_in_experiences
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

PATH = "/api/captcha-provider"
TURNSTILE = {"type": "Turnstile", "siteKey": "site", "secretKey": "secret"}
RECAPTCHA = {
    "type": "RecaptchaEnterprise",
    "siteKey": "site2",
    "secretKey": "secret2",
    "projectId": "project",
    "mode": "checkbox",
}


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    await seed_tenant(engine, "default")
    async with engine.begin() as conn:
        await conn.execute(sa.update(sign_in_experiences).values(settings=msgspec.to_builtins(default_settings())))
        await conn.execute(sa.delete(captcha_providers))
    yield engine
    await engine.dispose()


async def _sign_in_experience_events(engine: AsyncEngine) -> int:
    query = sa.select(sa.func.count()).where(outbox.c.subject.like("%.SignInExperience.Updated"))
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def test_get_without_a_provider_is_404_entity_not_found(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    response = await client.get(PATH, headers=auth)
    assert response.status_code == 404 and response.json()["code"] == "entity.not_found"


async def test_put_creates_then_replaces_keeping_the_id(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    created = await client.put(PATH, json={"config": TURNSTILE}, headers=auth)
    assert created.status_code == 200, created.text
    first = created.json()
    assert first["config"] == TURNSTILE and first["tenantId"] == "default" and len(first["id"]) == 21
    assert isinstance(first["createdAt"], int) and first["updatedAt"] >= first["createdAt"]
    replaced = (await client.put(PATH, json={"config": RECAPTCHA}, headers=auth)).json()
    assert replaced["id"] == first["id"] and replaced["config"] == RECAPTCHA
    assert replaced["createdAt"] == first["createdAt"]
    assert (await client.get(PATH, headers=auth)).json() == replaced


async def test_invalid_configs_are_400(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    for body in (
        {},
        {"config": {"type": "Turnstile", "siteKey": "s"}},
        {"config": {**RECAPTCHA, "projectId": None}},
        {"config": {**RECAPTCHA, "mode": "sometimes"}},
        {"config": {"type": "HCaptcha", "siteKey": "s", "secretKey": "k"}},
    ):
        response = await client.put(PATH, json=body, headers=auth)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["code"] == "guard.invalid_input"
    assert (await client.get(PATH, headers=auth)).status_code == 404


async def test_delete_removes_it_and_turns_the_captcha_policy_off(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    await client.put(PATH, json={"config": TURNSTILE}, headers=auth)
    before = await _sign_in_experience_events(engine)
    assert (await client.delete(PATH, headers=auth)).status_code == 204
    assert (await client.get(PATH, headers=auth)).status_code == 404
    settings = (await client.get("/api/sign-in-exp", headers=auth)).json()
    assert settings["captchaPolicy"] == {"enabled": False}
    assert await _sign_in_experience_events(engine) == before + 1


async def test_delete_without_a_provider_is_204_as_logto(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    assert (await client.delete(PATH, headers=auth)).status_code == 204
