"""Logto's Hooks routes: create, read, list, update, rotate the signing key, delete, test, recent logs."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from gatehouse_platform.db import create_engine
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from .hookkit import URL, error, hmac_hex, new_hook, unique, write_log
from .receiver import Receiver

HOOK_FIELDS = {"tenantId", "id", "name", "event", "events", "config", "signingKey", "enabled", "createdAt"}


@pytest_asyncio.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    yield engine
    await engine.dispose()


async def test_create_and_get_a_hook(client: AsyncClient, auth: dict[str, str]) -> None:
    body = {
        "name": "Welcome mail",
        "events": ["User.Created", "User.Deleted", "User.Created"],
        "config": {"url": "https://example.com/hook", "headers": {"x-team": "growth"}, "retries": 2},
    }
    response = await client.post(URL, json=body, headers=auth)
    assert response.status_code == 201, response.text
    hook = response.json()
    assert set(hook) == HOOK_FIELDS
    assert hook["tenantId"] == "default" and len(hook["id"]) == 21 and hook["name"] == "Welcome mail"
    assert hook["events"] == ["User.Created", "User.Deleted"]  # deduplicated
    assert hook["event"] is None and hook["enabled"] is True
    assert hook["config"] == {"url": "https://example.com/hook", "headers": {"x-team": "growth"}, "retries": 2}
    assert len(hook["signingKey"]) == 32 and hook["signingKey"].isalnum()
    fetched = await client.get(f"{URL}/{hook['id']}", headers=auth)
    assert fetched.status_code == 200 and fetched.json() == hook


async def test_the_legacy_single_event_is_kept_apart(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post(
        URL, json={"event": "PostSignIn", "config": {"url": "https://a.example"}}, headers=auth
    )
    assert response.status_code == 201, response.text
    hook = response.json()
    assert hook["event"] == "PostSignIn" and hook["events"] == [] and hook["name"] == ""


async def test_a_hook_without_any_event_is_400(client: AsyncClient, auth: dict[str, str]) -> None:
    error(
        await client.post(URL, json={"config": {"url": "https://a.example"}}, headers=auth), 400, "hook.missing_events"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"events": ["User.Created"]},
        {"events": [], "config": {"url": "https://a.example"}},
        {"events": ["User.Exploded"], "config": {"url": "https://a.example"}},
        {"events": ["User.Created"], "config": {}},
        {"events": ["User.Created"], "config": {"url": "https://a.example", "headers": {"x": 1}}},
        {"events": ["User.Created"], "config": {"url": "https://a.example"}, "name": ""},
        {"events": ["User.Created"], "config": {"url": "https://a.example", "retries": -1}},
        {"events": ["User.Created"], "config": {"url": "https://a.example"}, "enabled": "yes"},
        {"events": ["PostSignInAdaptiveMfaTriggered"], "config": {"url": "https://a.example"}},
        [],
    ],
    ids=[
        "no config",
        "empty events",
        "unknown event",
        "no url",
        "header not a string",
        "empty name",
        "negative retries",
        "enabled not a boolean",
        "adaptive MFA event",
        "not an object",
    ],
)
async def test_bad_hook_input_is_400(client: AsyncClient, auth: dict[str, str], body: Any) -> None:
    error(await client.post(URL, json=body, headers=auth), 400, "guard.invalid_input")


async def test_unknown_hooks_are_404(client: AsyncClient, auth: dict[str, str]) -> None:
    for method, path, body in [
        ("GET", f"{URL}/nope", None),
        ("PATCH", f"{URL}/nope", {"name": "x"}),
        ("PATCH", f"{URL}/nope", {}),
        ("PATCH", f"{URL}/nope/signing-key", None),
        ("DELETE", f"{URL}/nope", None),
        ("POST", f"{URL}/nope/test", {"events": ["User.Created"], "config": {"url": "http://127.0.0.1:9"}}),
    ]:
        response = await client.request(method, path, json=body, headers=auth)
        body_ = error(response, 404, "entity.not_exists_with_id")
        assert "nope" in body_["message"], (method, path)


async def test_list_is_unpaged_unless_a_page_is_asked_for(client: AsyncClient, auth: dict[str, str]) -> None:
    made = [await new_hook(client, auth, "https://a.example") for _ in range(3)]
    everything = await client.get(URL, headers=auth)
    assert everything.status_code == 200 and "total-number" not in everything.headers
    ids = [h["id"] for h in everything.json()]
    assert [h["id"] for h in made] == [i for i in ids if i in {h["id"] for h in made}]  # oldest first
    assert all("executionStats" not in h for h in everything.json())
    paged = await client.get(URL, params={"page": 1, "page_size": 2}, headers=auth)
    assert paged.status_code == 200 and len(paged.json()) == 2
    assert int(paged.headers["total-number"]) == len(ids)
    error(await client.get(URL, params={"page": 0}, headers=auth), 400, "guard.invalid_pagination")


async def test_execution_stats_count_the_last_24_hours(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    hook = await new_hook(client, auth, "https://a.example")
    await write_log(engine, hook["id"], "User.Created")
    await write_log(engine, hook["id"], "User.Created", result="Error")
    await write_log(engine, hook["id"], "User.Created", at=datetime.now(UTC) - timedelta(days=2))
    listed = await client.get(URL, params={"includeExecutionStats": "true"}, headers=auth)
    [mine] = [h for h in listed.json() if h["id"] == hook["id"]]
    assert mine["executionStats"] == {"successCount": 1, "requestCount": 2}
    one = await client.get(f"{URL}/{hook['id']}", params={"includeExecutionStats": "true"}, headers=auth)
    assert one.json()["executionStats"] == {"successCount": 1, "requestCount": 2}
    fresh = await new_hook(client, auth, "https://a.example")
    response = await client.get(f"{URL}/{fresh['id']}?includeExecutionStats=1", headers=auth)
    assert response.json()["executionStats"] == {"successCount": 0, "requestCount": 0}
    assert "executionStats" not in (await client.get(f"{URL}/{fresh['id']}", headers=auth)).json()


async def test_update_replaces_the_given_fields(client: AsyncClient, auth: dict[str, str]) -> None:
    hook = await new_hook(client, auth, "https://a.example", config={"url": "https://a.example", "headers": {"a": "1"}})
    body = {
        "name": "renamed",
        "events": ["Role.Created", "Role.Created", "Organization.Deleted"],
        "config": {"url": "https://b.example"},
        "enabled": False,
        "signingKey": "ignored",
    }
    response = await client.patch(f"{URL}/{hook['id']}", json=body, headers=auth)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "renamed" and updated["enabled"] is False
    assert updated["events"] == ["Role.Created", "Organization.Deleted"]
    assert updated["config"] == {"url": "https://b.example"}  # replaced whole: the headers are gone
    assert updated["signingKey"] == hook["signingKey"] and updated["createdAt"] == hook["createdAt"]
    assert (await client.get(f"{URL}/{hook['id']}", headers=auth)).json() == updated
    cleared = await client.patch(f"{URL}/{hook['id']}", json={"event": None}, headers=auth)
    assert cleared.status_code == 200 and cleared.json()["event"] is None
    unchanged = await client.patch(f"{URL}/{hook['id']}", json={}, headers=auth)
    assert unchanged.status_code == 200 and unchanged.json() == updated


@pytest.mark.parametrize(
    "body",
    [
        {"events": []},
        {"name": ""},
        {"config": {"headers": {}}},
        {"event": "Nope"},
        {"events": ["PostSignInAdaptiveMfaTriggered"]},
    ],
    ids=["empty events", "empty name", "config without url", "unknown event", "adaptive MFA event"],
)
async def test_bad_updates_are_400(client: AsyncClient, auth: dict[str, str], body: Any) -> None:
    hook = await new_hook(client, auth, "https://a.example")
    error(await client.patch(f"{URL}/{hook['id']}", json=body, headers=auth), 400, "guard.invalid_input")


async def test_rotating_the_signing_key(client: AsyncClient, auth: dict[str, str]) -> None:
    hook = await new_hook(client, auth, "https://a.example")
    response = await client.patch(f"{URL}/{hook['id']}/signing-key", headers=auth)
    assert response.status_code == 200, response.text
    rotated = response.json()
    assert rotated["signingKey"] != hook["signingKey"] and len(rotated["signingKey"]) == 32
    assert {k: v for k, v in rotated.items() if k != "signingKey"} == {
        k: v for k, v in hook.items() if k != "signingKey"
    }
    assert (await client.get(f"{URL}/{hook['id']}", headers=auth)).json()["signingKey"] == rotated["signingKey"]


async def test_delete(client: AsyncClient, auth: dict[str, str]) -> None:
    hook = await new_hook(client, auth, "https://a.example")
    assert (await client.delete(f"{URL}/{hook['id']}", headers=auth)).status_code == 204
    error(await client.get(f"{URL}/{hook['id']}", headers=auth), 404, "entity.not_exists_with_id")
    error(await client.delete(f"{URL}/{hook['id']}", headers=auth), 404, "entity.not_exists_with_id")


async def test_test_sends_a_signed_sample_per_event(
    client: AsyncClient, auth: dict[str, str], receiver: Receiver
) -> None:
    path = f"/{unique('test-ok')}"
    hook = await new_hook(client, auth, "https://not-this.example")
    body = {
        "events": ["User.Created", "PostSignIn"],
        "config": {"url": receiver.url(path), "headers": {"x-tenant": "blue"}},
    }
    response = await client.post(f"{URL}/{hook['id']}/test", json=body, headers=auth)
    assert response.status_code == 204, response.text
    received = {r.json()["event"]: r for r in receiver.at(path)}
    assert set(received) == {"User.Created", "PostSignIn"}
    for request in received.values():
        assert request.headers["logto-signature-sha-256"] == hmac_hex(hook["signingKey"], request.body)
        assert request.headers["x-tenant"] == "blue" and request.headers["user-agent"] == "Logto (https://logto.io/)"
        assert request.json()["hookId"] == hook["id"]
    data = received["User.Created"].json()
    assert data["data"] == {"result": "success"} and data["path"] == "/fake-path/:id"
    interaction = received["PostSignIn"].json()
    assert interaction["user"]["id"] == "fake-id" and interaction["application"]["type"] == "SPA"


async def test_a_test_the_endpoint_refuses_is_422_with_its_answer(
    client: AsyncClient, auth: dict[str, str], receiver: Receiver
) -> None:
    path = f"/{unique('test-refused')}"
    receiver.answers[path] = (403, "go away")
    hook = await new_hook(client, auth, "https://a.example")
    body = {"events": ["Role.Created"], "config": {"url": receiver.url(path)}}
    response = await client.post(f"{URL}/{hook['id']}/test", json=body, headers=auth)
    answer = error(response, 422, "hook.endpoint_responded_with_error")
    assert answer["data"] == {"responseStatus": 403, "responseBody": "go away"}
    assert len(receiver.at(path)) == 1  # a 4xx is not retried


async def test_a_test_that_cannot_be_sent_is_422(client: AsyncClient, auth: dict[str, str]) -> None:
    hook = await new_hook(client, auth, "https://a.example")
    unreachable = {"events": ["Role.Created"], "config": {"url": "http://127.0.0.1:9/hook"}}
    answer = error(
        await client.post(f"{URL}/{hook['id']}/test", json=unreachable, headers=auth),
        422,
        "hook.send_test_payload_failed",
    )
    assert answer["message"].startswith("Failed to send test payload: ")
    not_http = {"events": ["Role.Created"], "config": {"url": "file:///etc/passwd"}}
    error(await client.post(f"{URL}/{hook['id']}/test", json=not_http, headers=auth), 422, "hook.endpoint_not_allowed")


@pytest.mark.parametrize(
    "body",
    [
        {"config": {"url": "https://a.example"}},
        {"events": [], "config": {"url": "https://a.example"}},
        {"events": ["User.Created"]},
    ],
    ids=["no events", "empty events", "no config"],
)
async def test_bad_test_input_is_400(client: AsyncClient, auth: dict[str, str], body: Any) -> None:
    hook = await new_hook(client, auth, "https://a.example")
    error(await client.post(f"{URL}/{hook['id']}/test", json=body, headers=auth), 400, "guard.invalid_input")


async def test_recent_logs_are_the_hooks_last_24_hours(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    hook = await new_hook(client, auth, "https://a.example")
    other = await new_hook(client, auth, "https://a.example")
    now = datetime.now(UTC)
    recent = [await write_log(engine, hook["id"], "User.Created", at=now - timedelta(minutes=m)) for m in (1, 2, 3)]
    role = await write_log(engine, hook["id"], "Role.Created", at=now - timedelta(minutes=4))
    old = await write_log(engine, hook["id"], "User.Created", at=now - timedelta(days=2))
    await write_log(engine, other["id"], "User.Created")
    url = f"{URL}/{hook['id']}/recent-logs"
    response = await client.get(url, headers=auth)
    assert response.status_code == 200, response.text
    assert [e["id"] for e in response.json()] == [*recent, role]  # newest first, no old one, no other hook's
    assert response.headers["total-number"] == "4"
    assert set(response.json()[0]) == {"id", "key", "payload", "createdAt"}
    page = await client.get(url, params={"page": 2, "page_size": 3}, headers=auth)
    assert [e["id"] for e in page.json()] == [role] and page.headers["total-number"] == "4"
    by_key = await client.get(url, params={"logKey": "TriggerHook.Role.Created"}, headers=auth)
    assert [e["id"] for e in by_key.json()] == [role]
    window = {"start_time": str(int((now - timedelta(days=3)).timestamp() * 1000))}
    assert old in [e["id"] for e in (await client.get(url, params=window, headers=auth)).json()]
    capped = await client.get(url, params={"enableCap": "true"}, headers=auth)
    assert capped.headers["total-number"] == "4" and "total-number-is-capped" not in capped.headers


@pytest.mark.parametrize(
    "query",
    ["start_time=yesterday", "end_time=Infinity", "start_time=2000&end_time=1000", "page=0", "page_size=101"],
)
async def test_bad_recent_log_queries_are_400(client: AsyncClient, auth: dict[str, str], query: str) -> None:
    response = await client.get(f"{URL}/any/recent-logs?{query}", headers=auth)
    assert response.status_code == 400, response.text
    assert response.json()["code"] in {"guard.invalid_input", "guard.invalid_pagination"}


async def test_hooks_need_a_management_token(client: AsyncClient) -> None:
    assert (await client.get(URL)).status_code == 401
    assert (await client.post(URL, json={})).status_code == 401
