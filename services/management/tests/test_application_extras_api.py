"""Application secrets, custom data, sign-in experience, access control, consent scopes, custom domains."""

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from httpx import AsyncClient


async def app_of(client: AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/applications", json={"name": "x", "type": "MachineToMachine", **body}, headers=auth
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_named_secret_lifecycle(client: AsyncClient, auth: dict[str, str]) -> None:
    app = await app_of(client, auth)
    base = f"/api/applications/{app['id']}/secrets"
    expires = int(time.time() * 1000) + 3_600_000
    created = await client.post(base, json={"name": "ci", "expiresAt": expires}, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["expiresAt"] == expires and len(created.json()["value"]) == 32
    dup = await client.post(base, json={"name": "ci"}, headers=auth)
    assert dup.status_code == 422 and dup.json()["code"] == "application.secret_name_exists"
    past = await client.post(base, json={"name": "old", "expiresAt": 1000}, headers=auth)
    assert past.status_code == 400
    renamed = await client.patch(f"{base}/ci", json={"name": "deploy"}, headers=auth)
    assert renamed.status_code == 200 and renamed.json()["name"] == "deploy"
    assert sorted(s["name"] for s in (await client.get(base, headers=auth)).json()) == ["Default secret", "deploy"]
    assert (await client.delete(f"{base}/deploy", headers=auth)).status_code == 204
    missing = await client.delete(f"{base}/deploy", headers=auth)
    assert missing.status_code == 404


async def test_legacy_secret_can_be_deleted_once(client: AsyncClient, auth: dict[str, str]) -> None:
    app = await app_of(client, auth)
    first = await client.delete(f"/api/applications/{app['id']}/legacy-secret", headers=auth)
    assert first.status_code == 200 and first.json()["id"] == app["id"] and "secret" not in first.json()
    again = await client.delete(f"/api/applications/{app['id']}/legacy-secret", headers=auth)
    assert again.status_code == 400 and again.json()["code"] == "application.no_legacy_secret_found"


async def test_custom_data_patch_merges(client: AsyncClient, auth: dict[str, str]) -> None:
    app = await app_of(client, auth, customData={"a": 1, "b": {"c": 2}})
    response = await client.patch(f"/api/applications/{app['id']}/custom-data", json={"b": 3, "d": 4}, headers=auth)
    assert response.status_code == 200 and response.json() == {"a": 1, "b": 3, "d": 4}
    assert (await client.get(f"/api/applications/{app['id']}", headers=auth)).json()["customData"] == response.json()
    bad = await client.patch(f"/api/applications/{app['id']}/custom-data", json=[1], headers=auth)
    assert bad.status_code == 400


async def test_sign_in_experience_create_then_replace(client: AsyncClient, auth: dict[str, str]) -> None:
    app = await app_of(client, auth, type="Traditional", isThirdParty=True)
    url = f"/api/applications/{app['id']}/sign-in-experience"
    assert (await client.get(url, headers=auth)).status_code == 404
    body = {
        "termsOfUseUrl": "https://t.example/terms",
        "privacyPolicyUrl": "",
        "displayName": "Shop",
        "color": {"primaryColor": "#ff0000"},
        "branding": {"logoUrl": "https://t.example/logo.png"},
    }
    created = await client.put(url, json=body, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["privacyPolicyUrl"] is None and created.json()["color"] == {"primaryColor": "#ff0000"}
    replaced = await client.put(url, json={**body, "displayName": "Shop 2"}, headers=auth)
    assert replaced.status_code == 200 and replaced.json()["displayName"] == "Shop 2"
    assert (await client.get(url, headers=auth)).json() == replaced.json()
    bad = await client.put(url, json={**body, "color": {"primaryColor": "red"}}, headers=auth)
    assert bad.status_code == 400
    bad_url = await client.put(url, json={**body, "termsOfUseUrl": "ftp://x"}, headers=auth)
    assert bad_url.status_code == 400


async def test_access_control_defaults_and_validation(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any]
) -> None:
    app = await app_of(client, auth, type="Traditional")
    url = f"/api/applications/{app['id']}/access-control"
    empty = {"userIds": [], "userRoleIds": [], "organizationIds": [], "organizationRoleRules": []}
    assert (await client.get(url, headers=auth)).json() == empty
    user = await make_user()
    role = (
        await client.post("/api/roles", json={"name": f"ac-{uuid.uuid4().hex[:6]}", "description": "d"}, headers=auth)
    ).json()
    rules = {**empty, "userIds": [user], "userRoleIds": [role["id"]]}
    assert (await client.put(url, json=rules, headers=auth)).json() == rules
    assert (await client.get(url, headers=auth)).json() == rules
    ghost = await client.put(url, json={**empty, "userIds": ["ghost"]}, headers=auth)
    assert ghost.status_code == 404
    no_org = await client.put(url, json={**empty, "organizationIds": ["nope"]}, headers=auth)
    assert no_org.status_code == 404
    empty_group = await client.put(
        url, json={**empty, "organizationRoleRules": [{"organizationId": "o", "organizationRoleIds": []}]}, headers=auth
    )
    assert empty_group.status_code == 422


async def test_consent_scopes_for_third_party_apps(client: AsyncClient, auth: dict[str, str]) -> None:
    app = await app_of(client, auth, type="Traditional", isThirdParty=True)
    resource = (
        await client.post(
            "/api/resources", json={"name": "Shop", "indicator": f"https://{uuid.uuid4().hex}"}, headers=auth
        )
    ).json()
    scope = (await client.post(f"/api/resources/{resource['id']}/scopes", json={"name": "read"}, headers=auth)).json()
    url = f"/api/applications/{app['id']}/user-consent-scopes"
    created = await client.post(
        url, json={"resourceScopes": [scope["id"]], "userScopes": ["email", "profile"]}, headers=auth
    )
    assert created.status_code == 201, created.text
    listed = (await client.get(url, headers=auth)).json()
    assert listed["userScopes"] == ["email", "profile"] and listed["organizationScopes"] == []
    assert listed["resourceScopes"] == [
        {
            "resource": {"id": resource["id"], "name": "Shop", "indicator": resource["indicator"]},
            "scopes": [{"id": scope["id"], "name": "read", "description": None}],
        }
    ]
    unknown = await client.post(url, json={"resourceScopes": ["nope"]}, headers=auth)
    assert unknown.status_code == 422 and unknown.json()["code"] == "application.user_consent_scopes_not_found"
    bad_user_scope = await client.post(url, json={"userScopes": ["everything"]}, headers=auth)
    assert bad_user_scope.status_code == 400
    assert (await client.delete(f"{url}/user-scopes/email", headers=auth)).status_code == 204
    assert (await client.delete(f"{url}/resource-scopes/{scope['id']}", headers=auth)).status_code == 204
    assert (await client.delete(f"{url}/resource-scopes/{scope['id']}", headers=auth)).status_code == 404
    assert (await client.delete(f"{url}/bogus/{scope['id']}", headers=auth)).status_code == 400
    assert (await client.get(url, headers=auth)).json()["userScopes"] == ["profile"]


async def test_consent_scopes_need_a_third_party_app(client: AsyncClient, auth: dict[str, str]) -> None:
    app = await app_of(client, auth, type="Traditional")
    response = await client.post(
        f"/api/applications/{app['id']}/user-consent-scopes", json={"userScopes": ["email"]}, headers=auth
    )
    assert response.status_code == 400 and response.json()["code"] == "application.third_party_application_only"


@pytest.mark.parametrize("method", ["get", "post", "delete"])
async def test_custom_domains_need_a_protected_app(client: AsyncClient, auth: dict[str, str], method: str) -> None:
    app = await app_of(client, auth)
    url = f"/api/applications/{app['id']}/protected-app-metadata/custom-domains"
    if method == "post":
        response = await client.post(url, json={"domain": "a.example"}, headers=auth)
    elif method == "delete":
        response = await client.delete(f"{url}/a.example", headers=auth)
    else:
        response = await client.get(url, headers=auth)
    assert response.status_code == 400 and response.json()["code"] == "application.protected_application_only"
    missing = await client.get("/api/applications/nope/protected-app-metadata/custom-domains", headers=auth)
    assert missing.status_code == 404
