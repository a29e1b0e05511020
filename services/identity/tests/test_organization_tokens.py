"""Logto's organization tokens and organization claims: refresh_token, client_credentials and token exchange
with `organization_id`, and `organizations` / `organization_data` / `organization_roles` in userinfo and ID
tokens. The organizations context's rows are written here as that service would write them."""

import base64
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.ids import generate_id, generate_secret
from gatehouse_schema.tables import management as m
from gatehouse_schema.tables import organizations as o
from gatehouse_schema.tables.identity import token_configs, users
from gatehouse_testing.oidc_flow import FlowApp, make_flow_app, sign_in_and_exchange, verify_jwt
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

ORG_RESOURCE = "urn:logto:resource:organizations"
ORG_SCOPE = "urn:logto:scope:organizations"
ORG_ROLES_SCOPE = "urn:logto:scope:organization_roles"
API = "https://org-api.example.com"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"


@dataclass
class Org:
    """An organization with a template of its own: role name -> (organization scopes, API scopes)."""

    id: str
    roles: dict[str, str] = field(default_factory=dict)  # role name -> role id


async def make_org(
    db: AsyncEngine,
    roles: dict[str, tuple[list[str], list[str]]],
    *,
    mfa_required: bool = False,
    role_type: str = "User",
) -> Org:
    org = Org(generate_id())
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(o.organizations).values(
                tenant_id="default",
                id=org.id,
                name=f"org-{org.id}",
                description="an organization",
                custom_data={},
                is_mfa_required=mfa_required,
                branding={},
                color={},
                created_at=sa.func.now(),
            )
        )
        resource_id = await _api_resource(conn)
        for role_name, (org_scopes, api_scopes) in roles.items():
            role_id = generate_id()
            org.roles[role_name] = role_id
            await conn.execute(
                sa.insert(o.organization_roles).values(
                    tenant_id="default", id=role_id, name=f"{role_name}-{role_id}", description=None, type=role_type
                )
            )
            for name in org_scopes:  # the template's scopes are shared by every organization
                scope_id = (
                    await conn.execute(
                        sa.select(o.organization_scopes.c.id).where(
                            o.organization_scopes.c.tenant_id == "default", o.organization_scopes.c.name == name
                        )
                    )
                ).scalar()
                if scope_id is None:
                    scope_id = generate_id()
                    await conn.execute(
                        sa.insert(o.organization_scopes).values(
                            tenant_id="default", id=scope_id, name=name, description=None
                        )
                    )
                await conn.execute(
                    sa.insert(o.organization_role_scope_relations).values(
                        tenant_id="default", organization_role_id=role_id, organization_scope_id=scope_id
                    )
                )
            for name in api_scopes:
                scope_id = (
                    await conn.execute(
                        sa.select(m.scopes.c.id).where(
                            m.scopes.c.tenant_id == "default",
                            m.scopes.c.resource_id == resource_id,
                            m.scopes.c.name == name,
                        )
                    )
                ).scalar()
                if scope_id is None:
                    scope_id = generate_id()
                    await conn.execute(
                        sa.insert(m.scopes).values(tenant_id="default", id=scope_id, resource_id=resource_id, name=name)
                    )
                await conn.execute(
                    sa.insert(o.organization_role_resource_scope_relations).values(
                        tenant_id="default", organization_role_id=role_id, scope_id=scope_id
                    )
                )
    return org


async def _api_resource(conn: Any) -> str:
    found = (
        await conn.execute(
            sa.select(m.resources.c.id).where(m.resources.c.tenant_id == "default", m.resources.c.indicator == API)
        )
    ).scalar()
    if found is not None:
        return str(found)
    resource_id = generate_id()
    await conn.execute(
        sa.insert(m.resources).values(
            tenant_id="default", id=resource_id, name="Org API", indicator=API, is_default=False, access_token_ttl=900
        )
    )
    return resource_id


async def add_user(db: AsyncEngine, org: Org, user_id: str, *roles: str) -> None:
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(o.organization_user_relations).values(
                tenant_id="default", organization_id=org.id, user_id=user_id, created_at=sa.func.now()
            )
        )
        for role in roles:
            await conn.execute(
                sa.insert(o.organization_role_user_relations).values(
                    tenant_id="default", organization_id=org.id, organization_role_id=org.roles[role], user_id=user_id
                )
            )


