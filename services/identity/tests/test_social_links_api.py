"""Linking a social identity through a connector's round trip (`POST /api/users/{id}/identities`), the token
sets connectors with token storage keep in the secret vault, and `DELETE /api/secrets/{id}`."""

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import nats
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_connectors import FACTORIES
from gatehouse_connectors.oidc import nonce_for
from gatehouse_identity.domain.secret_vault import Sealed, SecretVault
from gatehouse_schema.events import (
    Actor,
    ConnectorBrief,
    ConnectorDeleted,
    ConnectorUpdated,
    event_subject,
    make_event,
)
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables import management as m
from gatehouse_schema.tables.identity import secrets
from gatehouse_testing.fake_provider import FakeProvider, fake_provider
from gatehouse_testing.vault import VAULT_KEK
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

Auth = dict[str, str]
REDIRECT = "https://app.example.com/profile/callback"


@pytest_asyncio.fixture(scope="module")
async def provider() -> AsyncIterator[FakeProvider]:
    async with fake_provider() as p:
        yield p


@pytest_asyncio.fixture
async def make_connector(db: AsyncEngine) -> Callable[..., Any]:
    """Writes a connector row as management would (management owns the table)."""

    async def make(factory: str, config: dict[str, Any], *, target: str, token_storage: bool = False) -> str:
        connector_id = generate_id()
        async with db.begin() as conn:
            await conn.execute(
                sa.insert(m.connectors).values(
                    tenant_id="default",
                    id=connector_id,
                    connector_id=factory,
                    config=config,
                    metadata={"target": target},
                    sync_profile=False,
                    enable_token_storage=token_storage,
                    created_at=sa.func.now(),
                )
            )
        return connector_id

    return make


async def new_user(client: AsyncClient, auth: Auth) -> str:
    response = await client.post("/api/users", json={"username": f"u{generate_id()[:10]}"}, headers=auth)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def oidc_code(provider: FakeProvider, sub: str, state: str, **claims: Any) -> str:
    nonce = nonce_for(FACTORIES["oidc"].parse_config(provider.oidc_config()), state)
    return provider.issue_code(sub, REDIRECT, nonce=nonce, **claims)


async def link(client: AsyncClient, auth: Auth, user_id: str, connector_id: str, **data: Any) -> Response:
    body = {"connectorId": connector_id, "connectorData": {"redirectUri": REDIRECT, **data}}
    return await client.post(f"/api/users/{user_id}/identities", json=body, headers=auth)


def error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.json()


async def test_linking_through_an_oidc_connector_stores_the_verified_identity_under_its_target(
    client: AsyncClient, auth: Auth, provider: FakeProvider, make_connector: Callable[..., Any]
) -> None:
    target = f"corp-{generate_id()[:6]}"
    connector_id = await make_connector("oidc", provider.oidc_config(), target=target)
    user_id = await new_user(client, auth)
    code = oidc_code(provider, "sub-1", "st", email="ann@example.com", email_verified=True, name="Ann")
    response = await link(client, auth, user_id, connector_id, code=code, state="st")
    assert response.status_code == 200, response.text
    identity = response.json()[target]
    assert identity["userId"] == "sub-1"
    details = identity["details"]
    assert (details["id"], details["email"], details["name"]) == ("sub-1", "ann@example.com", "Ann")
    assert details["rawData"]["iss"] == provider.url
    fetched = await client.get(f"/api/users/{user_id}/identities/{target}", headers=auth)
    assert fetched.json() == {"identity": identity}


async def test_linking_with_an_oauth2_connector_reads_the_user_info_endpoint(
    client: AsyncClient, auth: Auth, provider: FakeProvider, make_connector: Callable[..., Any]
) -> None:
    connector_id = await make_connector("oauth2", provider.oauth2_config(), target="oauth-x")
    user_id = await new_user(client, auth)
    code = provider.issue_code("o-1", REDIRECT, name="Oz")
    response = await link(client, auth, user_id, connector_id, code=code)
    assert response.status_code == 200, response.text
    assert response.json()["oauth-x"]["details"]["name"] == "Oz"


