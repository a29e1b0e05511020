"""Organization invitations: creation, the invitation email (through the tenant's SMTP connector, against a
real SMTP server: aiosmtpd in-process; Logto's 501 without an Email connector), listing, status changes
(accepting makes the invitee a member with the invitation's roles) and deletion, with Logto's status codes and
error codes."""

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio
import sqlalchemy as sa
from gatehouse_connectors.smtp import FACTORY_ID as SMTP
from gatehouse_schema.tables.management import connectors
from gatehouse_schema.tables.organizations import organization_invitations
from gatehouse_testing.fake_smtp import FakeSmtp, fake_smtp
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from .membership_fixtures import engine, events_of, make_role, make_user_with_email, new_organization

__all__ = ["engine", "events_of", "make_role", "make_user_with_email"]  # fixtures used by name

URL = "/api/organization-invitations"
Events = Callable[[str, str], Awaitable[list[dict[str, Any]]]]
MakeUser = Callable[[str | None], Awaitable[str]]


def error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


def email() -> str:
    return f"{uuid.uuid4().hex[:10]}@example.com"


def later(seconds: int = 3600) -> int:
    return int((time.time() + seconds) * 1000)


async def invite(client: AsyncClient, auth: dict[str, str], org_id: str, invitee: str, **body: Any) -> Response:
    payload = {"organizationId": org_id, "invitee": invitee, "expiresAt": later(), "messagePayload": False, **body}
    return await client.post(URL, json=payload, headers=auth)


async def invited(client: AsyncClient, auth: dict[str, str], org_id: str, invitee: str, **body: Any) -> dict[str, Any]:
    response = await invite(client, auth, org_id, invitee, **body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def expire(engine: AsyncEngine, invitation_id: str) -> None:
    """Moves the invitation's expiry into the past (instead of waiting for it)."""
    t = organization_invitations
    async with engine.begin() as conn:
        past = sa.func.now() - sa.text("interval '1 second'")
        await conn.execute(sa.update(t).where(t.c.id == invitation_id).values(expires_at=past))


async def stored_status(engine: AsyncEngine, invitation_id: str) -> str | None:
    t = organization_invitations
    async with engine.connect() as conn:
        found: str | None = (await conn.execute(sa.select(t.c.status).where(t.c.id == invitation_id))).scalar()
        return found


async def listed(client: AsyncClient, auth: dict[str, str], **query: str) -> list[dict[str, Any]]:
    response = await client.get(URL, params=query, headers=auth)
    assert response.status_code == 200, response.text
    assert "Total-Number" not in response.headers  # Logto does not paginate invitations
    found: list[dict[str, Any]] = response.json()
    return found


async def set_status(client: AsyncClient, auth: dict[str, str], invitation_id: str, **body: Any) -> Response:
    return await client.put(f"{URL}/{invitation_id}/status", json=body, headers=auth)


@pytest_asyncio.fixture
async def smtp(engine: AsyncEngine) -> AsyncIterator[FakeSmtp]:
    """A running SMTP server and the tenant's SMTP connector sending through it (a management row, as
    `POST /api/connectors` writes it)."""
    with fake_smtp() as server:
        await set_email_connector(engine, server.config())
        try:
            yield server
        finally:
            async with engine.begin() as conn:
                await conn.execute(sa.delete(connectors).where(connectors.c.tenant_id == "default"))


async def set_email_connector(engine: AsyncEngine, config: dict[str, Any]) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.delete(connectors).where(connectors.c.tenant_id == "default"))
        await conn.execute(
            sa.insert(connectors).values(
                tenant_id="default",
                id=f"smtp-{uuid.uuid4().hex[:8]}",
                connector_id=SMTP,
                config=config,
                metadata={},
                sync_profile=False,
                enable_token_storage=False,
                created_at=sa.func.now(),
            )
        )


# creation


