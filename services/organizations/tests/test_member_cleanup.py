"""Deleted users and applications leave every organization (consumers `organizations-user-memberships` and
`organizations-application-memberships`), roles included, once per event; a deleted user's invitations go."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import nats
import sqlalchemy as sa
from gatehouse_schema.api.applications import Application, CustomClientMetadata, OidcClientMetadata
from gatehouse_schema.api.users import User
from gatehouse_schema.events import Actor, ApplicationDeleted, EventData, UserDeleted, event_subject, make_event
from gatehouse_schema.tables.identity import users
from gatehouse_schema.tables.organizations import organization_role_user_relations, organization_user_relations
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from .membership_fixtures import engine, events_of, make_app, make_role, new_organization

__all__ = ["engine", "events_of", "make_app", "make_role"]  # fixtures used by name

Events = Callable[[str, str], Awaitable[list[dict[str, Any]]]]


def user_payload(user_id: str) -> User:
    return User(
        id=user_id,
        username=None,
        primary_email=None,
        primary_phone=None,
        name="n",
        avatar=None,
        custom_data={},
        identities={},
        last_sign_in_at=None,
        created_at=0,
        updated_at=0,
        profile={},
        application_id=None,
        is_suspended=False,
        has_password=False,
    )


def application_payload(app_id: str) -> Application:
    return Application(
        tenant_id="default",
        id=app_id,
        name="gone",
        description=None,
        type="MachineToMachine",
        oidc_client_metadata=OidcClientMetadata(redirect_uris=[], post_logout_redirect_uris=[]),
        custom_client_metadata=CustomClientMetadata(),
        protected_app_metadata=None,
        custom_data={},
        is_third_party=False,
        app_level_access_control_enabled=False,
        created_at=0,
    )


async def publish(nats_url: str, prefix: str, data: EventData, *, times: int = 1) -> None:
    event = make_event(data, tenant_id="default", actor=Actor(type="application", id="m2m"))
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for i in range(times):  # the same event under different message ids: the inbox must dedupe it
        await js.publish(
            event_subject(prefix, "default", data.context, data.event_type),
            msgspec.json.encode(event),
            headers={"Nats-Msg-Id": f"{event.id}-{i}"},
        )
    await nc.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def memberships_of(engine: AsyncEngine, user_id: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(organization_user_relations.c.organization_id).where(
                organization_user_relations.c.tenant_id == "default", organization_user_relations.c.user_id == user_id
            )
        )
        return sorted(rows.scalars())


async def role_links_of(engine: AsyncEngine, user_id: str) -> int:
    links = organization_role_user_relations
    async with engine.connect() as conn:
        query = sa.select(sa.func.count()).where(links.c.tenant_id == "default", links.c.user_id == user_id)
        return int((await conn.execute(query)).scalar_one())


async def test_deleted_user_leaves_every_organization_with_its_roles(
    client: AsyncClient,
    auth: dict[str, str],
    make_user: Callable[..., Any],
    make_role: Callable[..., Any],
    engine: AsyncEngine,
    events_of: Events,
    nats_url: str,
    subject_prefix: str,
) -> None:
    leaving, staying = await make_user("leaving"), await make_user("staying")
    orgs = [(await new_organization(client, auth))["id"] for _ in range(2)]
    role = await make_role()
    for org_id in orgs:
        response = await client.post(
            f"/api/organizations/{org_id}/users", json={"userIds": [leaving, staying]}, headers=auth
        )
        assert response.status_code == 201
        response = await client.post(
            f"/api/organizations/{org_id}/users/roles",
            json={"userIds": [leaving, staying], "organizationRoleIds": [role]},
            headers=auth,
        )
        assert response.status_code == 201
    assert await role_links_of(engine, leaving) == 2

    await publish(nats_url, subject_prefix, UserDeleted(data=user_payload(leaving)), times=2)

    async def gone() -> bool:
        return await memberships_of(engine, leaving) == []

    assert await eventually(gone)
    assert await role_links_of(engine, leaving) == 0
    assert await memberships_of(engine, staying) == sorted(orgs)
    assert await role_links_of(engine, staying) == 2
    await asyncio.sleep(0.3)  # the duplicate delivery has had time to arrive: still one event per organization
    for org_id in orgs:
        removals = [e for e in await events_of("Organization.Membership.Updated", org_id) if e["removedUserIds"]]
        assert [e["removedUserIds"] for e in removals] == [[leaving]]


async def test_deleted_application_leaves_every_organization(
    client: AsyncClient,
    auth: dict[str, str],
    make_app: Callable[..., Any],
    make_role: Callable[..., Any],
    events_of: Events,
    nats_url: str,
    subject_prefix: str,
) -> None:
    leaving, staying = await make_app(), await make_app()
    org_id = (await new_organization(client, auth))["id"]
    url = f"/api/organizations/{org_id}/applications"
    assert (await client.post(url, json={"applicationIds": [leaving, staying]}, headers=auth)).status_code == 201
    role = await make_role(type="MachineToMachine")
    response = await client.post(f"{url}/{leaving}/roles", json={"organizationRoleIds": [role]}, headers=auth)
    assert response.status_code == 201

    await publish(nats_url, subject_prefix, ApplicationDeleted(data=application_payload(leaving)))

    async def gone() -> bool:
        return [a["id"] for a in (await client.get(url, headers=auth)).json()] == [staying]

    assert await eventually(gone)
    response = await client.get(f"{url}/{leaving}/roles", headers=auth)
    assert response.status_code == 422  # no membership any more, so no roles either
    removals = [e for e in await events_of("Organization.Membership.Updated", org_id) if e["removedApplicationIds"]]
    assert [e["removedApplicationIds"] for e in removals] == [[leaving]]


async def test_deleted_event_of_a_non_member_changes_nothing(
    client: AsyncClient,
    auth: dict[str, str],
    make_user: Callable[..., Any],
    engine: AsyncEngine,
    events_of: Events,
    nats_url: str,
    subject_prefix: str,
) -> None:
    member, stranger = await make_user(), await make_user()
    org_id = (await new_organization(client, auth))["id"]
    await client.post(f"/api/organizations/{org_id}/users", json={"userIds": [member]}, headers=auth)
    await publish(nats_url, subject_prefix, UserDeleted(data=user_payload(stranger)))
    marker = await make_user()  # events are handled in order: once the marker is gone, the first was handled
    await client.post(f"/api/organizations/{org_id}/users", json={"userIds": [marker]}, headers=auth)
    await publish(nats_url, subject_prefix, UserDeleted(data=user_payload(marker)))

    async def marker_gone() -> bool:
        return await memberships_of(engine, marker) == []

    assert await eventually(marker_gone)
    assert await memberships_of(engine, member) == [org_id]
    removals = [e["removedUserIds"] for e in await events_of("Organization.Membership.Updated", org_id)]
    assert [r for r in removals if r] == [[marker]]


async def test_deleted_user_takes_the_invitations_they_sent_or_accepted(
    client: AsyncClient,
    auth: dict[str, str],
    make_user: Callable[..., Any],
    engine: AsyncEngine,
    nats_url: str,
    subject_prefix: str,
) -> None:
    """Logto's invitations reference the inviter and the accepting user with `ON DELETE CASCADE`; an invitation
    to the deleted user's email that they neither sent nor accepted stays (it names an email, not a user)."""
    org_id = (await new_organization(client, auth))["id"]
    leaving, other = await make_user("leaving"), await make_user("other")
    async with engine.begin() as conn:  # the leaving user's email, so they can accept an invitation to it
        await conn.execute(sa.update(users).where(users.c.id == leaving).values(primary_email=f"{leaving}@x.test"))
    expires_at = int((time.time() + 3600) * 1000)

    async def invite(invitee: str, inviter: str | None) -> str:
        body = {"organizationId": org_id, "invitee": invitee, "inviterId": inviter, "expiresAt": expires_at}
        response = await client.post("/api/organization-invitations", json=body, headers=auth)
        assert response.status_code == 201, response.text
        invitation_id: str = response.json()["id"]
        return invitation_id

    sent = await invite("someone@x.test", leaving)
    accepted = await invite(f"{leaving}@x.test", other)
    response = await client.put(
        f"/api/organization-invitations/{accepted}/status",
        json={"status": "Accepted", "acceptedUserId": leaving},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    unrelated = await invite("another@x.test", other)
    other_org = (await new_organization(client, auth))["id"]
    body = {"organizationId": other_org, "invitee": f"{leaving}@x.test", "expiresAt": expires_at}
    to_their_email = (await client.post("/api/organization-invitations", json=body, headers=auth)).json()["id"]

    await publish(nats_url, subject_prefix, UserDeleted(data=user_payload(leaving)))

    async def gone() -> bool:
        return await memberships_of(engine, leaving) == []

    assert await eventually(gone)  # the same transaction deletes the invitations
    statuses = {}
    for invitation_id in (sent, accepted, unrelated, to_their_email):
        response = await client.get(f"/api/organization-invitations/{invitation_id}", headers=auth)
        statuses[invitation_id] = response.status_code
    assert statuses == {sent: 404, accepted: 404, unrelated: 200, to_their_email: 200}
