"""The organizations a user consented a third-party application to (`/api/applications/{id}/users/{userId}/
consent-organizations`), with Logto's status codes and error codes, and the consents' cleanup when a membership
or an application goes."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.events import ApplicationDeleted, UserDeleted
from gatehouse_schema.tables.organizations import application_user_consent_organizations
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from .membership_fixtures import engine, make_app, new_organization
from .test_member_cleanup import application_payload, eventually, publish, user_payload

__all__ = ["engine", "make_app"]  # fixtures used by name

Maker = Callable[..., Awaitable[str]]


def error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


def url(app_id: str, user_id: str) -> str:
    return f"/api/applications/{app_id}/users/{user_id}/consent-organizations"


async def member_of(client: AsyncClient, auth: dict[str, str], user_id: str, count: int) -> list[dict[str, Any]]:
    """`count` new organizations with the user as a member, sorted by id (the listing's order)."""
    orgs = []
    for _ in range(count):
        org = await new_organization(client, auth)
        response = await client.post(f"/api/organizations/{org['id']}/users", json={"userIds": [user_id]}, headers=auth)
        assert response.status_code == 201, response.text
        orgs.append(org)
    return sorted(orgs, key=lambda o: str(o["id"]))


async def consented(client: AsyncClient, auth: dict[str, str], app_id: str, user_id: str) -> list[str]:
    response = await client.get(url(app_id, user_id), headers=auth)
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json()["organizations"]]


async def stored(engine: AsyncEngine, app_id: str) -> int:
    c = application_user_consent_organizations
    async with engine.connect() as conn:
        query = sa.select(sa.func.count()).where(c.c.tenant_id == "default", c.c.application_id == app_id)
        return int((await conn.execute(query)).scalar_one())


# granting and listing


