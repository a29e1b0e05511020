"""The secret vault's enterprise SSO token sets (Logto's `secret_enterprise_sso_connector_relations`): kept by
`user.sso_sign_in` and `user.create` with an identity's sealed token set when its OIDC connector stores tokens,
shown desensitized on the Users API, read back by `user.sso_access_token` (refreshed through the connector once
expired), and gone with their identity, their user, their connector or the connector's token storage."""

import asyncio
import base64
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import nats
import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_identity.domain.secret_vault import Sealed, SecretVault
from gatehouse_platform.errors import GatehouseError
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.events import (
    Actor,
    SsoConnectorBrief,
    SsoConnectorDeleted,
    SsoConnectorUpdated,
    event_subject,
    make_event,
)
from gatehouse_schema.rpc.identity import (
    SECRET_SEAL_TOKEN_SET,
    USER_CREATE,
    USER_SSO_ACCESS_TOKEN,
    USER_SSO_SIGN_IN,
    AccountDocument,
    AccountDone,
    CreatedUser,
    CreateUser,
    ProviderTokens,
    SealedTokenSet,
    SsoAccessToken,
    SsoIdentity,
    SsoSignIn,
)
from gatehouse_schema.tables.identity import secret_enterprise_sso_connector_relations as relations
from gatehouse_schema.tables.identity import secrets as secrets_table
from gatehouse_schema.tables.identity import user_sso_identities
from gatehouse_testing.fake_provider import CLIENT_ID, CLIENT_SECRET, FakeProvider, fake_provider
from gatehouse_testing.sso_connectors import write_sso_connector
from gatehouse_testing.vault import SSO_TOKEN_SECRET_KEYS as SECRET_KEYS
from gatehouse_testing.vault import VAULT_KEK
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

Auth = dict[str, str]


@pytest_asyncio.fixture(scope="module")
async def provider() -> AsyncIterator[FakeProvider]:
    async with fake_provider() as p:
        yield p


# Arrangements


async def sso_connector(
    db: AsyncEngine, *, token_storage: bool = True, provider_name: str = "OIDC", issuer: str | None = None
) -> str:
    """An enterprise SSO connector row, as management writes it."""
    config = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "issuer": issuer or "https://idp.example.com"}
    return await write_sso_connector(db, provider_name, config, domains=[], token_storage=token_storage)


async def new_user(client: AsyncClient, auth: Auth) -> str:
    created = await client.post("/api/users", json={"username": f"tk{secrets.token_hex(5)}"}, headers=auth)
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


async def sealed(rpc: RpcClient, access_token: str, **fields: Any) -> SealedTokenSet:
    """The IdP's token response sealed, as experience has it sealed right after the round trip."""
    values: dict[str, Any] = {"token_type": "Bearer", "scope": "openid profile", "expires_at": 2**31, **fields}
    tokens = ProviderTokens(access_token=access_token, **values)
    return await rpc.call("identity", SECRET_SEAL_TOKEN_SET, tokens, SealedTokenSet)


def an_identity(connector_id: str, token_set: SealedTokenSet | None, issuer: str | None = None) -> SsoIdentity:
    identity_id = f"idp-{secrets.token_hex(4)}"
    return SsoIdentity(
        sso_connector_id=connector_id,
        issuer=issuer or f"https://idp-{secrets.token_hex(4)}.example.com",
        identity_id=identity_id,
        detail={"id": identity_id},
        token_set=token_set,
    )