async def test_created_invitation_is_pending_with_its_roles_by_name(
    client: AsyncClient, auth: dict[str, str], make_role: Callable[..., Any], make_user_with_email: MakeUser
) -> None:
    org = await new_organization(client, auth)
    inviter = await make_user_with_email(email())
    second, first = await make_role(name=f"b-{uuid.uuid4().hex}"), await make_role(name=f"a-{uuid.uuid4().hex}")
    expires_at = later()
    before = int(time.time() * 1000)
    created = await invited(
        client, auth, org["id"], "Ada@Example.com", inviterId=inviter, expiresAt=expires_at,
        organizationRoleIds=[second, first, second],
    )  # fmt: skip
    assert created["status"] == "Pending"
    assert created["tenantId"] == "default" and len(created["id"]) == 21
    assert (created["inviterId"], created["invitee"]) == (inviter, "Ada@Example.com")
    assert (created["organizationId"], created["acceptedUserId"]) == (org["id"], None)
    assert created["expiresAt"] == expires_at
    assert before - 1000 <= created["createdAt"] <= created["updatedAt"] <= int(time.time() * 1000) + 1000
    assert [r["id"] for r in created["organizationRoles"]] == [first, second]
    assert set(created["organizationRoles"][0]) == {"id", "name"}
    response = await client.get(f"{URL}/{created['id']}", headers=auth)
    assert response.status_code == 200 and response.json() == created
    assert await listed(client, auth, organizationId=org["id"]) == [created]


