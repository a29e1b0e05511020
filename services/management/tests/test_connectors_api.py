"""Connectors: Logto's rules for creating, updating and deleting instances of the shipped factories, the record it
returns, the authorization URI, the sign-in experience's social targets and the `Connector.*` events.

Gatehouse ships two standard Social factories; the rules for the other kinds (non-standard, Email) are checked
with test factories added to `FACTORIES` for one test."""

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_connectors import FACTORIES, ConnectorFactory
from gatehouse_connectors.metadata import FactoryMetadata
from gatehouse_management.seed import seed_tenant
from gatehouse_management.services.sign_in_experience import default_settings
from gatehouse_platform.db import create_engine
from gatehouse_schema.tables.management import connectors, outbox, sign_in_experiences
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

PATH = "/api/connectors"
SECRET = "client-secret-never-published"
OIDC_CONFIG = {
    "authorizationEndpoint": "https://idp.example/authorize",
    "tokenEndpoint": "https://idp.example/token",
    "clientId": "gatehouse",
    "clientSecret": SECRET,
    "scope": "profile email",
    "idTokenVerificationConfig": {"jwksUri": "https://idp.example/jwks"},
}
OAUTH2_CONFIG = {
    "authorizationEndpoint": "https://oauth.example/authorize",
    "tokenEndpoint": "https://oauth.example/token",
    "userInfoEndpoint": "https://oauth.example/me",
    "clientId": "gatehouse",
    "clientSecret": SECRET,
    "scope": "read:user",
}


class AnyConfig(msgspec.Struct):
    pass


def _test_factory(factory_id: str, type_: Any, platform: Any, **metadata: Any) -> ConnectorFactory:
    async def no_user_info(*_: Any) -> Any:
        raise AssertionError("management never runs a provider round trip")

    return ConnectorFactory(
        FactoryMetadata(
            id=factory_id,
            target=factory_id,
            type=type_,
            platform=platform,
            name={"en": factory_id},
            description={"en": f"The {factory_id} test factory."},
            logo="https://logo.example/mock.svg",
            logo_dark=None,
            readme="",
            **metadata,
        ),
        AnyConfig,
        lambda _config, state, redirect_uri: f"https://mock.example/?state={state}&redirect_uri={redirect_uri}",
        no_user_info,
    )


