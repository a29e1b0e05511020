"""An organization's just-in-time provisioning rules: email domains, enterprise SSO connectors and default
organization roles, with Logto's status codes and error codes."""

import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.organizations import (
    organization_jit_email_domains,
    organization_jit_roles,
    organization_jit_sso_connectors,
)
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from .membership_fixtures import engine, make_role, make_sso_connector, new_organization

__all__ = ["engine", "make_role", "make_sso_connector"]  # fixtures used by name


def error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


def domain() -> str:
    return f"{uuid.uuid4().hex[:8]}.example.com"


async def org_id(client: AsyncClient, auth: dict[str, str]) -> str:
    found: str = (await new_organization(client, auth))["id"]
    return found


def domains_url(organization_id: str) -> str:
    return f"/api/organizations/{organization_id}/jit/email-domains"


def roles_url(organization_id: str) -> str:
    return f"/api/organizations/{organization_id}/jit/roles"


def connectors_url(organization_id: str) -> str:
    return f"/api/organizations/{organization_id}/jit/sso-connectors"


async def listed_domains(client: AsyncClient, auth: dict[str, str], organization_id: str) -> list[str]:
    response = await client.get(domains_url(organization_id), headers=auth)
    assert response.status_code == 200, response.text
    return [d["emailDomain"] for d in response.json()]


async def listed_roles(client: AsyncClient, auth: dict[str, str], organization_id: str) -> list[str]:
    response = await client.get(roles_url(organization_id), headers=auth)
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()]


async def listed_connectors(client: AsyncClient, auth: dict[str, str], organization_id: str) -> list[str]:
    response = await client.get(connectors_url(organization_id), headers=auth)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()]


# email domains


