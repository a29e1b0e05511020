from typing import Any

from litestar.testing import AsyncTestClient


async def test_create_then_get_application(client: AsyncTestClient[Any], auth: dict[str, str]) -> None:
    created = await client.post(
        "/api/applications",
        json={"name": "web", "type": "Traditional",
              "oidcClientMetadata": {"redirectUris": ["https://a.example/cb"], "postLogoutRedirectUris": []}},
        headers=auth,
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert "secret" not in body
    fetched = await client.get(f"/api/applications/{body['id']}", headers=auth)
    assert fetched.status_code == 200
    assert fetched.json() == body