async def test_a_social_account_linked_to_another_user_is_422_identity_already_in_use(
    client: AsyncClient, auth: Auth, provider: FakeProvider, make_connector: Callable[..., Any]
) -> None:
    target = f"t-{generate_id()[:6]}"
    connector_id = await make_connector("oidc", provider.oidc_config(), target=target)
    first, second = await new_user(client, auth), await new_user(client, auth)
    assert (
        await link(client, auth, first, connector_id, code=oidc_code(provider, "shared", "a"), state="a")
    ).is_success
    again = await link(client, auth, second, connector_id, code=oidc_code(provider, "shared", "b"), state="b")
    error(again, 422, "user.identity_already_in_use")
    assert (await client.get(f"/api/users/{second}/all-identities", headers=auth)).json()["socialIdentities"] == []


async def test_unknown_connector_and_unknown_user_are_404(
    client: AsyncClient, auth: Auth, provider: FakeProvider, make_connector: Callable[..., Any]
) -> None:
    user_id = await new_user(client, auth)
    error(await link(client, auth, user_id, "no-such-connector", code="c", state="s"), 404, "entity.not_found")
    connector_id = await make_connector("oidc", provider.oidc_config(), target="t404")
    error(await link(client, auth, "nobody", connector_id, code="c", state="s"), 404, "entity.not_exists_with_id")


async def test_a_code_the_provider_refuses_is_401_and_links_nothing(
    client: AsyncClient, auth: Auth, provider: FakeProvider, make_connector: Callable[..., Any]
) -> None:
    connector_id = await make_connector("oidc", provider.oidc_config(), target="t400")
    user_id = await new_user(client, auth)
    error(
        await link(client, auth, user_id, connector_id, code="forged", state="s"),
        401,
        "connector.social_auth_code_invalid",
    )
    assert (await client.get(f"/api/users/{user_id}", headers=auth)).json()["identities"] == {}


async def test_an_id_token_issued_for_another_state_is_refused(
    client: AsyncClient, auth: Auth, provider: FakeProvider, make_connector: Callable[..., Any]
) -> None:
    connector_id = await make_connector("oidc", provider.oidc_config(), target="tnonce")
    user_id = await new_user(client, auth)
    code = oidc_code(provider, "sub-n", "the-real-state")
    error(
        await link(client, auth, user_id, connector_id, code=code, state="another-state"),
        401,
        "connector.social_invalid_id_token",
    )


async def test_a_body_without_connector_data_is_400(client: AsyncClient, auth: Auth) -> None:
    user_id = await new_user(client, auth)
    response = await client.post(f"/api/users/{user_id}/identities", json={"connectorId": "x"}, headers=auth)
    error(response, 400, "guard.invalid_input")


async def _stored_secret(db: AsyncEngine, secret_id: str) -> Any:
    async with db.connect() as conn:
        return (await conn.execute(sa.select(secrets).where(secrets.c.id == secret_id))).one_or_none()


