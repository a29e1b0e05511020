"""Connector factories: the factories Gatehouse ships (`oidc`, `oauth2`), shown as Logto shows its own."""

from httpx import AsyncClient

PATH = "/api/connector-factories"
REQUIRED = {"type", "id", "target", "name", "description", "logo", "logoDark", "readme", "platform"}


async def test_lists_the_shipped_factories_as_logto_shows_them(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.get(PATH, headers=auth)
    assert response.status_code == 200, response.text
    factories = {factory["id"]: factory for factory in response.json()}
    assert {"oidc", "oauth2"} <= set(factories)
    for factory_id in ("oidc", "oauth2"):
        factory = factories[factory_id]
        assert REQUIRED <= set(factory), factory
        assert factory["type"] == "Social" and factory["target"] == factory_id and factory["platform"] == "Universal"
        assert factory["isStandard"] is True and factory["isTokenStorageSupported"] is True
        assert factory["isDemo"] is False and factory["name"]["en"] and factory["formItems"]
    assert factories["oidc"]["name"] == {"en": "OIDC"} and factories["oauth2"]["name"] == {"en": "OAuth 2.0"}


async def test_gets_a_factory_by_id(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.get(f"{PATH}/oidc", headers=auth)
    assert response.status_code == 200, response.text
    listed = next(f for f in (await client.get(PATH, headers=auth)).json() if f["id"] == "oidc")
    assert response.json() == listed


async def test_unknown_factory_is_404_entity_not_found(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.get(f"{PATH}/google-universal", headers=auth)
    assert response.status_code == 404 and response.json()["code"] == "entity.not_found"