async def test_message_payload_defaults_to_false(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await new_organization(client, auth)
    body = {"organizationId": org["id"], "invitee": email(), "expiresAt": later()}
    response = await client.post(URL, json=body, headers=auth)
    assert response.status_code == 201, response.text


async def test_sending_the_invitation_needs_an_email_connector_and_writes_nothing(
    client: AsyncClient, auth: dict[str, str], make_role: Callable[..., Any]
) -> None:
    org = await new_organization(client, auth)
    role = await make_role()
    response = await invite(
        client, auth, org["id"], email(), organizationRoleIds=[role], messagePayload={"link": "https://x.test/i"}
    )
    error(response, 501, "connector.not_found")
    assert response.json()["message"] == "Cannot find any available connector for type: Email."
    assert await listed(client, auth, organizationId=org["id"]) == []


async def test_the_invitation_email_goes_through_the_email_connector(
    client: AsyncClient, auth: dict[str, str], smtp: FakeSmtp, make_user_with_email: MakeUser
) -> None:
    org = await new_organization(client, auth, name="Acme")
    inviter = await make_user_with_email(email())
    invitee = email()
    link = "https://app.test/invitation?id=abc"
    created = await invited(client, auth, org["id"], invitee, inviterId=inviter, messagePayload={"link": link})
    assert created["status"] == "Pending"
    [received] = smtp.messages
    assert received.recipients == [invitee] and received.subject == "Join Acme"
    assert received.content_type == "text/html"
    assert received.body == f'<p>invitee invites you: <a href="{link}">{link}</a></p>'  # the inviter's name


async def test_a_failed_send_is_the_connectors_error_and_writes_nothing(
    client: AsyncClient, auth: dict[str, str], smtp: FakeSmtp, make_role: Callable[..., Any], engine: AsyncEngine
) -> None:
    org = await new_organization(client, auth)
    role = await make_role()
    smtp.refuse("550 5.7.1 Relaying denied")
    body = {"organizationRoleIds": [role], "messagePayload": {"link": "https://app.test/i"}}
    response = await invite(client, auth, org["id"], email(), **body)
    error(response, 502, "connector.general")
    assert "550 5.7.1 Relaying denied" in response.json()["message"]
    assert await listed(client, auth, organizationId=org["id"]) == [] and smtp.messages == []
    await set_email_connector(engine, {"host": "127.0.0.1"})  # a stored config the factory refuses
    error(await invite(client, auth, org["id"], email(), **body), 400, "connector.invalid_config")
    assert await listed(client, auth, organizationId=org["id"]) == []


async def test_resending_the_message_sends_the_invitation_email(
    client: AsyncClient, auth: dict[str, str], smtp: FakeSmtp
) -> None:
    org = await new_organization(client, auth, name="Acme")
    invitee = email()
    invitation = await invited(client, auth, org["id"], invitee)
    assert smtp.messages == []  # `messagePayload: false`
    response = await client.post(f"{URL}/{invitation['id']}/message", json={"link": "https://x.test/j"}, headers=auth)
    assert response.status_code == 204, response.text
    [received] = smtp.messages
    assert received.recipients == [invitee] and received.subject == "Join Acme"
    assert received.body == '<p>{{inviter.name}} invites you: <a href="https://x.test/j">https://x.test/j</a></p>'
    smtp.refuse()
    response = await client.post(f"{URL}/{invitation['id']}/message", json={}, headers=auth)
    error(response, 502, "connector.general")


async def test_the_connector_error_comes_after_the_other_checks(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await invite(client, auth, "no-such-org", email(), messagePayload={"link": "https://x.test/i"})
    error(response, 422, "entity.relation_foreign_key_not_found")


async def test_message_payload_true_is_a_bad_request(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await new_organization(client, auth)
    error(await invite(client, auth, org["id"], email(), messagePayload=True), 400, "guard.invalid_input")
    assert await listed(client, auth, organizationId=org["id"]) == []


async def test_expiry_must_be_in_the_future(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await new_organization(client, auth)
    error(await invite(client, auth, org["id"], email(), expiresAt=later(-60)), 400, "request.invalid_input")
    error(await invite(client, auth, org["id"], email(), expiresAt=10**20), 400, "request.invalid_input")
    error(await invite(client, auth, org["id"], email(), expiresAt="soon"), 400, "guard.invalid_input")


async def test_invitee_must_be_an_email(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await new_organization(client, auth)
    for invitee in ("invalid", "a@b", "a..b@example.com", "x" * 250 + "@example.com"):
        error(await invite(client, auth, org["id"], invitee), 400, "guard.invalid_input")
    response = await client.post(URL, json={"organizationId": org["id"], "expiresAt": later()}, headers=auth)
    error(response, 400, "guard.invalid_input")


async def test_unknown_organization_inviter_or_role_is_422(
    client: AsyncClient, auth: dict[str, str], make_role: Callable[..., Any]
) -> None:
    org = await new_organization(client, auth)
    code = "entity.relation_foreign_key_not_found"
    error(await invite(client, auth, "no-such-org", email()), 422, code)
    error(await invite(client, auth, org["id"], email(), inviterId="no-such-user"), 422, code)
    role = await make_role()
    error(await invite(client, auth, org["id"], email(), organizationRoleIds=[role, "no-such-role"]), 422, code)
    assert await listed(client, auth, organizationId=org["id"]) == []


async def test_one_pending_invitation_per_invitee_and_organization(client: AsyncClient, auth: dict[str, str]) -> None:
    org, other = await new_organization(client, auth), await new_organization(client, auth)
    invitee = email()
    await invited(client, auth, org["id"], invitee)
    error(await invite(client, auth, org["id"], invitee), 422, "entity.unique_integrity_violation")
    await invited(client, auth, other["id"], invitee)  # another organization may invite the same email


async def test_an_expired_invitation_does_not_block_a_new_one(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    org = await new_organization(client, auth)
    invitee = email()
    old = await invited(client, auth, org["id"], invitee)
    await expire(engine, old["id"])
    new = await invited(client, auth, org["id"], invitee.upper())
    assert new["status"] == "Pending"
    assert await stored_status(engine, old["id"]) == "Expired"  # written down so the new one could be inserted


async def test_a_member_with_the_invitees_email_cannot_be_invited(
    client: AsyncClient, auth: dict[str, str], make_user_with_email: MakeUser
) -> None:
    org = await new_organization(client, auth)
    invitee = email()
    member = await make_user_with_email(invitee)
    response = await client.post(f"/api/organizations/{org['id']}/users", json={"userIds": [member]}, headers=auth)
    assert response.status_code == 201
    error(await invite(client, auth, org["id"], invitee), 422, "request.invalid_input")
    await invited(client, auth, (await new_organization(client, auth))["id"], invitee)  # not a member there


# listing and reading


async def test_list_filters_by_organization_inviter_and_invitee_newest_first(
    client: AsyncClient, auth: dict[str, str], make_user_with_email: MakeUser
) -> None:
    org1, org2 = await new_organization(client, auth), await new_organization(client, auth)
    inviter1, inviter2 = await make_user_with_email(None), await make_user_with_email(None)
    shared = email()
    a = await invited(client, auth, org1["id"], shared, inviterId=inviter1)
    b = await invited(client, auth, org2["id"], shared.upper(), inviterId=inviter1)
    c = await invited(client, auth, org1["id"], email(), inviterId=inviter2)
    assert [i["id"] for i in await listed(client, auth, organizationId=org1["id"])] == [c["id"], a["id"]]
    assert [i["id"] for i in await listed(client, auth, inviterId=inviter1)] == [b["id"], a["id"]]
    assert [i["id"] for i in await listed(client, auth, invitee=shared.title())] == [b["id"], a["id"]]
    both = await listed(client, auth, organizationId=org2["id"], inviterId=inviter1)
    assert [i["id"] for i in both] == [b["id"]]
    everything = {i["id"] for i in await listed(client, auth)}
    assert {a["id"], b["id"], c["id"]} <= everything
    assert {i["id"] for i in await listed(client, auth, organizationId="", invitee="")} == everything


async def test_a_pending_invitation_past_its_expiry_reads_as_expired(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    org = await new_organization(client, auth)
    invitation = await invited(client, auth, org["id"], email())
    await expire(engine, invitation["id"])
    assert (await client.get(f"{URL}/{invitation['id']}", headers=auth)).json()["status"] == "Expired"
    assert [i["status"] for i in await listed(client, auth, organizationId=org["id"])] == ["Expired"]
    assert await stored_status(engine, invitation["id"]) == "Pending"


async def test_unknown_invitation_is_404(client: AsyncClient, auth: dict[str, str]) -> None:
    error(await client.get(f"{URL}/no-such-invitation", headers=auth), 404, "entity.not_found")


async def test_invitations_need_the_management_api_token(client: AsyncClient) -> None:
    assert (await client.get(URL)).status_code == 401


# deletion and messages


async def test_deleted_invitation_is_gone(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await new_organization(client, auth)
    invitation = await invited(client, auth, org["id"], email())
    assert (await client.delete(f"{URL}/{invitation['id']}", headers=auth)).status_code == 204
    error(await client.get(f"{URL}/{invitation['id']}", headers=auth), 404, "entity.not_found")
    error(await client.delete(f"{URL}/{invitation['id']}", headers=auth), 404, "entity.not_found")


async def test_deleting_the_organization_deletes_its_invitations(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await new_organization(client, auth)
    invitation = await invited(client, auth, org["id"], email())
    assert (await client.delete(f"/api/organizations/{org['id']}", headers=auth)).status_code == 204
    error(await client.get(f"{URL}/{invitation['id']}", headers=auth), 404, "entity.not_found")


async def test_deleting_a_role_takes_it_off_invitations(
    client: AsyncClient, auth: dict[str, str], make_role: Callable[..., Any]
) -> None:
    org = await new_organization(client, auth)
    kept, dropped = await make_role(), await make_role()
    invitation = await invited(client, auth, org["id"], email(), organizationRoleIds=[kept, dropped])
    assert (await client.delete(f"/api/organization-roles/{dropped}", headers=auth)).status_code == 204
    roles = (await client.get(f"{URL}/{invitation['id']}", headers=auth)).json()["organizationRoles"]
    assert [r["id"] for r in roles] == [kept]


async def test_resending_the_message_needs_an_email_connector(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await new_organization(client, auth)
    invitation = await invited(client, auth, org["id"], email())
    response = await client.post(f"{URL}/{invitation['id']}/message", json={"link": "https://x.test"}, headers=auth)
    error(response, 501, "connector.not_found")
    response = await client.post(f"{URL}/no-such-invitation/message", json={}, headers=auth)
    error(response, 404, "entity.not_found")
    response = await client.post(f"{URL}/{invitation['id']}/message", json={"link": 1}, headers=auth)
    error(response, 400, "guard.invalid_input")


# status


async def test_accepting_makes_the_invitee_a_member_with_the_invitations_roles(
    client: AsyncClient,
    auth: dict[str, str],
    make_role: Callable[..., Any],
    make_user_with_email: MakeUser,
    events_of: Events,
) -> None:
    org = await new_organization(client, auth)
    role = await make_role()
    invitee = email()
    invitation = await invited(client, auth, org["id"], invitee, organizationRoleIds=[role])
    user = await make_user_with_email(invitee.upper())  # emails compare case-insensitively
    response = await set_status(client, auth, invitation["id"], status="Accepted", acceptedUserId=user)
    assert response.status_code == 200, response.text
    accepted = response.json()
    assert (accepted["status"], accepted["acceptedUserId"]) == ("Accepted", user)
    assert accepted["organizationRoles"] == invitation["organizationRoles"]
    assert accepted["updatedAt"] >= invitation["updatedAt"]
    assert (await client.get(f"{URL}/{invitation['id']}", headers=auth)).json() == accepted
    response = await client.get(f"/api/organizations/{org['id']}/users/{user}/roles", headers=auth)
    assert response.status_code == 200 and [r["id"] for r in response.json()] == [role]
    additions = [e["addedUserIds"] for e in await events_of("Organization.Membership.Updated", org["id"])]
    assert [a for a in additions if a] == [[user]]


async def test_accepting_as_an_existing_member_adds_the_roles_without_a_membership_event(
    client: AsyncClient,
    auth: dict[str, str],
    make_role: Callable[..., Any],
    make_user_with_email: MakeUser,
    events_of: Events,
) -> None:
    org = await new_organization(client, auth)
    role = await make_role()
    invitee = email()
    invitation = await invited(client, auth, org["id"], invitee, organizationRoleIds=[role])
    user = await make_user_with_email(invitee)
    response = await client.post(f"/api/organizations/{org['id']}/users", json={"userIds": [user]}, headers=auth)
    assert response.status_code == 201
    response = await set_status(client, auth, invitation["id"], status="Accepted", acceptedUserId=user)
    assert response.status_code == 200, response.text
    response = await client.get(f"/api/organizations/{org['id']}/users/{user}/roles", headers=auth)
    assert [r["id"] for r in response.json()] == [role]
    additions = [e["addedUserIds"] for e in await events_of("Organization.Membership.Updated", org["id"])]
    assert [a for a in additions if a] == [[user]]  # the one of the direct addition only


async def test_accepting_needs_the_accepting_user(
    client: AsyncClient, auth: dict[str, str], make_user_with_email: MakeUser
) -> None:
    org = await new_organization(client, auth)
    invitation = await invited(client, auth, org["id"], email())
    error(await set_status(client, auth, invitation["id"], status="Accepted"), 422, "request.invalid_input")
    response = await set_status(client, auth, invitation["id"], status="Accepted", acceptedUserId=None)
    error(response, 422, "request.invalid_input")
    response = await set_status(client, auth, invitation["id"], status="Accepted", acceptedUserId="no-such-user")
    error(response, 404, "entity.not_found")
    assert (await client.get(f"{URL}/{invitation['id']}", headers=auth)).json()["status"] == "Pending"


async def test_only_the_invitee_can_accept(
    client: AsyncClient, auth: dict[str, str], make_user_with_email: MakeUser
) -> None:
    org = await new_organization(client, auth)
    invitation = await invited(client, auth, org["id"], email())
    for other in (await make_user_with_email(email()), await make_user_with_email(None)):
        response = await set_status(client, auth, invitation["id"], status="Accepted", acceptedUserId=other)
        error(response, 422, "request.invalid_input")
    assert (await client.get(f"/api/organizations/{org['id']}/users", headers=auth)).json() == []
    assert (await client.get(f"{URL}/{invitation['id']}", headers=auth)).json()["status"] == "Pending"


async def test_a_machine_to_machine_role_cannot_be_granted_on_acceptance(
    client: AsyncClient, auth: dict[str, str], make_role: Callable[..., Any], make_user_with_email: MakeUser
) -> None:
    org = await new_organization(client, auth)
    invitee = email()
    role = await make_role(type="MachineToMachine")
    invitation = await invited(client, auth, org["id"], invitee, organizationRoleIds=[role])  # Logto takes it
    user = await make_user_with_email(invitee)
    response = await set_status(client, auth, invitation["id"], status="Accepted", acceptedUserId=user)
    error(response, 422, "entity.db_constraint_violated")
    assert (await client.get(f"/api/organizations/{org['id']}/users", headers=auth)).json() == []
    assert (await client.get(f"{URL}/{invitation['id']}", headers=auth)).json()["status"] == "Pending"


async def test_a_revoked_invitation_cannot_change_any_more(
    client: AsyncClient, auth: dict[str, str], make_user_with_email: MakeUser
) -> None:
    org = await new_organization(client, auth)
    invitee = email()
    invitation = await invited(client, auth, org["id"], invitee)
    user = await make_user_with_email(invitee)
    response = await set_status(client, auth, invitation["id"], status="Revoked", acceptedUserId=user)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["acceptedUserId"]) == ("Revoked", None)
    response = await set_status(client, auth, invitation["id"], status="Accepted", acceptedUserId=user)
    error(response, 422, "request.invalid_input")
    error(await set_status(client, auth, invitation["id"], status="Revoked"), 422, "request.invalid_input")
    assert (await client.get(f"/api/organizations/{org['id']}/users", headers=auth)).json() == []


async def test_an_accepted_invitation_cannot_be_revoked(
    client: AsyncClient, auth: dict[str, str], make_user_with_email: MakeUser
) -> None:
    org = await new_organization(client, auth)
    invitee = email()
    invitation = await invited(client, auth, org["id"], invitee)
    user = await make_user_with_email(invitee)
    assert (await set_status(client, auth, invitation["id"], status="Accepted", acceptedUserId=user)).status_code == 200
    error(await set_status(client, auth, invitation["id"], status="Revoked"), 422, "request.invalid_input")


async def test_an_expired_invitation_cannot_be_accepted(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine, make_user_with_email: MakeUser
) -> None:
    org = await new_organization(client, auth)
    invitee = email()
    invitation = await invited(client, auth, org["id"], invitee)
    await expire(engine, invitation["id"])
    user = await make_user_with_email(invitee)
    response = await set_status(client, auth, invitation["id"], status="Accepted", acceptedUserId=user)
    error(response, 422, "request.invalid_input")
    assert (await client.get(f"/api/organizations/{org['id']}/users", headers=auth)).json() == []


async def test_status_must_be_accepted_or_revoked(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await new_organization(client, auth)
    invitation = await invited(client, auth, org["id"], email())
    for status in ("Pending", "Expired", "accepted"):
        error(await set_status(client, auth, invitation["id"], status=status), 400, "guard.invalid_input")
    error(await set_status(client, auth, "no-such-invitation", status="Revoked"), 404, "entity.not_found")
