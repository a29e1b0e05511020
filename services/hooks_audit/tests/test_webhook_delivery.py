"""Data hook events reach the tenant's webhooks: an event recorded in an outbox travels the relay and NATS to
the `hooks_audit-webhooks` consumer, which POSTs Logto's payload to a real local endpoint and records the
execution log that `recent-logs` and `/api/logs` serve."""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import nats
import pytest_asyncio
from gatehouse_platform.db import create_engine
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.api.roles import Role
from gatehouse_schema.api.users import User
from gatehouse_schema.events import (
    Actor,
    EventData,
    OrganizationMembershipUpdated,
    PostSignIn,
    RoleCreated,
    UserCreated,
    event_subject,
    make_event,
)
from gatehouse_schema.events.experience import InteractionApplication, PostResetPassword
from gatehouse_schema.ids import generate_id
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from .hookkit import URL, hmac_hex, new_hook, unique
from .receiver import Receiver

ACTOR = Actor(type="application", id="m2m-admin", ip="10.1.2.3", user_agent="admin-console/1.0")


@pytest_asyncio.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(scope="session")
def outbox(subject_prefix: str) -> Outbox:
    return Outbox("audit", subject_prefix)  # the running service relays this schema's outbox


def user(name: str) -> User:
    return User(
        id=generate_id(),
        username=name,
        primary_email=f"{name}@example.com",
        primary_phone=None,
        name=name,
        avatar=None,
        custom_data={"plan": "pro"},
        identities={},
        last_sign_in_at=None,
        created_at=1_735_732_800_000,
        updated_at=1_735_732_800_000,
        profile={},
        application_id=None,
        is_suspended=False,
        has_password=True,
    )


def role(name: str) -> Role:
    return Role(tenant_id="default", id=generate_id(), name=name, description="d", type="User", is_default=False)


async def record(engine: AsyncEngine, outbox: Outbox, data: EventData) -> str:
    """Records an event as a service does: in a transaction, through the outbox."""
    async with engine.begin() as conn:
        event = await outbox.append(conn, data, tenant_id="default", actor=ACTOR)
    return event.id