async def add_application(db: AsyncEngine, org: Org, app_id: str, *roles: str) -> None:
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(o.organization_application_relations).values(
                tenant_id="default", organization_id=org.id, application_id=app_id, created_at=sa.func.now()
            )
        )
        for role in roles:
            await conn.execute(
                sa.insert(o.organization_role_application_relations).values(
                    tenant_id="default",
                    organization_id=org.id,
                    organization_role_id=org.roles[role],
                    application_id=app_id,
                )
            )


async def make_user(client: AsyncClient, auth: dict[str, str]) -> str:
    response = await client.post("/api/users", json={"username": f"u{generate_id()[:10]}"}, headers=auth)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def refresh(client: AsyncClient, app: FlowApp, token: str, **extra: str) -> Response:
    return await client.post(
        "/oidc/token", data={"grant_type": "refresh_token", "refresh_token": token, **extra}, headers=app.auth()
    )


async def signed_in(
    client: AsyncClient,
    browser: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    user_id: str,
    scope: str,
    *resources: str,
    third_party: bool = False,
) -> tuple[FlowApp, dict[str, Any]]:
    app = await make_flow_app(db, third_party=third_party)
    async with db.begin() as conn:  # keep refresh tokens valid when reused, so a test can ask several times
        await conn.execute(
            sa.update(m.applications)
            .where(m.applications.c.id == app.id)
            .values(custom_client_metadata={"rotateRefreshToken": False})
        )
    tokens = await sign_in_and_exchange(
        client, browser, rpc, app, user_id, scope=scope, resources=resources, consent=third_party
    )
    return app, tokens


async def test_refresh_with_organization_id_gives_an_organization_token(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user_id = await make_user(client, auth)
    org = await make_org(db, {"admin": (["read:members", "invite:members"], []), "viewer": (["read:members"], [])})
    await add_user(db, org, user_id, "viewer")
    scope = f"openid offline_access {ORG_SCOPE} read:members invite:members"
    app, tokens = await signed_in(client, browser, rpc, db, user_id, scope, ORG_RESOURCE)

    response = await refresh(client, app, tokens["refresh_token"], organization_id=org.id)
    assert response.status_code == 200, response.text
    header, claims = await verify_jwt(client, response.json()["access_token"])
    assert header["typ"] == "at+jwt"
    assert claims["aud"] == f"urn:logto:organization:{org.id}"
    assert claims["sub"] == user_id and claims["client_id"] == app.id
    assert claims["scope"] == "read:members"  # granted at sign-in, and what the viewer role allows
    assert "organization_id" not in claims  # the audience names the organization

    # a new role takes effect on the next token
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(o.organization_role_user_relations).values(
                tenant_id="default", organization_id=org.id, organization_role_id=org.roles["admin"], user_id=user_id
            )
        )
    again = await refresh(client, app, tokens["refresh_token"], organization_id=org.id)
    _, claims = await verify_jwt(client, again.json()["access_token"])
    assert sorted(claims["scope"].split()) == ["invite:members", "read:members"]

    # `scope` narrows to what was granted under the organizations resource
    narrowed = await refresh(client, app, tokens["refresh_token"], organization_id=org.id, scope="invite:members")
    _, claims = await verify_jwt(client, narrowed.json()["access_token"])
    assert claims["scope"] == "invite:members"
    unknown = await refresh(client, app, tokens["refresh_token"], organization_id=org.id, scope="delete:org")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_scope"


