"""Events on the stream become audit log entries, served by the Audit logs routes."""

import asyncio
import time
from typing import Any

import msgspec
import nats
import pytest
from gatehouse_schema.api.applications import Application, CustomClientMetadata, OidcClientMetadata
from gatehouse_schema.events import Actor, ApplicationCreated, event_subject, make_event
from httpx import AsyncClient


def application(app_id: str) -> Application:
    return Application(
        tenant_id="default",
        id=app_id,
        name="n",
        description=None,
        type="SPA",
        oidc_client_metadata=OidcClientMetadata(redirect_uris=[], post_logout_redirect_uris=[]),
        custom_client_metadata=CustomClientMetadata(),
        protected_app_metadata=None,
        custom_data={},
        is_third_party=False,
        app_level_access_control_enabled=False,
        created_at=0,
    )


async def publish(nats_url: str, prefix: str, app_id: str, *, times: int = 1) -> str:
    event = make_event(
        ApplicationCreated(data=application(app_id)),
        tenant_id="default",
        actor=Actor(type="application", id="m2m-client", ip="10.0.0.1", user_agent="tests"),
    )
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for i in range(times):  # the same event id under different message ids: the inbox must dedupe it
        await js.publish(
            event_subject(prefix, "default", "management", event.type),
            msgspec.json.encode(event),
            headers={"Nats-Msg-Id": f"{event.id}-{i}"},
        )
    await nc.close()
    return event.id


async def logs_for(client: AsyncClient, auth: dict[str, str], app_id: str, timeout: float = 5.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = [
            entry
            for entry in (await client.get("/api/logs?logKey=Application.Created&page_size=100", headers=auth)).json()
            if entry["payload"].get("subject") == app_id
        ]
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_event_becomes_one_log_entry_even_if_delivered_twice(
    client: AsyncClient, auth: dict[str, str], nats_url: str, subject_prefix: str
) -> None:
    event_id = await publish(nats_url, subject_prefix, "app-twice", times=2)
    entries = await logs_for(client, auth, "app-twice")
    await asyncio.sleep(0.3)
    entries = await logs_for(client, auth, "app-twice")
    assert len(entries) == 1
    payload = entries[0]["payload"]
    assert payload["key"] == "Application.Created" and payload["result"] == "Success"
    assert payload["eventId"] == event_id
    assert payload["applicationId"] == "m2m-client" and payload["ip"] == "10.0.0.1" and payload["userAgent"] == "tests"
    assert payload["params"]["data"]["id"] == "app-twice"


async def test_get_log_by_id_and_404(
    client: AsyncClient, auth: dict[str, str], nats_url: str, subject_prefix: str
) -> None:
    await publish(nats_url, subject_prefix, "app-get")
    [entry] = await logs_for(client, auth, "app-get")
    assert (await client.get(f"/api/logs/{entry['id']}", headers=auth)).json() == entry
    missing = await client.get("/api/logs/nope", headers=auth)
    assert missing.status_code == 404 and missing.json()["code"] == "entity.not_exists_with_id"


async def test_list_filters_by_application_and_paginates(
    client: AsyncClient, auth: dict[str, str], nats_url: str, subject_prefix: str
) -> None:
    for i in range(3):
        await publish(nats_url, subject_prefix, f"app-page-{i}")
    for i in range(3):
        assert await logs_for(client, auth, f"app-page-{i}")
    response = await client.get("/api/logs?applicationId=m2m-client&page=1&page_size=2", headers=auth)
    assert response.status_code == 200
    assert int(response.headers["total-number"]) >= 3 and len(response.json()) == 2
    none = await client.get("/api/logs?applicationId=nobody", headers=auth)
    assert none.json() == [] and none.headers["total-number"] == "0"


@pytest.mark.parametrize("query", ["page=0", "page_size=1000", "start_time=yesterday"])
async def test_bad_queries_are_400(client: AsyncClient, auth: dict[str, str], query: str) -> None:
    response = await client.get(f"/api/logs?{query}", headers=auth)
    assert response.status_code == 400
    assert response.json()["code"] in {"guard.invalid_pagination", "guard.invalid_input"}


async def test_logs_need_a_management_token(client: AsyncClient) -> None:
    assert (await client.get("/api/logs")).status_code == 401
