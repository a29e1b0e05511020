"""Applications routes against real PostgreSQL and NATS, with Logto's shapes and errors."""

import asyncio
from typing import Any

import msgspec
import nats
import pytest
from httpx import AsyncClient

SPA = {
    "name": "spa",
    "type": "SPA",
    "oidcClientMetadata": {"redirectUris": ["https://spa.example/cb"], "postLogoutRedirectUris": []},
}


async def create(client: AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    payload = {k: v for k, v in {**SPA, **body}.items() if v is not None}
    response = await client.post("/api/applications", json=payload, headers=auth)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_create_then_get_application(client: AsyncClient, auth: dict[str, str]) -> None:
    body = await create(
        client,
        auth,
        name="web",
        type="Traditional",
        oidcClientMetadata={"redirectUris": ["https://a.example/cb"], "postLogoutRedirectUris": []},
    )
    assert "secret" not in body
    assert body["tenantId"] == "default" and len(body["id"]) == 21
    assert body["customClientMetadata"] == {} and body["customData"] == {} and body["isThirdParty"] is False
    fetched = await client.get(f"/api/applications/{body['id']}", headers=auth)
    assert fetched.status_code == 200
    assert fetched.json() == body


async def test_confidential_app_gets_a_default_secret(client: AsyncClient, auth: dict[str, str]) -> None:
    app = await create(client, auth, name="m2m", type="MachineToMachine", oidcClientMetadata=None)
    secrets = (await client.get(f"/api/applications/{app['id']}/secrets", headers=auth)).json()
    assert [s["name"] for s in secrets] == ["Default secret"]
    assert secrets[0]["applicationId"] == app["id"] and len(secrets[0]["value"]) == 32
    assert secrets[0]["expiresAt"] is None


async def test_public_app_has_no_secret(client: AsyncClient, auth: dict[str, str]) -> None:
    app = await create(client, auth)
    assert (await client.get(f"/api/applications/{app['id']}/secrets", headers=auth)).json() == []


async def test_list_paginates_with_total_number(client: AsyncClient, auth: dict[str, str]) -> None:
    for i in range(3):
        await create(
            client,
            auth,
            name=f"paged-{i}",
            type="Native",
            oidcClientMetadata={"redirectUris": ["io.app://cb"], "postLogoutRedirectUris": []},
        )
    response = await client.get("/api/applications?page=1&page_size=2&types=Native", headers=auth)
    assert response.status_code == 200
    assert int(response.headers["total-number"]) >= 3
    assert len(response.json()) == 2
    assert all(a["type"] == "Native" for a in response.json())


async def test_list_without_pagination_returns_everything(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.get("/api/applications", headers=auth)
    assert response.status_code == 200
    assert "total-number" not in response.headers


async def test_patch_merges_custom_data_and_keeps_other_fields(client: AsyncClient, auth: dict[str, str]) -> None:
    app = await create(client, auth, customData={"a": 1})
    response = await client.patch(
        f"/api/applications/{app['id']}", json={"name": "renamed", "customData": {"b": 2}}, headers=auth
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["name"] == "renamed" and patched["customData"] == {"a": 1, "b": 2}
    assert patched["oidcClientMetadata"] == app["oidcClientMetadata"]


async def test_delete_then_get_is_404(client: AsyncClient, auth: dict[str, str]) -> None:
    app = await create(client, auth)
    assert (await client.delete(f"/api/applications/{app['id']}", headers=auth)).status_code == 204
    missing = await client.get(f"/api/applications/{app['id']}", headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "entity.not_exists_with_id",
        "message": f"The application with ID `{app['id']}` does not exist.",
    }


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"type": "SPA"}, 400, "guard.invalid_input"),
        ({"name": "x", "type": "Robot"}, 400, "guard.invalid_input"),
        ({"name": 5, "type": "SPA"}, 400, "guard.invalid_input"),
        ({"name": "", "type": "SPA"}, 400, "guard.invalid_input"),
        (
            {
                "name": "x",
                "type": "SPA",
                "oidcClientMetadata": {"redirectUris": ["not a uri"], "postLogoutRedirectUris": []},
            },
            400,
            "guard.invalid_input",
        ),
        ({"name": "x", "type": "Protected"}, 400, "application.protected_app_not_configured"),
        ({"name": "x", "type": "SAML"}, 400, "application.saml.use_saml_app_api"),
        (
            {"name": "x", "type": "MachineToMachine", "isThirdParty": True},
            400,
            "application.invalid_third_party_application_type",
        ),
    ],
)
async def test_bad_create_input_is_a_4xx_in_logto_shape(
    client: AsyncClient, auth: dict[str, str], body: dict[str, Any], status: int, code: str
) -> None:
    response = await client.post("/api/applications", json=body, headers=auth)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert isinstance(response.json()["message"], str)


