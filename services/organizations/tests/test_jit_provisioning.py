"""Just-in-time provisioning from identity's events (consumers `organizations-user-registrations` and
`organizations-sso-identity-links`): a user of an enterprise SSO connector joins the organizations of the
connector, another new user those of their email's domain, with the JIT roles, once per event; and a deleted
SSO connector leaves every organization's JIT rules (`organizations-jit-sso-connectors`)."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.events import SsoConnectorBrief, SsoConnectorDeleted, UserRegistered, UserSsoIdentityLinked
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables.organizations import organization_jit_sso_connectors, organization_role_user_relations
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from .membership_fixtures import (
    engine,
    events_of,
    make_role,
    make_sso_connector,
    make_user_with_email,
    new_organization,
)
from .test_member_cleanup import eventually, memberships_of, publish

__all__ = ["engine", "events_of", "make_role", "make_sso_connector", "make_user_with_email"]  # fixtures by name

Events = Callable[[str, str], Awaitable[list[dict[str, Any]]]]
Auth = dict[str, str]


def rules_url(organization_id: str, kind: str) -> str:
    return f"/api/organizations/{organization_id}/jit/{kind}"


async def organization_with_rules(
    client: AsyncClient,
    auth: Auth,
    *,
    connectors: Sequence[str] = (),
    domain: str | None = None,
    roles: Sequence[str] = (),
) -> str:
    org_id: str = (await new_organization(client, auth))["id"]
    if connectors:
        body = {"ssoConnectorIds": list(connectors)}
        assert (await client.post(rules_url(org_id, "sso-connectors"), json=body, headers=auth)).status_code == 201
    if domain:
        body_domain = {"emailDomain": domain}
        assert (
            await client.post(rules_url(org_id, "email-domains"), json=body_domain, headers=auth)
        ).status_code == 201
    if roles:
        body = {"organizationRoleIds": list(roles)}
        assert (await client.post(rules_url(org_id, "roles"), json=body, headers=auth)).status_code == 201
    return org_id


async def roles_of(engine: AsyncEngine, user_id: str, organization_id: str) -> list[str]:
    links = organization_role_user_relations
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(links.c.organization_role_id).where(
                links.c.tenant_id == "default", links.c.organization_id == organization_id, links.c.user_id == user_id
            )
        )
        return sorted(rows.scalars())


async def added_user_ids(events_of: Events, organization_id: str) -> list[list[str]]:
    return [e["addedUserIds"] for e in await events_of("Organization.Membership.Updated", organization_id)]


def new_domain() -> str:
    return f"{uuid.uuid4().hex[:8]}.example.com"


async def test_a_user_registered_through_an_sso_connector_joins_its_organizations_with_the_jit_roles(
    client: AsyncClient,
    auth: Auth,
    make_sso_connector: Callable[..., Any],
    make_role: Callable[..., Any],
    make_user_with_email: Callable[..., Any],
    engine: AsyncEngine,
    events_of: Events,
    nats_url: str,
    subject_prefix: str,
) -> None:
    connector, other_connector = await make_sso_connector(), await make_sso_connector()
    domain = new_domain()
    user_role, m2m_role = await make_role(), await make_role(type="MachineToMachine")
    with_roles = await organization_with_rules(client, auth, connectors=[connector], roles=[user_role, m2m_role])
    plain = await organization_with_rules(client, auth, connectors=[connector, other_connector])
    by_domain_only = await organization_with_rules(client, auth, domain=domain)
    elsewhere = await organization_with_rules(client, auth, connectors=[other_connector])
    user_id = await make_user_with_email(f"ada@{domain}")

    registered = UserRegistered(user_id=user_id, primary_email=f"ada@{domain}", sso_connector_id=connector)
    await publish(nats_url, subject_prefix, registered, times=2)

    async def joined() -> bool:
        return await memberships_of(engine, user_id) == sorted([with_roles, plain])

    assert await eventually(joined)
    # the connector's organizations only: with an SSO identity the email domain does not count (as in Logto)
    assert by_domain_only not in await memberships_of(engine, user_id)
    assert elsewhere not in await memberships_of(engine, user_id)
    assert await roles_of(engine, user_id, with_roles) == [user_role]  # a user holds no machine-to-machine role
    assert await roles_of(engine, user_id, plain) == []
    await asyncio.sleep(0.3)  # the duplicate delivery has had time to arrive: still one event per organization
    assert await added_user_ids(events_of, with_roles) == [[user_id]]
    assert await added_user_ids(events_of, plain) == [[user_id]]
    [announced] = await events_of("Organization.Membership.Updated", plain)
    assert announced == {
        "organizationId": plain,
        "addedUserIds": [user_id],
        "removedUserIds": [],
        "addedApplicationIds": [],
        "removedApplicationIds": [],
    }


async def test_a_user_registered_without_sso_joins_the_organizations_of_their_email_domain(
    client: AsyncClient,
    auth: Auth,
    make_role: Callable[..., Any],
    make_user_with_email: Callable[..., Any],
    engine: AsyncEngine,
    events_of: Events,
    nats_url: str,
    subject_prefix: str,
) -> None:
    domain = new_domain()
    role = await make_role()
    matching = await organization_with_rules(client, auth, domain=domain, roles=[role])
    other = await organization_with_rules(client, auth, domain=new_domain())
    user_id = await make_user_with_email(f"bob@{domain}")
    await publish(
        nats_url, subject_prefix, UserRegistered(user_id=user_id, primary_email=f"bob@{domain}", sso_connector_id=None)
    )

    async def joined() -> bool:
        return await memberships_of(engine, user_id) == [matching]

    assert await eventually(joined)
    assert await roles_of(engine, user_id, matching) == [role]
    assert await added_user_ids(events_of, matching) == [[user_id]]
    assert await added_user_ids(events_of, other) == []


async def test_a_registration_without_a_matching_rule_or_email_changes_nothing(
    client: AsyncClient,
    auth: Auth,
    make_user_with_email: Callable[..., Any],
    engine: AsyncEngine,
    nats_url: str,
    subject_prefix: str,
) -> None:
    domain = new_domain()
    org = await organization_with_rules(client, auth, domain=domain)
    no_email, gone = await make_user_with_email(None), generate_id()
    await publish(nats_url, subject_prefix, UserRegistered(user_id=no_email, primary_email=None, sso_connector_id=None))
    # a user deleted before the event was handled is provisioned nowhere
    await publish(
        nats_url, subject_prefix, UserRegistered(user_id=gone, primary_email=f"x@{domain}", sso_connector_id=None)
    )
    marker = await make_user_with_email(f"marker@{domain}")  # events are handled in order
    await publish(
        nats_url,
        subject_prefix,
        UserRegistered(user_id=marker, primary_email=f"marker@{domain}", sso_connector_id=None),
    )

    async def marker_joined() -> bool:
        return await memberships_of(engine, marker) == [org]

    assert await eventually(marker_joined)
    assert await memberships_of(engine, no_email) == []
    assert await memberships_of(engine, gone) == []


async def test_an_existing_user_s_first_sso_link_provisions_by_the_connector(
    client: AsyncClient,
    auth: Auth,
    make_sso_connector: Callable[..., Any],
    make_role: Callable[..., Any],
    make_user_with_email: Callable[..., Any],
    engine: AsyncEngine,
    events_of: Events,
    nats_url: str,
    subject_prefix: str,
) -> None:
    connector = await make_sso_connector()
    held, granted = await make_role(), await make_role()
    member_of = await organization_with_rules(client, auth, connectors=[connector], roles=[granted])
    new_one = await organization_with_rules(client, auth, connectors=[connector])
    user_id = await make_user_with_email(f"cy@{new_domain()}")
    response = await client.post(f"/api/organizations/{member_of}/users", json={"userIds": [user_id]}, headers=auth)
    assert response.status_code == 201
    response = await client.post(
        f"/api/organizations/{member_of}/users/{user_id}/roles", json={"organizationRoleIds": [held]}, headers=auth
    )
    assert response.status_code == 201

    await publish(nats_url, subject_prefix, UserSsoIdentityLinked(user_id=user_id, sso_connector_id=connector))

    async def joined() -> bool:
        return await memberships_of(engine, user_id) == sorted([member_of, new_one])

    assert await eventually(joined)
    # a member already keeps the membership and gets the JIT roles they lack; no new membership to announce
    assert await roles_of(engine, user_id, member_of) == sorted([held, granted])
    assert await added_user_ids(events_of, member_of) == [[user_id]]  # the route's addition only
    assert await added_user_ids(events_of, new_one) == [[user_id]]


async def test_a_deleted_sso_connector_leaves_every_organization_s_jit_rules(
    client: AsyncClient,
    auth: Auth,
    make_sso_connector: Callable[..., Any],
    engine: AsyncEngine,
    nats_url: str,
    subject_prefix: str,
) -> None:
    gone, kept = await make_sso_connector(), await make_sso_connector()
    first = await organization_with_rules(client, auth, connectors=[gone, kept])
    second = await organization_with_rules(client, auth, connectors=[gone])
    brief = SsoConnectorBrief(
        id=gone,
        provider_name="OIDC",
        provider_type="oidc",
        connector_name=f"sso-{gone}",
        domains=[],
        sync_profile=False,
        enable_token_storage=False,
    )
    await publish(nats_url, subject_prefix, SsoConnectorDeleted(data=brief), times=2)

    async def rules_of(org_id: str) -> list[str]:
        links = organization_jit_sso_connectors
        async with engine.connect() as conn:
            rows = await conn.execute(sa.select(links.c.sso_connector_id).where(links.c.organization_id == org_id))
            return sorted(rows.scalars())

    async def dropped() -> bool:
        return await rules_of(first) == [kept] and await rules_of(second) == []

    assert await eventually(dropped)