async def test_a_connector_with_token_storage_keeps_the_token_set_encrypted_and_shows_only_its_metadata(
    client: AsyncClient, auth: Auth, provider: FakeProvider, make_connector: Callable[..., Any], db: AsyncEngine
) -> None:
    target = f"vault-{generate_id()[:6]}"
    connector_id = await make_connector("oidc", provider.oidc_config(), target=target, token_storage=True)
    user_id = await new_user(client, auth)
    assert (await link(client, auth, user_id, connector_id, code=oidc_code(provider, "v-1", "s"), state="s")).is_success
    plain = await client.get(f"/api/users/{user_id}/identities/{target}", headers=auth)
    assert "tokenSecret" not in plain.json()
    shown = (await client.get(f"/api/users/{user_id}/identities/{target}?includeTokenSecret=true", headers=auth)).json()
    secret = shown["tokenSecret"]
    assert secret["type"] == "federated_token_set" and secret["userId"] == user_id
    assert (secret["connectorId"], secret["identityId"], secret["target"]) == (connector_id, "v-1", target)
    assert secret["metadata"]["hasRefreshToken"] is True and secret["metadata"]["tokenType"] == "Bearer"
    assert secret["metadata"]["scope"] == "openid profile email" and secret["metadata"]["expiresAt"] > 0
    assert "ciphertext" not in secret and "encryptedDek" not in secret
    row = await _stored_secret(db, secret["id"])
    opened = SecretVault(base64.b64decode(VAULT_KEK)).open(
        Sealed(encrypted_dek=row.encrypted_dek, iv=row.iv, auth_tag=row.auth_tag, ciphertext=row.ciphertext)
    )
    tokens = json.loads(opened)
    assert set(tokens) == {"access_token", "id_token", "refresh_token"}
    assert tokens["access_token"] in provider.access_tokens
    everything = (await client.get(f"/api/users/{user_id}/all-identities?includeTokenSecret=1", headers=auth)).json()
    assert everything["socialIdentities"][0]["tokenSecret"]["id"] == secret["id"]


async def test_linking_again_replaces_the_token_set(
    client: AsyncClient, auth: Auth, provider: FakeProvider, make_connector: Callable[..., Any], db: AsyncEngine
) -> None:
    target = f"again-{generate_id()[:6]}"
    connector_id = await make_connector("oidc", provider.oidc_config(), target=target, token_storage=True)
    user_id = await new_user(client, auth)
    url = f"/api/users/{user_id}/identities/{target}?includeTokenSecret=yes"
    await link(client, auth, user_id, connector_id, code=oidc_code(provider, "r-1", "s1"), state="s1")
    first = (await client.get(url, headers=auth)).json()["tokenSecret"]["id"]
    await link(client, auth, user_id, connector_id, code=oidc_code(provider, "r-1", "s2"), state="s2")
    second = (await client.get(url, headers=auth)).json()["tokenSecret"]["id"]
    assert first != second and await _stored_secret(db, first) is None


async def test_unlinking_the_identity_deletes_its_token_set(
    client: AsyncClient, auth: Auth, provider: FakeProvider, make_connector: Callable[..., Any], db: AsyncEngine
) -> None:
    target = f"unlink-{generate_id()[:6]}"
    connector_id = await make_connector("oidc", provider.oidc_config(), target=target, token_storage=True)
    user_id = await new_user(client, auth)
    await link(client, auth, user_id, connector_id, code=oidc_code(provider, "x-1", "s"), state="s")
    url = f"/api/users/{user_id}/identities/{target}"
    secret_id = (await client.get(f"{url}?includeTokenSecret=true", headers=auth)).json()["tokenSecret"]["id"]
    assert (await client.delete(url, headers=auth)).status_code == 200
    assert await _stored_secret(db, secret_id) is None


async def test_replacing_the_identity_with_another_account_deletes_its_token_set(
    client: AsyncClient, auth: Auth, provider: FakeProvider, make_connector: Callable[..., Any], db: AsyncEngine
) -> None:
    target = f"swap-{generate_id()[:6]}"
    connector_id = await make_connector("oidc", provider.oidc_config(), target=target, token_storage=True)
    user_id = await new_user(client, auth)
    await link(client, auth, user_id, connector_id, code=oidc_code(provider, "y-1", "s"), state="s")
    url = f"/api/users/{user_id}/identities/{target}"
    secret_id = (await client.get(f"{url}?includeTokenSecret=true", headers=auth)).json()["tokenSecret"]["id"]
    assert (await client.put(url, json={"userId": "y-1", "details": {"note": "same"}}, headers=auth)).is_success
    assert await _stored_secret(db, secret_id) is not None
    assert (await client.put(url, json={"userId": "someone-else"}, headers=auth)).is_success
    assert await _stored_secret(db, secret_id) is None