async def test_malformed_json_is_400(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post(
        "/api/applications", content=b"{nope", headers={**auth, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "guard.invalid_input"


@pytest.mark.parametrize("query", ["page=0", "page_size=0", "page_size=101", "page=x"])
async def test_bad_pagination_is_400(client: AsyncClient, auth: dict[str, str], query: str) -> None:
    response = await client.get(f"/api/applications?{query}", headers=auth)
    assert response.status_code == 400
    assert response.json()["code"] == "guard.invalid_pagination"


async def test_patch_unknown_application_is_404(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.patch("/api/applications/nope", json={"name": "x"}, headers=auth)
    assert response.status_code == 404
    assert response.json()["code"] == "entity.not_exists_with_id"


async def test_management_api_requires_a_token(client: AsyncClient) -> None:
    response = await client.get("/api/applications")
    assert response.status_code == 401
    assert response.json()["code"] == "auth.authorization_header_missing"


async def test_token_for_another_resource_is_rejected(client: AsyncClient, test_issuer: Any) -> None:
    headers = test_issuer.management_headers(audience="https://other.example/api")
    assert (await client.get("/api/applications", headers=headers)).status_code == 401


async def test_token_without_all_scope_is_forbidden(client: AsyncClient, test_issuer: Any) -> None:
    response = await client.get("/api/applications", headers=test_issuer.management_headers(scope="read"))
    assert response.status_code == 403
    assert response.json()["code"] == "auth.forbidden"


async def test_application_changes_are_published_as_events(
    client: AsyncClient, auth: dict[str, str], nats_url: str, subject_prefix: str
) -> None:
    nc = await nats.connect(nats_url)
    received: asyncio.Queue[Any] = asyncio.Queue()
    sub = await nc.subscribe(f"{subject_prefix}.evt.default.management.Application.>", cb=received.put)
    try:
        app = await create(client, auth, name="evented")
        await client.patch(f"/api/applications/{app['id']}", json={"description": "d"}, headers=auth)
        await client.delete(f"/api/applications/{app['id']}", headers=auth)
        seen: list[tuple[str, str]] = []
        while len([s for s in seen if s[1] == app["id"]]) < 3:
            msg = await asyncio.wait_for(received.get(), 5)
            event = msgspec.json.decode(msg.data)
            seen.append((event["type"], event["subject"]))
            assert msg.headers["Nats-Msg-Id"] == event["id"]
            assert event["specversion"] == "1.0" and event["source"] == "/gatehouse/management"
            assert "secret" not in msg.data.decode().lower() or "default secret" not in msg.data.decode().lower()
        ours = [t for t, s in seen if s == app["id"]]
        assert ours == ["Application.Created", "Application.Data.Updated", "Application.Deleted"]
    finally:
        await sub.unsubscribe()
        await nc.close()


async def test_list_page_past_the_end_keeps_the_total_and_filters_combine(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    everything = await client.get("/api/applications", headers=auth)
    total = len(everything.json())
    past = await client.get(f"/api/applications?page={total + 1}&page_size=1", headers=auth)
    assert past.status_code == 200 and past.json() == [] and past.headers["total-number"] == str(total)
    first = await client.get("/api/applications?page=1&page_size=1", headers=auth)
    assert [a["id"] for a in first.json()] == [everything.json()[0]["id"]]  # newest first, the same order
    third_party = await client.get("/api/applications?page=1&page_size=100&isThirdParty=true&types=SPA", headers=auth)
    expected = [a["id"] for a in everything.json() if a["isThirdParty"] and a["type"] == "SPA"]
    assert [a["id"] for a in third_party.json()] == expected[:100]
    assert third_party.headers["total-number"] == str(len(expected))