async def kept(db: AsyncEngine, user_id: str) -> list[dict[str, Any]]:
    """The user's SSO token sets as stored: relation and opened tokens."""
    query = (
        sa.select(secrets_table, relations.c.sso_connector_id, relations.c.issuer, relations.c.identity_id)
        .select_from(secrets_table.join(relations, relations.c.secret_id == secrets_table.c.id))
        .where(secrets_table.c.user_id == user_id)
    )
    async with db.connect() as conn:
        rows = list(await conn.execute(query))
    vault = SecretVault(base64.b64decode(VAULT_KEK))
    found = []
    for row in rows:
        envelope = Sealed(encrypted_dek=row.encrypted_dek, iv=row.iv, auth_tag=row.auth_tag, ciphertext=row.ciphertext)
        found.append(
            {
                "id": row.id,
                "ssoConnectorId": row.sso_connector_id,
                "issuer": row.issuer,
                "identityId": row.identity_id,
                "tokens": json.loads(vault.open(envelope)),
                "metadata": row.metadata,
            }
        )
    return found


async def secret_exists(db: AsyncEngine, secret_id: str) -> bool:
    async with db.connect() as conn:
        query = sa.select(sa.func.count()).select_from(secrets_table).where(secrets_table.c.id == secret_id)
        return bool((await conn.execute(query)).scalar_one())


async def publish(nats_url: str, subject_prefix: str, event: Any) -> None:
    envelope = make_event(event, tenant_id="default", actor=Actor(type="application", id="m"))
    nc = await nats.connect(nats_url)
    try:
        subject = event_subject(subject_prefix, "default", "management", event.event_type)
        await nc.jetstream().publish(subject, msgspec.json.encode(envelope))
    finally:
        await nc.close()


def brief(connector_id: str, *, token_storage: bool) -> SsoConnectorBrief:
    return SsoConnectorBrief(
        id=connector_id,
        provider_name="OIDC",
        provider_type="oidc",
        connector_name=f"sso-{connector_id}",
        domains=[],
        sync_profile=False,
        enable_token_storage=token_storage,
    )


async def eventually(check: Any) -> None:
    for _ in range(100):
        if await check():
            return
        await asyncio.sleep(0.05)
    assert await check()


# Steps


async def sign_in(rpc: RpcClient, user_id: str, identity: SsoIdentity, *, link: bool = True) -> None:
    request = SsoSignIn(user_id=user_id, identity=identity, link=link)
    await rpc.call("identity", USER_SSO_SIGN_IN, request, AccountDone)


async def access_token(rpc: RpcClient, user_id: str, connector_id: str) -> dict[str, Any]:
    request = SsoAccessToken(user_id=user_id, connector_id=connector_id)
    body: dict[str, Any] = (await rpc.call("identity", USER_SSO_ACCESS_TOKEN, request, AccountDocument)).body
    return body


async def refused(call: Any, status: int, code: str) -> None:
    with pytest.raises(GatehouseError) as raised:
        await call
    assert (raised.value.status, raised.value.code) == (status, code)


async def expire(db: AsyncEngine, secret_id: str) -> None:
    async with db.begin() as conn:
        await conn.execute(
            sa.update(secrets_table)
            .where(secrets_table.c.id == secret_id)
            .values(
                metadata=secrets_table.c.metadata.op("||")(sa.cast({"expiresAt": 1}, secrets_table.c.metadata.type))
            )
        )


# keeping