async def test_delete_secret_removes_it_and_an_unknown_one_is_404(
    client: AsyncClient, auth: Auth, provider: FakeProvider, make_connector: Callable[..., Any]
) -> None:
    target = f"del-{generate_id()[:6]}"
    connector_id = await make_connector("oidc", provider.oidc_config(), target=target, token_storage=True)
    user_id = await new_user(client, auth)
    await link(client, auth, user_id, connector_id, code=oidc_code(provider, "z-1", "s"), state="s")
    url = f"/api/users/{user_id}/identities/{target}?includeTokenSecret=true"
    secret_id = (await client.get(url, headers=auth)).json()["tokenSecret"]["id"]
    assert (await client.delete(f"/api/secrets/{secret_id}", headers=auth)).status_code == 204
    assert "tokenSecret" not in (await client.get(url, headers=auth)).json()
    error(await client.delete(f"/api/secrets/{secret_id}", headers=auth), 404, "entity.not_found")
    assert (await client.delete(f"/api/secrets/{secret_id}")).status_code == 401


async def test_without_token_storage_no_token_set_is_kept(
    client: AsyncClient, auth: Auth, provider: FakeProvider, make_connector: Callable[..., Any]
) -> None:
    target = f"nostore-{generate_id()[:6]}"
    connector_id = await make_connector("oidc", provider.oidc_config(), target=target)
    user_id = await new_user(client, auth)
    await link(client, auth, user_id, connector_id, code=oidc_code(provider, "n-1", "s"), state="s")
    shown = (await client.get(f"/api/users/{user_id}/identities/{target}?includeTokenSecret=true", headers=auth)).json()
    assert "tokenSecret" not in shown


async def _publish(nats_url: str, prefix: str, data: Any) -> None:
    event = make_event(data, tenant_id="default", actor=Actor(type="application", id="m2m"))
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(
            event_subject(prefix, "default", data.context, data.event_type), msgspec.json.encode(event)
        )
    finally:
        await nc.close()


async def _until_gone(db: AsyncEngine, secret_id: str) -> bool:
    for _ in range(100):
        if await _stored_secret(db, secret_id) is None:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_deleted_connector_or_one_that_stops_storing_tokens_loses_its_token_sets(
    client: AsyncClient,
    auth: Auth,
    provider: FakeProvider,
    make_connector: Callable[..., Any],
    db: AsyncEngine,
    nats_url: str,
    subject_prefix: str,
) -> None:
    kept_target, dropped_target = f"k-{generate_id()[:6]}", f"d-{generate_id()[:6]}"
    kept = await make_connector("oidc", provider.oidc_config(), target=kept_target, token_storage=True)
    dropped = await make_connector("oidc", provider.oidc_config(), target=dropped_target, token_storage=True)
    user_id = await new_user(client, auth)
    await link(client, auth, user_id, kept, code=oidc_code(provider, "k-1", "s"), state="s")
    await link(client, auth, user_id, dropped, code=oidc_code(provider, "d-1", "s"), state="s")
    shown = (await client.get(f"/api/users/{user_id}/all-identities?includeTokenSecret=true", headers=auth)).json()
    ids = {i["target"]: i["tokenSecret"]["id"] for i in shown["socialIdentities"]}

    def brief(connector_id: str, target: str, storage: bool) -> ConnectorBrief:
        return ConnectorBrief(
            id=connector_id, connector_id="oidc", target=target, type="Social", enable_token_storage=storage
        )

    await _publish(nats_url, subject_prefix, ConnectorUpdated(data=brief(kept, kept_target, True), changed=["config"]))
    await _publish(nats_url, subject_prefix, ConnectorDeleted(data=brief(dropped, dropped_target, True)))
    assert await _until_gone(db, ids[dropped_target])
    assert await _stored_secret(db, ids[kept_target]) is not None
    off = ConnectorUpdated(data=brief(kept, kept_target, False), changed=["enableTokenStorage"])
    await _publish(nats_url, subject_prefix, off)
    assert await _until_gone(db, ids[kept_target])