async def test_granted_organizations_are_listed_as_full_organizations(
    client: AsyncClient, auth: dict[str, str], make_app: Maker, make_user: Maker
) -> None:
    app_id, user_id = await make_app(type="Traditional", third_party=True), await make_user()
    first, second = await member_of(client, auth, user_id, 2)
    response = await client.post(
        url(app_id, user_id), json={"organizationIds": [second["id"], first["id"], second["id"]]}, headers=auth
    )
    assert response.status_code == 201, response.text

    response = await client.get(url(app_id, user_id), headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["Total-Number"] == "2"
    assert response.json() == {"organizations": [first, second]}  # the organizations as GetOrganization shows them


async def test_listing_is_paginated(
    client: AsyncClient, auth: dict[str, str], make_app: Maker, make_user: Maker
) -> None:
    app_id, user_id = await make_app(type="Traditional", third_party=True), await make_user()
    orgs = await member_of(client, auth, user_id, 3)
    response = await client.post(url(app_id, user_id), json={"organizationIds": [o["id"] for o in orgs]}, headers=auth)
    assert response.status_code == 201, response.text

    response = await client.get(url(app_id, user_id), params={"page": 2, "page_size": 2}, headers=auth)
    assert response.status_code == 200 and response.headers["Total-Number"] == "3"
    assert [o["id"] for o in response.json()["organizations"]] == [orgs[2]["id"]]
    error(await client.get(url(app_id, user_id), params={"page": 0}, headers=auth), 400, "guard.invalid_pagination")
    error(
        await client.get(url(app_id, user_id), params={"page_size": "x"}, headers=auth), 400, "guard.invalid_pagination"
    )


async def test_granting_a_consent_again_changes_nothing(
    client: AsyncClient, auth: dict[str, str], make_app: Maker, make_user: Maker
) -> None:
    app_id, user_id = await make_app(type="Traditional", third_party=True), await make_user()
    first, second = await member_of(client, auth, user_id, 2)
    for ids in ([first["id"]], [first["id"], second["id"]]):
        response = await client.post(url(app_id, user_id), json={"organizationIds": ids}, headers=auth)
        assert response.status_code == 201, response.text
    assert await consented(client, auth, app_id, user_id) == [first["id"], second["id"]]


async def test_consents_belong_to_one_application_and_one_user(
    client: AsyncClient, auth: dict[str, str], make_app: Maker, make_user: Maker
) -> None:
    app_id, other_app = await make_app(type="Traditional", third_party=True), await make_app(third_party=True)
    user_id, other_user = await make_user(), await make_user()
    (org,) = await member_of(client, auth, user_id, 1)
    await client.post(f"/api/organizations/{org['id']}/users", json={"userIds": [other_user]}, headers=auth)
    response = await client.post(url(app_id, user_id), json={"organizationIds": [org["id"]]}, headers=auth)
    assert response.status_code == 201, response.text
    assert await consented(client, auth, app_id, user_id) == [org["id"]]
    assert await consented(client, auth, other_app, user_id) == []
    assert await consented(client, auth, app_id, other_user) == []


# replacing and revoking


async def test_replace_makes_these_the_consented_organizations(
    client: AsyncClient, auth: dict[str, str], make_app: Maker, make_user: Maker
) -> None:
    app_id, user_id = await make_app(type="Traditional", third_party=True), await make_user()
    a, b, c = (o["id"] for o in await member_of(client, auth, user_id, 3))
    await client.post(url(app_id, user_id), json={"organizationIds": [a, b]}, headers=auth)

    response = await client.put(url(app_id, user_id), json={"organizationIds": [c, b, c]}, headers=auth)
    assert response.status_code == 204, response.text
    assert await consented(client, auth, app_id, user_id) == [b, c]

    response = await client.put(url(app_id, user_id), json={"organizationIds": []}, headers=auth)
    assert response.status_code == 204, response.text
    assert await consented(client, auth, app_id, user_id) == []


async def test_delete_revokes_one_consent_and_a_missing_one_is_not_found(
    client: AsyncClient, auth: dict[str, str], make_app: Maker, make_user: Maker
) -> None:
    app_id, user_id = await make_app(type="Traditional", third_party=True), await make_user()
    a, b = (o["id"] for o in await member_of(client, auth, user_id, 2))
    await client.post(url(app_id, user_id), json={"organizationIds": [a, b]}, headers=auth)

    response = await client.delete(f"{url(app_id, user_id)}/{a}", headers=auth)
    assert response.status_code == 204, response.text
    assert await consented(client, auth, app_id, user_id) == [b]
    error(await client.delete(f"{url(app_id, user_id)}/{a}", headers=auth), 404, "entity.not_found")
    error(await client.delete(f"{url(app_id, user_id)}/no-such-org", headers=auth), 404, "entity.not_found")
    assert await consented(client, auth, app_id, user_id) == [b]


# errors


async def test_unknown_application_is_not_found_before_the_body_is_looked_at(
    client: AsyncClient, auth: dict[str, str], make_user: Maker
) -> None:
    user_id = await make_user()
    target = url("no-such-app", user_id)
    for response in (
        await client.get(target, headers=auth),
        await client.post(target, json={"organizationIds": []}, headers=auth),  # Logto's own test sends []
        await client.put(target, json={"organizationIds": []}, headers=auth),
        await client.delete(f"{target}/some-org", headers=auth),
    ):
        error(response, 404, "entity.not_exists_with_id")


async def test_first_party_application_is_refused(
    client: AsyncClient, auth: dict[str, str], make_app: Maker, make_user: Maker
) -> None:
    user_id = await make_user()
    (org,) = await member_of(client, auth, user_id, 1)
    target = url(await make_app(type="Traditional"), user_id)
    for response in (
        await client.get(target, headers=auth),
        await client.post(target, json={"organizationIds": [org["id"]]}, headers=auth),
        await client.put(target, json={"organizationIds": [org["id"]]}, headers=auth),
        await client.delete(f"{target}/{org['id']}", headers=auth),
    ):
        error(response, 422, "application.third_party_application_only")


async def test_unknown_user_is_not_found(client: AsyncClient, auth: dict[str, str], make_app: Maker) -> None:
    target = url(await make_app(type="Traditional", third_party=True), "no-such-user")
    for response in (
        await client.get(target, headers=auth),
        await client.post(target, json={"organizationIds": []}, headers=auth),
        await client.put(target, json={"organizationIds": ["some-org"]}, headers=auth),
        await client.delete(f"{target}/some-org", headers=auth),
    ):
        error(response, 404, "entity.not_found")  # Logto's `findUserById` fails as a missing row


async def test_only_organizations_the_user_is_a_member_of_can_be_granted(
    client: AsyncClient, auth: dict[str, str], make_app: Maker, make_user: Maker
) -> None:
    app_id, user_id = await make_app(type="Traditional", third_party=True), await make_user()
    (mine,) = await member_of(client, auth, user_id, 1)
    not_mine = (await new_organization(client, auth))["id"]
    await client.post(url(app_id, user_id), json={"organizationIds": [mine["id"]]}, headers=auth)

    for ids in ([mine["id"], not_mine], ["no-such-org"]):
        response = await client.post(url(app_id, user_id), json={"organizationIds": ids}, headers=auth)
        error(response, 422, "organization.require_membership")
        response = await client.put(url(app_id, user_id), json={"organizationIds": ids}, headers=auth)
        error(response, 422, "organization.require_membership")
    assert await consented(client, auth, app_id, user_id) == [mine["id"]]  # nothing changed


async def test_malformed_bodies_are_bad_requests(
    client: AsyncClient, auth: dict[str, str], make_app: Maker, make_user: Maker
) -> None:
    target = url(await make_app(type="Traditional", third_party=True), await make_user())
    error(await client.post(target, json={"organizationIds": []}, headers=auth), 400, "guard.invalid_input")
    for body in ({}, {"organizationIds": [""]}, {"organizationIds": "x"}, {"organizationIds": [1]}):
        error(await client.post(target, json=body, headers=auth), 400, "guard.invalid_input")
        error(await client.put(target, json=body, headers=auth), 400, "guard.invalid_input")


# consents go with the membership and with the application


async def test_leaving_an_organization_drops_the_consent(
    client: AsyncClient, auth: dict[str, str], make_app: Maker, make_user: Maker
) -> None:
    app_id, user_id = await make_app(type="Traditional", third_party=True), await make_user()
    left, deleted, kept = (o["id"] for o in await member_of(client, auth, user_id, 3))
    await client.post(url(app_id, user_id), json={"organizationIds": [left, deleted, kept]}, headers=auth)

    assert (await client.delete(f"/api/organizations/{left}/users/{user_id}", headers=auth)).status_code == 204
    assert (await client.delete(f"/api/organizations/{deleted}", headers=auth)).status_code == 204
    assert await consented(client, auth, app_id, user_id) == [kept]
    # joining again does not bring the consent back
    await client.post(f"/api/organizations/{left}/users", json={"userIds": [user_id]}, headers=auth)
    assert await consented(client, auth, app_id, user_id) == [kept]


async def test_deleted_application_and_deleted_user_lose_their_consents(
    client: AsyncClient,
    auth: dict[str, str],
    make_app: Maker,
    make_user: Maker,
    engine: AsyncEngine,
    nats_url: str,
    subject_prefix: str,
) -> None:
    gone_app, kept_app = await make_app(type="Traditional", third_party=True), await make_app(third_party=True)
    user_id, gone_user = await make_user(), await make_user()
    (org,) = await member_of(client, auth, user_id, 1)
    await client.post(f"/api/organizations/{org['id']}/users", json={"userIds": [gone_user]}, headers=auth)
    for app_id in (gone_app, kept_app):
        for member in (user_id, gone_user):
            response = await client.post(url(app_id, member), json={"organizationIds": [org["id"]]}, headers=auth)
            assert response.status_code == 201, response.text

    await publish(nats_url, subject_prefix, ApplicationDeleted(data=application_payload(gone_app)), times=2)

    async def app_consents_gone() -> bool:
        return await stored(engine, gone_app) == 0

    assert await eventually(app_consents_gone)
    assert await stored(engine, kept_app) == 2

    await publish(nats_url, subject_prefix, UserDeleted(data=user_payload(gone_user)))

    async def user_consents_gone() -> bool:
        return await consented(client, auth, kept_app, gone_user) == []

    assert await eventually(user_consents_gone)
    await asyncio.sleep(0.2)  # the duplicate delivery of the application's event has had time to arrive
    assert await consented(client, auth, kept_app, user_id) == [org["id"]]