@pytest.fixture(autouse=True)
def test_factories(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A non-standard Social factory on the Web platform (as Logto's mock social connector) and an Email one."""
    monkeypatch.setitem(FACTORIES, "mock-social", _test_factory("mock-social", "Social", "Web"))
    monkeypatch.setitem(FACTORIES, "mock-email", _test_factory("mock-email", "Email", None))
    yield


@pytest_asyncio.fixture(autouse=True)
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The seeded tenant with Logto's default sign-in experience and no connectors."""
    engine = create_engine(database_url, pool_size=1)
    await seed_tenant(engine, "default")
    async with engine.begin() as conn:
        await conn.execute(sa.update(sign_in_experiences).values(settings=msgspec.to_builtins(default_settings())))
        await conn.execute(sa.delete(connectors))
    yield engine
    await engine.dispose()


async def create(client: AsyncClient, auth: dict[str, str], **body: Any) -> Response:
    return await client.post(PATH, json=body, headers=auth)


async def oidc(client: AsyncClient, auth: dict[str, str], target: str = "acme", **body: Any) -> dict[str, Any]:
    body = {"connectorId": "oidc", "config": OIDC_CONFIG, "metadata": {"target": target}, **body}
    response = await client.post(PATH, json=body, headers=auth)
    assert response.status_code == 200, response.text
    return dict(response.json())


def error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    return dict(body)


async def connector_events(engine: AsyncEngine) -> list[dict[str, Any]]:
    query = sa.select(outbox.c.payload).where(outbox.c.subject.like("%.Connector.%")).order_by(outbox.c.id)
    async with engine.connect() as conn:
        return [msgspec.json.decode(payload) for payload in (await conn.execute(query)).scalars()]


async def social_targets(client: AsyncClient, auth: dict[str, str], targets: list[str]) -> list[str]:
    response = await client.patch("/api/sign-in-exp", json={"socialSignInConnectorTargets": targets}, headers=auth)
    assert response.status_code == 200, response.text
    return list(response.json()["socialSignInConnectorTargets"])


async def test_a_standard_connector_is_its_factory_with_its_own_target_and_name(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    connector = await oidc(client, auth, metadata={"target": "acme", "name": {"en": "Acme", "fr": "Acmé"}})
    factory = (await client.get("/api/connector-factories/oidc", headers=auth)).json()
    assert len(connector["id"]) == 12 and connector["id"] != "oidc"
    assert connector["connectorId"] == "oidc" and connector["type"] == "Social"
    assert connector["target"] == "acme" and connector["name"] == {"en": "Acme", "fr": "Acmé"}
    assert connector["metadata"] == {"target": "acme", "name": {"en": "Acme", "fr": "Acmé"}}
    assert connector["config"] == OIDC_CONFIG
    assert connector["syncProfile"] is False and connector["enableTokenStorage"] is False
    assert connector["isDemo"] is False and connector["extraInfo"] == {}
    for key in ("description", "logo", "logoDark", "readme", "platform", "formItems", "configTemplate", "isStandard"):
        assert connector[key] == factory[key], key


async def test_a_connector_is_read_back_by_id_and_listed_in_creation_order(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    first = await oidc(client, auth, target="first")
    second = await create(client, auth, connectorId="oauth2", config=OAUTH2_CONFIG, metadata={"target": "second"})
    assert (await client.get(f"{PATH}/{first['id']}", headers=auth)).json() == first
    listed = (await client.get(PATH, headers=auth)).json()
    assert [c["id"] for c in listed] == [first["id"], second.json()["id"]]
    assert (await client.get(PATH, params={"target": "second"}, headers=auth)).json() == [second.json()]
    assert (await client.get(PATH, params={"target": "nobody"}, headers=auth)).json() == []


async def test_unknown_connector_is_404_entity_not_found(client: AsyncClient, auth: dict[str, str]) -> None:
    for response in (
        await client.get(f"{PATH}/missing", headers=auth),
        await client.patch(f"{PATH}/missing", json={"syncProfile": True}, headers=auth),
        await client.delete(f"{PATH}/missing", headers=auth),
    ):
        error(response, 404, "entity.not_found")


async def test_a_proposed_id_is_kept_and_a_taken_one_is_422(client: AsyncClient, auth: dict[str, str]) -> None:
    connector = await oidc(client, auth, id="my-idp")
    assert connector["id"] == "my-idp"
    response = await create(client, auth, id="my-idp", connectorId="oauth2", metadata={"target": "other"})
    error(response, 422, "entity.unique_integrity_violation")
    error(await create(client, auth, id="", connectorId="oauth2", metadata={"target": "x"}), 400, "guard.invalid_input")


async def test_unknown_or_blank_factory_is_422_not_found_with_connector_id(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    for factory_id in ("google-universal", ""):
        response = await create(client, auth, connectorId=factory_id, metadata={"target": "x"})
        error(response, 422, "connector.not_found_with_connector_id")
    error(await create(client, auth, config={}), 400, "guard.invalid_input")


async def test_a_standard_connector_must_name_its_target(client: AsyncClient, auth: dict[str, str]) -> None:
    for body in ({}, {"metadata": {}}, {"metadata": {"target": ""}}, {"metadata": {"name": {"en": "Acme"}}}):
        response = await create(client, auth, connectorId="oidc", config={"bad": True}, **body)
        error(response, 400, "connector.should_specify_target")  # before the config is checked, as Logto


async def test_a_non_standard_connector_takes_no_metadata_and_has_one_instance(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    response = await create(client, auth, connectorId="mock-social", metadata={"name": {"en": "Mine"}})
    error(response, 400, "connector.cannot_overwrite_metadata_for_non_standard_connector")
    first = await create(client, auth, connectorId="mock-social")
    assert first.status_code == 200 and first.json()["target"] == "mock-social" and first.json()["metadata"] == {}
    error(await create(client, auth, connectorId="mock-social"), 422, "connector.multiple_instances_not_supported")


async def test_two_social_connectors_cannot_share_a_target_and_platform(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    await oidc(client, auth, metadata={"target": "acme", "name": {"en": "Acme SSO"}})
    await oidc(client, auth, target="globex")  # another target: many instances of a standard factory
    response = await create(client, auth, connectorId="oauth2", config=OAUTH2_CONFIG, metadata={"target": "acme"})
    body = error(response, 422, "connector.multiple_target_with_same_platform")
    assert body["data"] == {"connectorId": "oidc", "connectorName": {"en": "Acme SSO"}}
    # the same target on another platform is allowed, as Logto
    await oidc(client, auth, target="mock-social")
    assert (await create(client, auth, connectorId="mock-social")).status_code == 200


async def test_the_config_is_checked_by_its_factory_and_stored_as_logto_cleans_it(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    missing = {k: v for k, v in OIDC_CONFIG.items() if k != "clientId"}
    response = await create(client, auth, connectorId="oidc", config=missing, metadata={"target": "acme"})
    error(response, 400, "connector.invalid_config")
    config = {**OIDC_CONFIG, "customConfig": {}, "authRequestOptionalConfig": {"prompt": ""}}
    connector = await oidc(client, auth, config=config, metadata={"target": "acme", "logoDark": None, "logo": ""})
    assert connector["config"] == OIDC_CONFIG and connector["metadata"] == {"target": "acme"}
    assert connector["logoDark"] is None and connector["logo"].startswith("data:image/svg+xml;base64,")
    without = await create(client, auth, connectorId="oauth2", metadata={"target": "no-config"})
    assert without.status_code == 200 and without.json()["config"] == {}


async def test_metadata_name_needs_an_english_phrase_and_language_tags(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    for name in ({"fr": "Acmé"}, {"en": "Acme", "klingon": "Acme"}):
        response = await create(client, auth, connectorId="oidc", metadata={"target": "acme", "name": name})
        error(response, 400, "guard.invalid_input")


async def test_token_storage_needs_a_factory_that_supports_it(client: AsyncClient, auth: dict[str, str]) -> None:
    connector = await oidc(client, auth, enableTokenStorage=True, syncProfile=True)
    assert connector["enableTokenStorage"] is True and connector["syncProfile"] is True
    response = await create(client, auth, connectorId="mock-social", enableTokenStorage=True)
    error(response, 422, "connector.token_storage_not_supported")
    error(
        await create(client, auth, connectorId="mock-email", enableTokenStorage=True),
        422,
        "connector.token_storage_not_supported",
    )


async def test_a_new_email_connector_replaces_the_previous_one(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    first = (await create(client, auth, connectorId="mock-email")).json()
    second = (await create(client, auth, connectorId="mock-email")).json()
    assert [c["id"] for c in (await client.get(PATH, headers=auth)).json()] == [second["id"]]
    events = [(e["type"], e["subject"]) for e in await connector_events(engine)][-3:]
    assert events == [
        ("Connector.Created", first["id"]),
        ("Connector.Created", second["id"]),
        ("Connector.Deleted", first["id"]),
    ]


async def test_patch_replaces_the_config_whole_after_checking_it(client: AsyncClient, auth: dict[str, str]) -> None:
    connector = await oidc(client, auth)
    url = f"{PATH}/{connector['id']}"
    error(await client.patch(url, json={"config": {"clientId": "only"}}, headers=auth), 400, "connector.invalid_config")
    config = {**OIDC_CONFIG, "clientId": "renamed", "customConfig": {"audience": "api"}}
    response = await client.patch(url, json={"config": config}, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["config"] == config and response.json()["metadata"] == {"target": "acme"}
    smaller = {k: v for k, v in config.items() if k != "customConfig"}
    assert (await client.patch(url, json={"config": smaller}, headers=auth)).json()["config"] == smaller
    assert (await client.get(url, headers=auth)).json()["config"] == smaller


async def test_patch_metadata_of_a_standard_connector_must_keep_its_target(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    connector = await oidc(client, auth, metadata={"target": "acme", "name": {"en": "Acme"}, "logo": "https://l"})
    url = f"{PATH}/{connector['id']}"
    for metadata in ({"target": "globex"}, {"name": {"en": "Renamed"}}, {}):
        error(
            await client.patch(url, json={"metadata": metadata}, headers=auth), 400, "connector.can_not_modify_target"
        )
    response = await client.patch(url, json={"metadata": {"target": "acme", "name": {"en": "Renamed"}}}, headers=auth)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["metadata"] == {"target": "acme", "name": {"en": "Renamed"}}  # replaced whole: the logo is gone
    assert updated["name"] == {"en": "Renamed"} and updated["logo"] != "https://l"


async def test_patch_metadata_of_a_non_standard_connector_is_400(client: AsyncClient, auth: dict[str, str]) -> None:
    connector = (await create(client, auth, connectorId="mock-social")).json()
    response = await client.patch(f"{PATH}/{connector['id']}", json={"metadata": {"target": "x"}}, headers=auth)
    error(response, 400, "connector.cannot_overwrite_metadata_for_non_standard_connector")


async def test_only_a_social_connector_syncs_profiles(client: AsyncClient, auth: dict[str, str]) -> None:
    email = (await create(client, auth, connectorId="mock-email")).json()
    response = await client.patch(f"{PATH}/{email['id']}", json={"syncProfile": True}, headers=auth)
    error(response, 422, "connector.invalid_type_for_syncing_profile")
    social = await oidc(client, auth)
    response = await client.patch(f"{PATH}/{social['id']}", json={"syncProfile": True}, headers=auth)
    assert response.status_code == 200 and response.json()["syncProfile"] is True


async def test_patch_turns_token_storage_on_only_where_supported(client: AsyncClient, auth: dict[str, str]) -> None:
    mock = (await create(client, auth, connectorId="mock-social")).json()
    response = await client.patch(f"{PATH}/{mock['id']}", json={"enableTokenStorage": True}, headers=auth)
    error(response, 422, "connector.token_storage_not_supported")
    assert (await client.patch(f"{PATH}/{mock['id']}", json={"enableTokenStorage": False}, headers=auth)).is_success
    connector = await oidc(client, auth)
    response = await client.patch(f"{PATH}/{connector['id']}", json={"enableTokenStorage": True}, headers=auth)
    assert response.status_code == 200 and response.json()["enableTokenStorage"] is True


async def test_delete_answers_204_and_the_connector_is_gone(client: AsyncClient, auth: dict[str, str]) -> None:
    connector = await oidc(client, auth)
    assert (await client.delete(f"{PATH}/{connector['id']}", headers=auth)).status_code == 204
    error(await client.get(f"{PATH}/{connector['id']}", headers=auth), 404, "entity.not_found")
    assert (await oidc(client, auth))["target"] == "acme"  # its target is free again


async def test_the_sign_in_experience_keeps_the_targets_of_existing_social_connectors(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    await oidc(client, auth, target="acme")
    await create(client, auth, connectorId="mock-email")
    assert await social_targets(client, auth, ["google", "acme", "mock-email"]) == ["acme"]


async def test_deleting_the_last_connector_of_a_target_removes_it_from_the_sign_in_experience(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    shared = await oidc(client, auth, target="mock-social")  # Universal; the mock factory is Web, same target
    mock = (await create(client, auth, connectorId="mock-social")).json()
    acme = await oidc(client, auth, target="acme")
    assert await social_targets(client, auth, ["acme", "mock-social"]) == ["acme", "mock-social"]
    await client.delete(f"{PATH}/{shared['id']}", headers=auth)  # mock-social is still provided
    await client.delete(f"{PATH}/{acme['id']}", headers=auth)
    sie = (await client.get("/api/sign-in-exp", headers=auth)).json()
    assert sie["socialSignInConnectorTargets"] == ["mock-social"]
    await client.delete(f"{PATH}/{mock['id']}", headers=auth)
    assert (await client.get("/api/sign-in-exp", headers=auth)).json()["socialSignInConnectorTargets"] == []


async def test_a_connector_whose_factory_is_gone_is_hidden_but_can_be_deleted(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(connectors).values(
                tenant_id="default",
                id="legacy",
                connector_id="retired-factory",
                config={"clientSecret": SECRET},
                metadata={},
                sync_profile=False,
                enable_token_storage=True,
            )
        )
    assert (await client.get(PATH, headers=auth)).json() == []
    error(await client.get(f"{PATH}/legacy", headers=auth), 404, "entity.not_found")
    assert (await client.delete(f"{PATH}/legacy", headers=auth)).status_code == 204
    deleted = (await connector_events(engine))[-1]
    assert deleted["type"] == "Connector.Deleted"
    assert deleted["data"]["data"] == {
        "id": "legacy",
        "connectorId": "retired-factory",
        "target": "retired-factory",
        "type": None,
        "enableTokenStorage": True,
    }


async def test_authorization_uri_of_an_oidc_connector_carries_a_state_derived_nonce(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    connector = await oidc(client, auth)
    body = {"state": "xyz", "redirectUri": "https://app.example/callback"}
    response = await client.post(f"{PATH}/{connector['id']}/authorization-uri", json=body, headers=auth)
    assert response.status_code == 200, response.text
    url = urlsplit(response.json()["redirectTo"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == OIDC_CONFIG["authorizationEndpoint"]
    assert query["state"] == ["xyz"] and query["redirect_uri"] == ["https://app.example/callback"]
    assert query["client_id"] == ["gatehouse"] and query["response_type"] == ["code"]
    assert query["scope"] == ["openid profile email"] and query["nonce"][0]
    again = await client.post(f"{PATH}/{connector['id']}/authorization-uri", json=body, headers=auth)
    assert again.json() == response.json()


async def test_authorization_uri_of_an_oauth2_connector(client: AsyncClient, auth: dict[str, str]) -> None:
    body = {"connectorId": "oauth2", "config": OAUTH2_CONFIG, "metadata": {"target": "gh"}}
    connector = (await client.post(PATH, json=body, headers=auth)).json()
    request = {"state": "s1", "redirectUri": "https://app.example/cb"}
    response = await client.post(f"{PATH}/{connector['id']}/authorization-uri", json=request, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["redirectTo"].startswith("https://oauth.example/authorize?")
    assert parse_qs(urlsplit(response.json()["redirectTo"]).query)["scope"] == ["read:user"]


async def test_authorization_uri_refusals(client: AsyncClient, auth: dict[str, str]) -> None:
    connector = await oidc(client, auth)
    email = (await create(client, auth, connectorId="mock-email")).json()
    good = {"state": "s", "redirectUri": "https://app.example/cb"}
    for body in ({"state": "", "redirectUri": "https://app.example/cb"}, {"state": "s", "redirectUri": ""}):
        response = await client.post(f"{PATH}/{connector['id']}/authorization-uri", json=body, headers=auth)
        error(response, 400, "session.insufficient_info")
    response = await client.post(f"{PATH}/{connector['id']}/authorization-uri", json={"state": "s"}, headers=auth)
    error(response, 400, "guard.invalid_input")
    error(await client.post(f"{PATH}/missing/authorization-uri", json=good, headers=auth), 404, "entity.not_found")
    response = await client.post(f"{PATH}/{email['id']}/authorization-uri", json=good, headers=auth)
    error(response, 400, "connector.unexpected_type")


async def test_writes_publish_connector_events_without_the_config(
    client: AsyncClient, auth: dict[str, str], engine: AsyncEngine
) -> None:
    before = len(await connector_events(engine))
    connector = await oidc(client, auth, target="acme")
    url = f"{PATH}/{connector['id']}"
    await client.patch(url, json={"enableTokenStorage": True, "config": OIDC_CONFIG}, headers=auth)
    await client.patch(url, json={"enableTokenStorage": False}, headers=auth)
    await client.delete(url, headers=auth)
    events = (await connector_events(engine))[before:]
    assert [e["type"] for e in events] == [
        "Connector.Created",
        "Connector.Updated",
        "Connector.Updated",
        "Connector.Deleted",
    ]
    assert all(e["subject"] == connector["id"] and e["source"] == "/gatehouse/management" for e in events)
    brief = {"id": connector["id"], "connectorId": "oidc", "target": "acme", "type": "Social"}
    assert events[0]["data"] == {"data": {**brief, "enableTokenStorage": False}}
    assert events[1]["data"] == {
        "data": {**brief, "enableTokenStorage": True},
        "changed": ["config", "enableTokenStorage"],
    }
    assert events[2]["data"] == {"data": {**brief, "enableTokenStorage": False}, "changed": ["enableTokenStorage"]}
    assert events[3]["data"] == {"data": {**brief, "enableTokenStorage": False}}
    assert SECRET not in msgspec.json.encode(events).decode()