async def execution_logs(
    client: AsyncClient, auth: dict[str, str], hook_id: str, count: int = 1, timeout: float = 10.0
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found: list[dict[str, Any]] = (await client.get(f"{URL}/{hook_id}/recent-logs", headers=auth)).json()
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_a_subscribed_hook_receives_the_signed_payload_and_it_is_logged(
    client: AsyncClient, auth: dict[str, str], receiver: Receiver, engine: AsyncEngine, outbox: Outbox
) -> None:
    path = f"/{unique('created')}"
    headers = {"x-api-key": "s3cret-of-the-receiver", "User-Agent": "custom-agent"}
    hook = await new_hook(client, auth, receiver.url(path), config={"url": receiver.url(path), "headers": headers})
    ada = user("ada")
    event_id = await record(engine, outbox, UserCreated(data=ada))
    [request] = await receiver.wait_for(path)
    assert request.headers["logto-signature-sha-256"] == hmac_hex(hook["signingKey"], request.body)
    assert request.headers["x-api-key"] == "s3cret-of-the-receiver"
    assert request.headers["user-agent"] == "custom-agent"  # the hook's header replaces Logto's default
    assert request.headers["content-type"] == "application/json"
    payload = request.json()
    assert payload["event"] == "User.Created" and payload["hookId"] == hook["id"]
    assert payload["data"] == msgspec.to_builtins(ada)
    assert payload["userAgent"] == "admin-console/1.0" and payload["ip"] == "10.1.2.3"
    assert payload["createdAt"].endswith("Z") and len(payload["createdAt"]) == len("2025-01-01T12:00:00.000Z")

    [entry] = await execution_logs(client, auth, hook["id"])
    assert entry["key"] == "TriggerHook.User.Created"
    logged = entry["payload"]
    assert logged["result"] == "Success" and logged["hookId"] == hook["id"]
    assert logged["hookRequest"] == {"body": payload}
    assert logged["response"] == {"statusCode": 200, "body": {"ok": True}}
    assert "error" not in logged
    assert hook["signingKey"] not in msgspec.json.encode(entry).decode()
    in_logs = (await client.get("/api/logs", params={"logKey": "TriggerHook.User.Created"}, headers=auth)).json()
    assert entry["id"] in [e["id"] for e in in_logs]
    assert event_id  # the event itself is in the audit log too, under its own key


async def test_only_enabled_hooks_subscribed_to_the_event_receive_it(
    client: AsyncClient, auth: dict[str, str], receiver: Receiver, engine: AsyncEngine, outbox: Outbox
) -> None:
    listening, legacy, disabled, other = (f"/{unique(p)}" for p in ("listening", "legacy", "disabled", "other"))
    await new_hook(client, auth, receiver.url(listening), events=["Role.Created", "Role.Deleted"])
    legacy_hook = await client.post(
        URL, json={"event": "Role.Created", "config": {"url": receiver.url(legacy)}}, headers=auth
    )
    assert legacy_hook.status_code == 201
    off = await new_hook(client, auth, receiver.url(disabled), events=["Role.Created"], enabled=False)
    elsewhere = await new_hook(client, auth, receiver.url(other), events=["User.Deleted"])
    await record(engine, outbox, RoleCreated(data=role(unique("r"))))
    await receiver.wait_for(listening)
    await receiver.wait_for(legacy)
    await asyncio.sleep(0.2)  # the same event's other deliveries were queued with these
    assert receiver.at(disabled) == [] and receiver.at(other) == []
    assert await execution_logs(client, auth, off["id"], timeout=0) == []
    assert await execution_logs(client, auth, elsewhere["id"], timeout=0) == []


async def test_a_failing_endpoint_is_logged_as_failed(
    client: AsyncClient, auth: dict[str, str], receiver: Receiver, engine: AsyncEngine, outbox: Outbox
) -> None:
    path = f"/{unique('refusing')}"
    receiver.answers[path] = (400, '{"message":"bad payload"}')
    hook = await new_hook(client, auth, receiver.url(path), events=["Role.Created"])
    await record(engine, outbox, RoleCreated(data=role(unique("r"))))
    [entry] = await execution_logs(client, auth, hook["id"])
    logged = entry["payload"]
    assert logged["result"] == "Error" and logged["response"] == {"statusCode": 400, "body": {"message": "bad payload"}}
    assert "400" in logged["error"]
    assert len(receiver.at(path)) == 1  # a 4xx is final


async def test_a_5xx_is_retried_three_times_and_logged_once(
    client: AsyncClient, auth: dict[str, str], receiver: Receiver, engine: AsyncEngine, outbox: Outbox
) -> None:
    path = f"/{unique('failing')}"
    receiver.answers[path] = (503, "down")
    hook = await new_hook(client, auth, receiver.url(path), events=["Role.Created"])
    await record(engine, outbox, RoleCreated(data=role(unique("r"))))
    [entry] = await execution_logs(client, auth, hook["id"])
    assert entry["payload"]["result"] == "Error" and entry["payload"]["response"] == {"statusCode": 503, "body": "down"}
    assert len(receiver.at(path)) == 4  # Logto's ky: the first attempt and 3 retries on 5xx
    await asyncio.sleep(0.2)
    assert len(await execution_logs(client, auth, hook["id"], timeout=0)) == 1


async def test_retries_zero_sends_a_5xx_once(
    client: AsyncClient, auth: dict[str, str], receiver: Receiver, engine: AsyncEngine, outbox: Outbox
) -> None:
    path = f"/{unique('no-retry')}"
    receiver.answers[path] = (500, "oops")
    config = {"url": receiver.url(path), "retries": 0}
    hook = await new_hook(client, auth, receiver.url(path), events=["Role.Created"], config=config)
    await record(engine, outbox, RoleCreated(data=role(unique("r"))))
    [entry] = await execution_logs(client, auth, hook["id"])
    assert entry["payload"]["result"] == "Error" and len(receiver.at(path)) == 1


async def test_an_unreachable_endpoint_is_logged_with_the_error(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, outbox: Outbox
) -> None:
    hook = await new_hook(client, auth, "http://127.0.0.1:9/nobody", events=["Role.Created"])
    await record(engine, outbox, RoleCreated(data=role(unique("r"))))
    [entry] = await execution_logs(client, auth, hook["id"])
    logged = entry["payload"]
    assert logged["result"] == "Error" and "response" not in logged and logged["error"]


async def test_a_redelivered_event_is_not_delivered_twice(
    client: AsyncClient, auth: dict[str, str], receiver: Receiver, nats_url: str, subject_prefix: str
) -> None:
    path = f"/{unique('twice')}"
    hook = await new_hook(client, auth, receiver.url(path), events=["Role.Created"])
    event = make_event(RoleCreated(data=role(unique("r"))), tenant_id="default", actor=ACTOR)
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for i in range(2):  # the same event under two message ids: JetStream keeps both, the inbox must not
            await js.publish(
                event_subject(subject_prefix, "default", "management", event.type),
                msgspec.json.encode(event),
                headers={"Nats-Msg-Id": f"{event.id}-{i}"},
            )
    finally:
        await nc.close()
    await receiver.wait_for(path)
    await execution_logs(client, auth, hook["id"])
    await asyncio.sleep(0.5)
    assert len(receiver.at(path)) == 1
    assert len(await execution_logs(client, auth, hook["id"], timeout=0)) == 1


async def test_membership_payload_names_only_what_changed(
    client: AsyncClient, auth: dict[str, str], receiver: Receiver, engine: AsyncEngine, outbox: Outbox
) -> None:
    path = f"/{unique('members')}"
    await new_hook(client, auth, receiver.url(path), events=["Organization.Membership.Updated"])
    await record(engine, outbox, OrganizationMembershipUpdated(organization_id="org-1", added_user_ids=["u1", "u2"]))
    [request] = await receiver.wait_for(path)
    payload = request.json()
    assert payload["organizationId"] == "org-1" and payload["addedUserIds"] == ["u1", "u2"]
    assert "removedUserIds" not in payload and "addedApplicationIds" not in payload


async def test_post_sign_in_reaches_hooks_with_logtos_interaction_payload(
    client: AsyncClient, auth: dict[str, str], receiver: Receiver, engine: AsyncEngine, outbox: Outbox
) -> None:
    """Experience's PostSignIn (an interaction hook): the user, the application, `interactionEvent`, and the
    request's IP as `userIp`."""
    path = f"/{unique('signin')}"
    await new_hook(client, auth, receiver.url(path), events=["PostSignIn"])
    ada = user("ada")
    app = InteractionApplication(id="app1", name="Web", is_third_party=False)
    signer = Actor(type="user", id=ada.id, ip="203.0.113.9", user_agent="browser/1.0")
    async with engine.begin() as conn:
        await outbox.append(
            conn,
            PostSignIn(interaction_event="SignIn", interaction_id="uid1", user_id=ada.id, user=ada, application=app),
            tenant_id="default",
            actor=signer,
        )
    [request] = await receiver.wait_for(path)
    payload = request.json()
    assert payload["event"] == "PostSignIn" and payload["interactionEvent"] == "SignIn"
    assert payload["userId"] == ada.id and payload["user"] == msgspec.to_builtins(ada)
    assert payload["application"] == {"id": "app1", "name": "Web", "isThirdParty": False}
    assert payload["userIp"] == "203.0.113.9" and "ip" not in payload and payload["userAgent"] == "browser/1.0"


async def test_post_reset_password_reaches_hooks(
    client: AsyncClient, auth: dict[str, str], receiver: Receiver, engine: AsyncEngine, outbox: Outbox
) -> None:
    """Experience's PostResetPassword (a `ForgotPassword` interaction's end) is delivered like PostSignIn."""
    path = f"/{unique('reset')}"
    await new_hook(client, auth, receiver.url(path), events=["PostResetPassword"])
    ada = user("ada")
    async with engine.begin() as conn:
        await outbox.append(
            conn,
            PostResetPassword(
                interaction_event="ForgotPassword", interaction_id="uid2", user_id=ada.id, user=ada, application=None
            ),
            tenant_id="default",
            actor=Actor(type="user", id=ada.id, ip="203.0.113.9"),
        )
    [request] = await receiver.wait_for(path)
    payload = request.json()
    assert payload["event"] == "PostResetPassword" and payload["interactionEvent"] == "ForgotPassword"
    assert payload["userId"] == ada.id and payload["userIp"] == "203.0.113.9"
