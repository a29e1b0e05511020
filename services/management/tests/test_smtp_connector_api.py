"""The SMTP email connector through the Management API, against a real SMTP server (aiosmtpd, in-process): its
factory, `POST /api/connectors/{factoryId}/test` (Logto's test message) and the one-Email-connector rule."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_connectors.smtp import FACTORY_ID
from gatehouse_management.seed import seed_tenant
from gatehouse_platform.db import create_engine
from gatehouse_schema.tables.management import connectors, outbox
from gatehouse_testing.fake_smtp import FakeSmtp, fake_smtp
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

PATH = "/api/connectors"
TEST = f"{PATH}/{FACTORY_ID}/test"


@pytest_asyncio.fixture(autouse=True)
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    await seed_tenant(engine, "default")
    async with engine.begin() as conn:
        await conn.execute(sa.delete(connectors))
    yield engine
    async with engine.begin() as conn:
        await conn.execute(sa.delete(connectors))
    await engine.dispose()


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with fake_smtp() as server:
        yield server


def error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


async def create_smtp(client: AsyncClient, auth: dict[str, str], config: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(PATH, json={"connectorId": FACTORY_ID, "config": config}, headers=auth)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_the_smtp_factory_is_listed_as_an_email_factory(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.get(f"/api/connector-factories/{FACTORY_ID}", headers=auth)
    assert response.status_code == 200, response.text
    factory = response.json()
    assert (factory["type"], factory["target"], factory["platform"], factory["isStandard"]) == (
        "Email",
        "smtp",
        None,
        False,
    )
    assert factory["name"]["en"] == "SMTP" and factory["isDemo"] is False
    assert [item["key"] for item in factory["formItems"]][:3] == ["host", "port", "auth"]


async def test_an_smtp_connector_is_created_with_a_checked_config(
    client: AsyncClient, auth: dict[str, str], smtp: FakeSmtp
) -> None:
    created = await create_smtp(client, auth, smtp.config())
    assert (created["connectorId"], created["type"], created["target"]) == (FACTORY_ID, "Email", "smtp")
    assert created["config"]["host"] == smtp.host and created["metadata"] == {}
    bad = smtp.config(templates=[])
    response = await client.post(PATH, json={"connectorId": FACTORY_ID, "config": bad}, headers=auth)
    error(response, 400, "connector.invalid_config")
    response = await client.post(
        PATH, json={"connectorId": FACTORY_ID, "metadata": {"target": "mail"}}, headers=auth
    )  # Logto's metadata rules are Social-only
    assert response.status_code == 200, response.text


async def test_a_new_email_connector_replaces_the_previous_one(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, smtp: FakeSmtp
) -> None:
    first = await create_smtp(client, auth, smtp.config())
    second = await create_smtp(client, auth, smtp.config(replyTo="help@gatehouse.test"))
    listed = (await client.get(PATH, headers=auth)).json()
    assert [c["id"] for c in listed] == [second["id"]]
    error(await client.get(f"{PATH}/{first['id']}", headers=auth), 404, "entity.not_found")
    query = sa.select(outbox.c.payload).where(outbox.c.subject.like("%.Connector.Deleted"))
    async with engine.connect() as conn:
        deleted = [msgspec.json.decode(p)["subject"] for p in (await conn.execute(query)).scalars()]
    assert first["id"] in deleted


async def test_the_test_route_sends_logtos_test_message_with_the_given_config(
    client: AsyncClient, auth: dict[str, str], smtp: FakeSmtp
) -> None:
    body = {"email": "ada@example.com", "config": smtp.config(), "locale": "fr"}
    response = await client.post(TEST, json=body, headers=auth)
    assert response.status_code == 204, response.text
    [received] = smtp.messages
    assert received.recipients == ["ada@example.com"]
    assert (received.subject, received.body) == ("Your code", "Your verification code is 000000.")
    assert (await client.get(PATH, headers=auth)).json() == []  # no connector needed, none made


async def test_the_test_route_refusals(client: AsyncClient, auth: dict[str, str], smtp: FakeSmtp) -> None:
    config = smtp.config()
    error(await client.post(TEST, json={"config": config}, headers=auth), 400, "guard.invalid_input")
    error(await client.post(TEST, json={"email": "ada@example.com"}, headers=auth), 400, "guard.invalid_input")
    response = await client.post(TEST, json={"email": "not-an-email", "config": config}, headers=auth)
    error(response, 400, "guard.invalid_input")
    response = await client.post(f"{PATH}/oidc/test", json={"email": "ada@example.com", "config": {}}, headers=auth)
    body = error(response, 400, "connector.not_found")
    assert body["message"] == "Cannot find any available connector for type: Email."
    response = await client.post(f"{PATH}/no-such/test", json={"phone": "123", "config": {}}, headers=auth)
    assert error(response, 400, "connector.not_found")["message"].endswith("type: Sms.")
    response = await client.post(TEST, json={"phone": "15550100", "config": config}, headers=auth)
    error(response, 400, "connector.unexpected_type")
    response = await client.post(TEST, json={"email": "ada@example.com", "config": {"host": "x"}}, headers=auth)
    error(response, 400, "connector.invalid_config")
    assert smtp.messages == []
    assert (await client.post(TEST, json={"email": "a@b.co", "config": config})).status_code == 401


async def test_an_smtp_failure_is_logtos_connector_error(
    client: AsyncClient, auth: dict[str, str], smtp: FakeSmtp
) -> None:
    smtp.refuse("550 5.1.1 Mailbox unavailable")
    response = await client.post(TEST, json={"email": "ada@example.com", "config": smtp.config()}, headers=auth)
    body = error(response, 502, "connector.general")
    assert "550 5.1.1 Mailbox unavailable" in body["message"]