async def test_email_domains_are_added_listed_and_removed(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await org_id(client, auth)
    first, second = sorted([domain(), domain()])
    response = await client.post(domains_url(org), json={"emailDomain": second}, headers=auth)
    assert response.status_code == 201, response.text
    assert response.json() == {"tenantId": "default", "organizationId": org, "emailDomain": second}
    assert (await client.post(domains_url(org), json={"emailDomain": first}, headers=auth)).status_code == 201
    response = await client.get(domains_url(org), headers=auth)
    assert response.headers["Total-Number"] == "2"
    assert [d["emailDomain"] for d in response.json()] == [first, second]
    assert (await client.delete(f"{domains_url(org)}/{second}", headers=auth)).status_code == 204
    assert await listed_domains(client, auth, org) == [first]


async def test_a_domain_the_organization_has_is_422(client: AsyncClient, auth: dict[str, str]) -> None:
    org, other = await org_id(client, auth), await org_id(client, auth)
    taken = domain()
    assert (await client.post(domains_url(org), json={"emailDomain": taken}, headers=auth)).status_code == 201
    response = await client.post(domains_url(org), json={"emailDomain": taken}, headers=auth)
    error(response, 422, "entity.unique_integrity_violation")
    response = await client.post(domains_url(other), json={"emailDomain": taken}, headers=auth)
    assert response.status_code == 201  # another organization may have it too


async def test_domains_of_an_unknown_organization(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post(domains_url("no-such-org"), json={"emailDomain": domain()}, headers=auth)
    error(response, 422, "entity.relation_foreign_key_not_found")
    response = await client.get(domains_url("no-such-org"), headers=auth)
    assert response.status_code == 200 and response.json() == []  # Logto does not check the organization here
    response = await client.put(domains_url("no-such-org"), json={"emailDomains": [domain()]}, headers=auth)
    error(response, 422, "entity.relation_foreign_key_not_found")
    response = await client.put(domains_url("no-such-org"), json={"emailDomains": []}, headers=auth)
    assert response.status_code == 204  # nothing to write, as in Logto


async def test_removing_a_domain_the_organization_lacks_is_404(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await org_id(client, auth)
    error(await client.delete(f"{domains_url(org)}/{domain()}", headers=auth), 404, "entity.not_found")


async def test_replacing_domains_keeps_only_the_new_ones(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await org_id(client, auth)
    assert (await client.post(domains_url(org), json={"emailDomain": domain()}, headers=auth)).status_code == 201
    new = sorted([domain(), domain()])
    response = await client.put(domains_url(org), json={"emailDomains": [*new, new[0]]}, headers=auth)
    assert response.status_code == 204, response.text
    assert await listed_domains(client, auth, org) == new
    assert (await client.put(domains_url(org), json={"emailDomains": []}, headers=auth)).status_code == 204
    assert await listed_domains(client, auth, org) == []


async def test_domains_are_paginated_by_default(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await org_id(client, auth)
    all_domains = sorted(domain() for _ in range(30))
    assert (await client.put(domains_url(org), json={"emailDomains": all_domains}, headers=auth)).status_code == 204
    first = await client.get(domains_url(org), headers=auth)
    second = await client.get(domains_url(org), params={"page": 2}, headers=auth)
    assert first.headers["Total-Number"] == second.headers["Total-Number"] == "30"
    assert [d["emailDomain"] for d in first.json() + second.json()] == all_domains
    assert len(first.json()) == 20
    response = await client.get(domains_url(org), params={"page": 0}, headers=auth)
    error(response, 400, "guard.invalid_pagination")


async def test_domain_bodies_are_checked(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await org_id(client, auth)
    for body in ({"emailDomain": ""}, {"emailDomain": "x" * 129}, {}, {"emailDomain": 1}):
        error(await client.post(domains_url(org), json=body, headers=auth), 400, "guard.invalid_input")
    for body in ({"emailDomains": [""]}, {"emailDomains": "a.com"}, {}):
        error(await client.put(domains_url(org), json=body, headers=auth), 400, "guard.invalid_input")
    assert await listed_domains(client, auth, org) == []


async def test_deleting_the_organization_deletes_its_rules(
    client: AsyncClient,
    auth: dict[str, str],
    make_role: Callable[..., Any],
    make_sso_connector: Callable[..., Any],
    engine: AsyncEngine,
) -> None:
    org = await org_id(client, auth)
    role, connector = await make_role(), await make_sso_connector()
    assert (await client.post(domains_url(org), json={"emailDomain": domain()}, headers=auth)).status_code == 201
    assert (await client.post(roles_url(org), json={"organizationRoleIds": [role]}, headers=auth)).status_code == 201
    response = await client.post(connectors_url(org), json={"ssoConnectorIds": [connector]}, headers=auth)
    assert response.status_code == 201
    assert (await client.delete(f"/api/organizations/{org}", headers=auth)).status_code == 204
    async with engine.connect() as conn:
        for table in (organization_jit_email_domains, organization_jit_roles, organization_jit_sso_connectors):
            count = await conn.execute(sa.select(sa.func.count()).where(table.c.organization_id == org))
            assert count.scalar_one() == 0, table.name


# roles


async def test_roles_are_added_listed_and_removed(
    client: AsyncClient, auth: dict[str, str], make_role: Callable[..., Any]
) -> None:
    org = await org_id(client, auth)
    second, first = await make_role(name=f"b-{uuid.uuid4().hex}"), await make_role(name=f"a-{uuid.uuid4().hex}")
    response = await client.post(roles_url(org), json={"organizationRoleIds": [second, first]}, headers=auth)
    assert response.status_code == 201, response.text
    response = await client.get(roles_url(org), headers=auth)
    assert "Total-Number" not in response.headers  # no pagination unless asked for, as in Logto
    listed = response.json()
    assert [r["id"] for r in listed] == [first, second]
    assert set(listed[0]) == {"tenantId", "id", "name", "description", "type"}
    assert (await client.delete(f"{roles_url(org)}/{first}", headers=auth)).status_code == 204
    assert await listed_roles(client, auth, org) == [second]


async def test_roles_are_paginated_when_asked(
    client: AsyncClient, auth: dict[str, str], make_role: Callable[..., Any]
) -> None:
    org = await org_id(client, auth)
    roles = [await make_role(name=f"{i}-{uuid.uuid4().hex}") for i in range(3)]
    assert (await client.put(roles_url(org), json={"organizationRoleIds": roles}, headers=auth)).status_code == 204
    response = await client.get(roles_url(org), params={"page": 2, "page_size": 2}, headers=auth)
    assert response.headers["Total-Number"] == "3"
    assert [r["id"] for r in response.json()] == [roles[2]]


async def test_adding_a_role_the_organization_has_changes_nothing(
    client: AsyncClient, auth: dict[str, str], make_role: Callable[..., Any]
) -> None:
    org = await org_id(client, auth)
    held, new = await make_role(name=f"a-{uuid.uuid4().hex}"), await make_role(name=f"b-{uuid.uuid4().hex}")
    assert (await client.post(roles_url(org), json={"organizationRoleIds": [held]}, headers=auth)).status_code == 201
    response = await client.post(roles_url(org), json={"organizationRoleIds": [held, new, new]}, headers=auth)
    assert response.status_code == 201
    assert await listed_roles(client, auth, org) == [held, new]


async def test_unknown_roles_or_organization_are_422(
    client: AsyncClient, auth: dict[str, str], make_role: Callable[..., Any]
) -> None:
    org = await org_id(client, auth)
    role = await make_role()
    code = "entity.relation_foreign_key_not_found"
    error(await client.post(roles_url(org), json={"organizationRoleIds": [role, "nope"]}, headers=auth), 422, code)
    error(await client.post(roles_url("no-such-org"), json={"organizationRoleIds": [role]}, headers=auth), 422, code)
    error(await client.put(roles_url("no-such-org"), json={"organizationRoleIds": [role]}, headers=auth), 422, code)
    assert await listed_roles(client, auth, org) == []


async def test_listing_roles_of_an_unknown_organization_is_404(client: AsyncClient, auth: dict[str, str]) -> None:
    error(await client.get(roles_url("no-such-org"), headers=auth), 404, "entity.not_exists_with_id")


async def test_replacing_roles(client: AsyncClient, auth: dict[str, str], make_role: Callable[..., Any]) -> None:
    org = await org_id(client, auth)
    old, new = await make_role(), await make_role()
    assert (await client.post(roles_url(org), json={"organizationRoleIds": [old]}, headers=auth)).status_code == 201
    response = await client.put(roles_url(org), json={"organizationRoleIds": [new, "nope"]}, headers=auth)
    error(response, 422, "entity.relation_foreign_key_not_found")
    assert await listed_roles(client, auth, org) == [old]  # unchanged
    assert (await client.put(roles_url(org), json={"organizationRoleIds": [new]}, headers=auth)).status_code == 204
    assert await listed_roles(client, auth, org) == [new]
    assert (await client.put(roles_url(org), json={"organizationRoleIds": []}, headers=auth)).status_code == 204
    assert await listed_roles(client, auth, org) == []


async def test_removing_a_role_the_organization_lacks_is_404(
    client: AsyncClient, auth: dict[str, str], make_role: Callable[..., Any]
) -> None:
    org = await org_id(client, auth)
    error(await client.delete(f"{roles_url(org)}/{await make_role()}", headers=auth), 404, "entity.not_found")


async def test_role_bodies_are_checked(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await org_id(client, auth)
    for body in ({"organizationRoleIds": []}, {"organizationRoleIds": [""]}, {}):
        error(await client.post(roles_url(org), json=body, headers=auth), 400, "guard.invalid_input")
    response = await client.put(roles_url(org), json={"organizationRoleIds": [""]}, headers=auth)
    error(response, 400, "guard.invalid_input")


async def test_a_deleted_role_leaves_the_rules(
    client: AsyncClient, auth: dict[str, str], make_role: Callable[..., Any]
) -> None:
    org = await org_id(client, auth)
    kept, dropped = await make_role(name=f"a-{uuid.uuid4().hex}"), await make_role(name=f"b-{uuid.uuid4().hex}")
    body = {"organizationRoleIds": [kept, dropped]}
    assert (await client.post(roles_url(org), json=body, headers=auth)).status_code == 201
    assert (await client.delete(f"/api/organization-roles/{dropped}", headers=auth)).status_code == 204
    assert await listed_roles(client, auth, org) == [kept]


async def test_machine_to_machine_roles_are_accepted_as_in_logto(
    client: AsyncClient, auth: dict[str, str], make_role: Callable[..., Any]
) -> None:
    org = await org_id(client, auth)
    role = await make_role(type="MachineToMachine")
    assert (await client.post(roles_url(org), json={"organizationRoleIds": [role]}, headers=auth)).status_code == 201
    assert await listed_roles(client, auth, org) == [role]


# enterprise SSO connectors


async def test_sso_connectors_are_added_listed_and_removed(
    client: AsyncClient, auth: dict[str, str], make_sso_connector: Callable[..., Any]
) -> None:
    org = await org_id(client, auth)
    first, second = sorted([await make_sso_connector(), await make_sso_connector()])
    body = {"ssoConnectorIds": [second, first, second]}
    response = await client.post(connectors_url(org), json=body, headers=auth)
    assert response.status_code == 201, response.text
    response = await client.get(connectors_url(org), headers=auth)
    assert "Total-Number" not in response.headers  # no pagination unless asked for, as in Logto
    listed = response.json()
    assert [c["id"] for c in listed] == [first, second]
    assert listed[0] == {  # Logto's SsoConnector row, config included
        "tenantId": "default",
        "id": first,
        "providerName": "OIDC",
        "connectorName": f"sso-{first}",
        "config": {"clientId": "client", "clientSecret": "secret", "issuer": "https://idp.example.com"},
        "domains": ["corp.example.com"],
        "branding": {"logo": "https://cdn.example.com/corp.svg"},
        "syncProfile": False,
        "enableTokenStorage": False,
        "createdAt": listed[0]["createdAt"],
    }
    assert isinstance(listed[0]["createdAt"], int)
    response = await client.get(connectors_url(org), params={"page": 2, "page_size": 1}, headers=auth)
    assert response.headers["Total-Number"] == "2"
    assert [c["id"] for c in response.json()] == [second]
    assert (await client.delete(f"{connectors_url(org)}/{first}", headers=auth)).status_code == 204
    assert await listed_connectors(client, auth, org) == [second]


async def test_adding_a_connector_the_organization_has_changes_nothing(
    client: AsyncClient, auth: dict[str, str], make_sso_connector: Callable[..., Any]
) -> None:
    org = await org_id(client, auth)
    held, new = sorted([await make_sso_connector(), await make_sso_connector()])
    assert (await client.post(connectors_url(org), json={"ssoConnectorIds": [held]}, headers=auth)).status_code == 201
    response = await client.post(connectors_url(org), json={"ssoConnectorIds": [held, new]}, headers=auth)
    assert response.status_code == 201
    assert await listed_connectors(client, auth, org) == [held, new]


async def test_unknown_connectors_or_organization_are_422(
    client: AsyncClient, auth: dict[str, str], make_sso_connector: Callable[..., Any]
) -> None:
    org = await org_id(client, auth)
    connector = await make_sso_connector()
    code = "entity.relation_foreign_key_not_found"
    body = {"ssoConnectorIds": [connector, "nope"]}
    error(await client.post(connectors_url(org), json=body, headers=auth), 422, code)
    body = {"ssoConnectorIds": [connector]}
    error(await client.post(connectors_url("no-such-org"), json=body, headers=auth), 422, code)
    error(await client.put(connectors_url("no-such-org"), json=body, headers=auth), 422, code)
    response = await client.put(connectors_url("no-such-org"), json={"ssoConnectorIds": []}, headers=auth)
    assert response.status_code == 204  # nothing to write, as in Logto
    assert await listed_connectors(client, auth, org) == []


async def test_listing_connectors_of_an_unknown_organization_is_404(client: AsyncClient, auth: dict[str, str]) -> None:
    error(await client.get(connectors_url("no-such-org"), headers=auth), 404, "entity.not_exists_with_id")


async def test_replacing_connectors(
    client: AsyncClient, auth: dict[str, str], make_sso_connector: Callable[..., Any]
) -> None:
    org = await org_id(client, auth)
    old, new = await make_sso_connector(), await make_sso_connector()
    assert (await client.post(connectors_url(org), json={"ssoConnectorIds": [old]}, headers=auth)).status_code == 201
    response = await client.put(connectors_url(org), json={"ssoConnectorIds": [new, "nope"]}, headers=auth)
    error(response, 422, "entity.relation_foreign_key_not_found")
    assert await listed_connectors(client, auth, org) == [old]  # unchanged
    response = await client.put(connectors_url(org), json={"ssoConnectorIds": [new, new]}, headers=auth)
    assert response.status_code == 204, response.text
    assert await listed_connectors(client, auth, org) == [new]
    assert (await client.put(connectors_url(org), json={"ssoConnectorIds": []}, headers=auth)).status_code == 204
    assert await listed_connectors(client, auth, org) == []


async def test_removing_a_connector_the_organization_lacks_is_404(
    client: AsyncClient, auth: dict[str, str], make_sso_connector: Callable[..., Any]
) -> None:
    org = await org_id(client, auth)
    connector = await make_sso_connector()
    error(await client.delete(f"{connectors_url(org)}/{connector}", headers=auth), 404, "entity.not_found")


async def test_connector_bodies_are_checked(client: AsyncClient, auth: dict[str, str]) -> None:
    org = await org_id(client, auth)
    for body in ({"ssoConnectorIds": []}, {"ssoConnectorIds": [""]}, {"ssoConnectorIds": "x"}, {}):
        error(await client.post(connectors_url(org), json=body, headers=auth), 400, "guard.invalid_input")
    for body in ({"ssoConnectorIds": [""]}, {}):
        error(await client.put(connectors_url(org), json=body, headers=auth), 400, "guard.invalid_input")