async def test_organization_token_is_refused_to_non_members_and_without_the_organizations_scope(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user_id = await make_user(client, auth)
    org = await make_org(db, {"viewer": (["read:things"], [])})
    app, tokens = await signed_in(client, browser, rpc, db, user_id, f"openid offline_access {ORG_SCOPE}", ORG_RESOURCE)
    not_member = await refresh(client, app, tokens["refresh_token"], organization_id=org.id)
    assert not_member.status_code == 400
    assert not_member.json()["error"] == "access_denied" and not_member.json()["code"] == "oidc.access_denied"
    unknown_org = await refresh(client, app, tokens["refresh_token"], organization_id="no-such-org")
    assert unknown_org.status_code == 400 and unknown_org.json()["error"] == "access_denied"

    await add_user(db, org, user_id, "viewer")
    app2, plain = await signed_in(client, browser, rpc, db, user_id, "openid offline_access")
    missing_scope = await refresh(client, app2, plain["refresh_token"], organization_id=org.id)
    assert missing_scope.status_code == 403, missing_scope.text
    assert missing_scope.json()["error"] == "insufficient_scope"
    # the refresh token is still good for an ordinary refresh
    assert (await refresh(client, app2, plain["refresh_token"])).status_code == 200


async def test_organization_requiring_mfa_refuses_members_without_mfa(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user_id = await make_user(client, auth)
    org = await make_org(db, {"viewer": (["read:secure"], [])}, mfa_required=True)
    await add_user(db, org, user_id, "viewer")
    scope = f"openid offline_access {ORG_SCOPE} read:secure"
    app, tokens = await signed_in(client, browser, rpc, db, user_id, scope, ORG_RESOURCE)
    refused = await refresh(client, app, tokens["refresh_token"], organization_id=org.id)
    assert refused.status_code == 400 and refused.json()["error"] == "access_denied"
    assert "MFA" in refused.json()["error_description"]
    async with db.begin() as conn:
        await conn.execute(
            sa.update(users)
            .where(users.c.tenant_id == "default", users.c.id == user_id)
            .values(mfa_verifications=[{"id": "m1", "type": "Totp", "key": "K", "createdAt": "2026-01-01T00:00:00Z"}])
        )
    allowed = await refresh(client, app, tokens["refresh_token"], organization_id=org.id)
    assert allowed.status_code == 200, allowed.text
    _, claims = await verify_jwt(client, allowed.json()["access_token"])
    assert claims["scope"] == "read:secure"


async def test_refresh_with_resource_and_organization_id_gives_organization_level_api_scopes(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user_id = await make_user(client, auth)
    org = await make_org(db, {"editor": ([], ["api:read", "api:write"])})
    await add_user(db, org, user_id, "editor")
    scope = f"openid offline_access {ORG_SCOPE} api:read api:write api:admin"
    app, tokens = await signed_in(client, browser, rpc, db, user_id, scope, API)
    response = await refresh(client, app, tokens["refresh_token"], organization_id=org.id, resource=API)
    assert response.status_code == 200, response.text
    _, claims = await verify_jwt(client, response.json()["access_token"])
    assert claims["aud"] == API and claims["organization_id"] == org.id
    assert sorted(claims["scope"].split()) == ["api:read", "api:write"]  # api:admin: no organization role has it
    assert claims["exp"] - claims["iat"] == 900  # the resource's TTL
    # without the organization, the user's global roles decide: none here
    global_token = await refresh(client, app, tokens["refresh_token"], resource=API)
    _, claims = await verify_jwt(client, global_token.json()["access_token"])
    assert claims["scope"] == "" and "organization_id" not in claims


@dataclass(frozen=True)
class M2M:
    id: str
    secret: str

    def auth(self) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{self.id}:{self.secret}".encode()).decode()}


async def make_m2m(db: AsyncEngine, **custom: Any) -> M2M:
    app = M2M(generate_id(), generate_secret())
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(m.applications).values(
                tenant_id="default",
                id=app.id,
                name="m2m",
                secret=app.secret,
                type="MachineToMachine",
                oidc_client_metadata={"redirectUris": [], "postLogoutRedirectUris": []},
                custom_client_metadata=custom,
                custom_data={},
                is_third_party=False,
                app_level_access_control_enabled=False,
            )
        )
    return app


async def test_client_credentials_with_organization_id(client: AsyncClient, db: AsyncEngine) -> None:
    app = await make_m2m(db)
    org = await make_org(
        db, {"bot": (["sync:members"], ["api:read"]), "other": (["delete:org"], [])}, role_type="MachineToMachine"
    )

    async def token(**form: str) -> Response:
        return await client.post("/oidc/token", data={"grant_type": "client_credentials", **form}, headers=app.auth())

    not_member = await token(organization_id=org.id)
    assert not_member.status_code == 400 and not_member.json()["error"] == "access_denied"
    await add_application(db, org, app.id, "bot")

    response = await token(organization_id=org.id)
    assert response.status_code == 200, response.text
    _, claims = await verify_jwt(client, response.json()["access_token"])
    assert claims["aud"] == f"urn:logto:organization:{org.id}"
    assert claims["sub"] == app.id and claims["scope"] == "sync:members"
    assert (await token(organization_id=org.id, scope="delete:org")).json()["error"] == "invalid_scope"

    with_resource = await token(organization_id=org.id, resource=API)
    assert with_resource.status_code == 200, with_resource.text
    _, claims = await verify_jwt(client, with_resource.json()["access_token"])
    assert claims["aud"] == API and claims["scope"] == "api:read" and claims["organization_id"] == org.id
    unknown = await token(organization_id=org.id, resource="https://unknown.example.com")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_target"
    # still: no resource and no organization is invalid_target
    assert (await token()).json()["error"] == "invalid_target"


async def test_token_exchange_with_organization_id(client: AsyncClient, db: AsyncEngine, auth: dict[str, str]) -> None:
    user_id = await make_user(client, auth)
    org = await make_org(db, {"member": (["read:projects"], [])})
    app = await make_m2m(db, allowTokenExchange=True)

    async def exchange(**form: str) -> Response:
        subject = await client.post("/api/subject-tokens", json={"userId": user_id}, headers=auth)
        assert subject.status_code == 201, subject.text
        data = {
            "grant_type": EXCHANGE,
            "subject_token": subject.json()["subjectToken"],
            "subject_token_type": ACCESS_TOKEN,
            **form,
        }
        return await client.post("/oidc/token", data=data, headers=app.auth())

    assert (await exchange(organization_id=org.id)).json()["error"] == "access_denied"
    await add_user(db, org, user_id, "member")
    response = await exchange(organization_id=org.id, scope="read:projects write:projects")
    assert response.status_code == 200, response.text
    _, claims = await verify_jwt(client, response.json()["access_token"])
    assert claims["aud"] == f"urn:logto:organization:{org.id}" and claims["sub"] == user_id
    assert claims["scope"] == "read:projects"


async def test_organization_claims_in_userinfo_and_in_the_id_token_when_enabled(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user_id = await make_user(client, auth)
    first = await make_org(db, {"admin": ([], []), "viewer": ([], [])})
    second = await make_org(db, {"viewer": ([], [])})
    await add_user(db, first, user_id, "admin", "viewer")
    await add_user(db, second, user_id)
    scope = f"openid offline_access {ORG_SCOPE} {ORG_ROLES_SCOPE}"
    app, tokens = await signed_in(client, browser, rpc, db, user_id, scope)

    info = await client.get("/oidc/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["organizations"] == [first.id, second.id]
    assert body["organization_data"] == [
        {"id": first.id, "name": f"org-{first.id}", "description": "an organization"},
        {"id": second.id, "name": f"org-{second.id}", "description": "an organization"},
    ]
    assert sorted(body["organization_roles"]) == sorted(
        [f"{first.id}:admin-{first.roles['admin']}", f"{first.id}:viewer-{first.roles['viewer']}"]
    )
    _, id_claims = await verify_jwt(client, tokens["id_token"])
    assert "organizations" not in id_claims  # not enabled for ID tokens

    put = await client.put(
        "/api/configs/id-token", json={"enabledExtendedClaims": ["organizations", "organization_roles"]}, headers=auth
    )
    assert put.status_code == 200, put.text
    try:
        refreshed = await refresh(client, app, tokens["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text
        _, id_claims = await verify_jwt(client, refreshed.json()["id_token"])
        assert id_claims["organizations"] == [first.id, second.id]
        assert len(id_claims["organization_roles"]) == 2
        assert "organization_data" not in id_claims  # not enabled
    finally:  # back to no config at all (other tests start from Logto's "not written yet")
        await client.put("/api/configs/id-token", json={"enabledExtendedClaims": []}, headers=auth)
        async with db.begin() as conn:
            await conn.execute(
                sa.delete(token_configs).where(token_configs.c.tenant_id == "default", token_configs.c.key == "idToken")
            )


async def test_discovery_advertises_the_organization_scopes_and_claims(client: AsyncClient) -> None:
    doc = (await client.get("/oidc/.well-known/openid-configuration")).json()
    assert {ORG_SCOPE, ORG_ROLES_SCOPE} <= set(doc["scopes_supported"])
    assert {"organizations", "organization_data", "organization_roles", "sso_identities"} <= set(
        doc["claims_supported"]
    )


async def consent_organizations(db: AsyncEngine, app: FlowApp, user_id: str, *orgs: Org) -> None:
    """The user consents the application to these organizations (as the organizations service writes it)."""
    async with db.begin() as conn:
        for org in orgs:
            await conn.execute(
                sa.insert(o.application_user_consent_organizations).values(
                    tenant_id="default", application_id=app.id, user_id=user_id, organization_id=org.id
                )
            )


async def test_third_party_app_gets_only_the_organizations_the_user_consented_it_to(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user_id = await make_user(client, auth)
    consented = await make_org(db, {"viewer": (["read:docs"], [])})
    other = await make_org(db, {"viewer": (["read:docs"], [])})
    await add_user(db, consented, user_id, "viewer")
    await add_user(db, other, user_id, "viewer")
    scope = f"openid offline_access {ORG_SCOPE} {ORG_ROLES_SCOPE} read:docs"
    app, tokens = await signed_in(client, browser, rpc, db, user_id, scope, ORG_RESOURCE, third_party=True)

    refused = await refresh(client, app, tokens["refresh_token"], organization_id=consented.id)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "access_denied"
    assert refused.json()["error_description"] == "organization access is not granted to the application"
    info = await client.get("/oidc/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200, info.text
    assert info.json()["organizations"] == [] and info.json()["organization_roles"] == []

    await consent_organizations(db, app, user_id, consented)
    granted = await refresh(client, app, tokens["refresh_token"], organization_id=consented.id)
    assert granted.status_code == 200, granted.text
    _, claims = await verify_jwt(client, granted.json()["access_token"])
    assert claims["aud"] == f"urn:logto:organization:{consented.id}" and claims["scope"] == "read:docs"
    still_refused = await refresh(client, app, tokens["refresh_token"], organization_id=other.id)
    assert still_refused.json()["error"] == "access_denied"

    info = await client.get("/oidc/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    body = info.json()
    assert body["organizations"] == [consented.id]
    assert body["organization_data"] == [
        {"id": consented.id, "name": f"org-{consented.id}", "description": "an organization"}
    ]
    assert body["organization_roles"] == [f"{consented.id}:viewer-{consented.roles['viewer']}"]

    put = await client.put("/api/configs/id-token", json={"enabledExtendedClaims": ["organizations"]}, headers=auth)
    assert put.status_code == 200, put.text
    try:
        refreshed = await refresh(client, app, tokens["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text
        _, id_claims = await verify_jwt(client, refreshed.json()["id_token"])
        assert id_claims["organizations"] == [consented.id]
    finally:  # back to no config at all (other tests start from Logto's "not written yet")
        await client.put("/api/configs/id-token", json={"enabledExtendedClaims": []}, headers=auth)
        async with db.begin() as conn:
            await conn.execute(
                sa.delete(token_configs).where(token_configs.c.tenant_id == "default", token_configs.c.key == "idToken")
            )

    # a first-party app of the same user needs no consent and sees every organization
    first_party, first_tokens = await signed_in(client, browser, rpc, db, user_id, scope, ORG_RESOURCE)
    assert (
        await refresh(client, first_party, first_tokens["refresh_token"], organization_id=other.id)
    ).status_code == 200
    info = await client.get("/oidc/me", headers={"Authorization": f"Bearer {first_tokens['access_token']}"})
    assert sorted(info.json()["organizations"]) == sorted([consented.id, other.id])