async def test_a_sign_in_keeps_the_token_set_and_the_users_api_shows_it_desensitized(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    connector_id = await sso_connector(db)
    user_id = await new_user(client, auth)
    identity = an_identity(connector_id, await sealed(rpc, "at-first", refresh_token="rt-first"))
    await sign_in(rpc, user_id, identity)

    [stored] = await kept(db, user_id)
    assert (stored["ssoConnectorId"], stored["issuer"], stored["identityId"]) == (
        connector_id,
        identity.issuer,
        identity.identity_id,
    )
    assert stored["tokens"] == {"access_token": "at-first", "refresh_token": "rt-first"}
    metadata = {"hasRefreshToken": True, "scope": "openid profile", "tokenType": "Bearer", "expiresAt": 2**31}
    assert stored["metadata"] == metadata

    one = await client.get(f"/api/users/{user_id}/sso-identities/{connector_id}?includeTokenSecret=true", headers=auth)
    assert one.status_code == 200, one.text
    secret = one.json()["tokenSecret"]
    assert set(secret) == SECRET_KEYS and "at-first" not in one.text and "rt-first" not in one.text
    assert (secret["id"], secret["userId"], secret["type"], secret["metadata"]) == (
        stored["id"],
        user_id,
        "federated_token_set",
        metadata,
    )
    assert (secret["ssoConnectorId"], secret["issuer"], secret["identityId"]) == (
        connector_id,
        identity.issuer,
        identity.identity_id,
    )
    plain = await client.get(f"/api/users/{user_id}/sso-identities/{connector_id}", headers=auth)
    assert "tokenSecret" not in plain.json()

    everything = (await client.get(f"/api/users/{user_id}/all-identities?includeTokenSecret=1", headers=auth)).json()
    [entry] = everything["ssoIdentities"]
    assert entry["ssoConnectorId"] == connector_id and entry["tokenSecret"] == secret
    without = (await client.get(f"/api/users/{user_id}/all-identities", headers=auth)).json()
    assert "tokenSecret" not in without["ssoIdentities"][0]

    # the next sign-in of the identity replaces the token set
    again = msgspec.structs.replace(identity, token_set=await sealed(rpc, "at-second"))
    await sign_in(rpc, user_id, again, link=False)
    [replaced] = await kept(db, user_id)
    assert replaced["tokens"] == {"access_token": "at-second"} and replaced["id"] != stored["id"]
    assert replaced["metadata"]["hasRefreshToken"] is False


async def test_no_token_set_is_kept_without_token_storage_or_for_a_saml_connector(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    user_id = await new_user(client, auth)
    for connector_id in (await sso_connector(db, token_storage=False), await sso_connector(db, provider_name="SAML")):
        await sign_in(rpc, user_id, an_identity(connector_id, await sealed(rpc, "at-none")))
    await sign_in(rpc, user_id, an_identity(await sso_connector(db), None))  # experience sealed nothing
    assert await kept(db, user_id) == []
    everything = (await client.get(f"/api/users/{user_id}/all-identities?includeTokenSecret=1", headers=auth)).json()
    assert len(everything["ssoIdentities"]) == 3
    assert all("tokenSecret" not in entry for entry in everything["ssoIdentities"])


async def test_a_registration_keeps_the_token_set_with_the_new_users_identity(rpc: RpcClient, db: AsyncEngine) -> None:
    connector_id = await sso_connector(db)
    identity = an_identity(connector_id, await sealed(rpc, "at-new"))
    request = CreateUser(primary_email=f"new{secrets.token_hex(4)}@corp.example.com", sso_identity=identity)
    created = await rpc.call("identity", USER_CREATE, request, CreatedUser, timeout=10.0)
    [stored] = await kept(db, created.user_id)
    assert (stored["identityId"], stored["tokens"]) == (identity.identity_id, {"access_token": "at-new"})


# reading back


async def test_the_access_token_is_read_back_refreshed_or_forgotten(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine, provider: FakeProvider
) -> None:
    connector_id = await sso_connector(db, issuer=provider.url)
    user_id = await new_user(client, auth)
    await refused(access_token(rpc, user_id, connector_id), 404, "secrets.third_party_token_set.token_not_found")
    refresh_token = f"rt-{secrets.token_hex(4)}"
    provider.refresh_tokens[refresh_token] = {"sub": "someone"}
    await sign_in(rpc, user_id, an_identity(connector_id, await sealed(rpc, "at-kept", refresh_token=refresh_token)))

    body = await access_token(rpc, user_id, connector_id)
    assert (body["access_token"], body["token_type"], body["scope"]) == ("at-kept", "Bearer", "openid profile")
    assert body["expires_in"] > 10**8

    # expired: refreshed at the discovered token endpoint with the client's basic authentication, then kept
    [stored] = await kept(db, user_id)
    await expire(db, stored["id"])
    refreshed = await access_token(rpc, user_id, connector_id)
    assert refreshed["access_token"] in provider.access_tokens and 3000 < refreshed["expires_in"] <= 3600
    request = provider.token_requests[-1]
    assert (request["grant_type"], request["refresh_token"]) == ("refresh_token", refresh_token)
    assert request["authorization"].startswith("Basic ") and "client_secret" not in request
    [resealed] = await kept(db, user_id)
    assert resealed["id"] == stored["id"] and resealed["tokens"]["access_token"] == refreshed["access_token"]
    assert resealed["tokens"]["refresh_token"] != refresh_token  # the provider rotated it
    assert (await access_token(rpc, user_id, connector_id))["access_token"] == refreshed["access_token"]

    # expired without a refresh token: 401, and the token set is deleted
    other = await sso_connector(db)
    await sign_in(rpc, user_id, an_identity(other, await sealed(rpc, "at-short")))
    [short] = [s for s in await kept(db, user_id) if s["ssoConnectorId"] == other]
    await expire(db, short["id"])
    await refused(access_token(rpc, user_id, other), 401, "secrets.third_party_token_set.access_token_expired")
    assert not await secret_exists(db, short["id"])
    await refused(access_token(rpc, user_id, other), 404, "secrets.third_party_token_set.token_not_found")


# going


async def test_a_token_set_goes_with_its_identity_and_its_user(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    connector_id = await sso_connector(db)
    user_id = await new_user(client, auth)
    first, second = [an_identity(connector_id, await sealed(rpc, f"at-{n}")) for n in (1, 2)]
    await sign_in(rpc, user_id, first)
    await sign_in(rpc, user_id, second)
    by_identity = {s["identityId"]: s["id"] for s in await kept(db, user_id)}
    assert set(by_identity) == {first.identity_id, second.identity_id}

    async with db.begin() as conn:
        t = user_sso_identities
        await conn.execute(sa.delete(t).where(t.c.issuer == first.issuer, t.c.identity_id == first.identity_id))
    assert not await secret_exists(db, by_identity[first.identity_id])
    assert await secret_exists(db, by_identity[second.identity_id])

    deleted = await client.delete(f"/api/users/{user_id}", headers=auth)
    assert deleted.status_code == 204, deleted.text
    assert not await secret_exists(db, by_identity[second.identity_id])


async def test_a_deleted_connector_or_one_that_stops_storing_tokens_loses_its_token_sets(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine, nats_url: str, subject_prefix: str
) -> None:
    deleted, turned_off, untouched = [await sso_connector(db) for _ in range(3)]
    user_id = await new_user(client, auth)
    for connector_id in (deleted, turned_off, untouched):
        await sign_in(rpc, user_id, an_identity(connector_id, await sealed(rpc, "at")))
    assert {s["ssoConnectorId"] for s in await kept(db, user_id)} == {deleted, turned_off, untouched}

    await publish(nats_url, subject_prefix, SsoConnectorDeleted(data=brief(deleted, token_storage=True)))
    still_storing = brief(untouched, token_storage=True)
    await publish(nats_url, subject_prefix, SsoConnectorUpdated(data=still_storing, changed=["connectorName"]))
    off = brief(turned_off, token_storage=False)
    await publish(nats_url, subject_prefix, SsoConnectorUpdated(data=off, changed=["enableTokenStorage"]))

    async def settled() -> bool:
        return {s["ssoConnectorId"] for s in await kept(db, user_id)} == {untouched}

    await eventually(settled)
    url = f"/api/users/{user_id}/all-identities?includeTokenSecret=true"
    identities = {i["ssoConnectorId"]: i for i in (await client.get(url, headers=auth)).json()["ssoIdentities"]}
    assert set(identities) == {turned_off, untouched}  # the deleted connector's identity went too
    assert "tokenSecret" not in identities[turned_off] and "tokenSecret" in identities[untouched]
