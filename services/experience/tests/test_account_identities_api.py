"""The social identities of Logto's Account API on experience, with the real identity service and a real (test)
provider: a `Social` verification record (`POST /api/verifications/social`, `.../verify`) proves the user owns a
social account, which `POST /api/my-account/identities` links and `DELETE .../identities/{target}` unlinks;
`PUT .../identities/{target}/access-token` keeps a record's token set for an identity of the user."""

import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gatehouse_platform.rpc import RpcClient
from gatehouse_testing.fake_provider import FakeProvider
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from .accountkit import ALL_EDIT, account_center, bearer_of, rpc, signed_in, verify_password
from .flowkit import SOCIAL_CALLBACK, error, make_connector, oidc_code, provider

__all__ = ["provider", "rpc"]  # the fixtures, for the tests of this module

SCOPES = "openid profile identities"
SOCIAL_EDIT = {**ALL_EDIT, "social": "Edit"}
IDENTITIES = "/api/my-account/identities"


async def verified(client: AsyncClient, bearer: dict[str, str]) -> dict[str, str]:
    """The bearer with a password verification record in `logto-verification-id`."""
    record = await verify_password(client, bearer)
    assert record.status_code == 201, record.text
    return {**bearer, "logto-verification-id": record.json()["verificationRecordId"]}


async def started(client: AsyncClient, bearer: dict[str, str], connector_id: str) -> tuple[str, str, dict[str, Any]]:
    """A new social record: its id, the state it was started with and the reply."""
    state = secrets.token_urlsafe(8)
    body = {"connectorId": connector_id, "state": state, "redirectUri": SOCIAL_CALLBACK}
    created = await client.post("/api/verifications/social", json=body, headers=bearer)
    assert created.status_code == 201, created.text
    return str(created.json()["verificationRecordId"]), state, dict(created.json())


async def social_record(
    client: AsyncClient, bearer: dict[str, str], provider: FakeProvider, connector_id: str, sub: str
) -> str:
    """A verified social record of the provider's user `sub`: the authorization URI, the code, the verification."""
    record_id, state, _ = await started(client, bearer, connector_id)
    body = {
        "verificationRecordId": record_id,
        "connectorData": {"code": oidc_code(provider, sub, state), "state": state},
    }
    verified = await client.post("/api/verifications/social/verify", json=body, headers=bearer)
    assert verified.status_code == 200 and verified.json() == {"verificationRecordId": record_id}, verified.text
    return record_id


async def link(client: AsyncClient, headers: dict[str, str], record_id: str) -> Response:
    return await client.post(IDENTITIES, json={"newIdentifierVerificationRecordId": record_id}, headers=headers)


async def test_a_social_identity_is_linked_through_a_verified_record(
    client: AsyncClient,
    identity: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    provider: FakeProvider,
) -> None:
    user, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    await account_center(db, fields=SOCIAL_EDIT)
    connector_id, target = await make_connector(db, provider, token_storage=True)
    record_id, state, created = await started(client, bearer, connector_id)
    uri = urlsplit(created["authorizationUri"])
    assert f"{uri.scheme}://{uri.netloc}{uri.path}" == f"{provider.url}/authorize"
    assert parse_qs(uri.query)["state"] == [state] and created["expiresAt"].endswith("Z")
    sub = f"ext-{user['id']}"
    code = oidc_code(provider, sub, state, name="Ada Social")
    body = {"verificationRecordId": record_id, "connectorData": {"code": code, "state": state}}
    verified_record = await client.post("/api/verifications/social/verify", json=body, headers=bearer)
    assert verified_record.status_code == 200, verified_record.text
    headers = await verified(client, bearer)
    linked = await link(client, headers, record_id)
    assert linked.status_code == 204, linked.text
    identities = (await client.get("/api/my-account", headers=bearer)).json()["identities"]
    assert identities[target]["userId"] == sub and identities[target]["details"]["name"] == "Ada Social"
    # the connector stores tokens: the link kept the provider's
    token = await client.get(f"{IDENTITIES}/{target}/access-token", headers=bearer)
    assert token.status_code == 200 and token.json()["access_token"] in provider.access_tokens, token.text
    # one identity per target: linking again is Logto's 400
    error(await link(client, headers, record_id), 400, "user.identity_already_in_use")


async def test_creating_and_verifying_a_social_record_follow_logtos_rules(
    client: AsyncClient,
    identity: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    provider: FakeProvider,
) -> None:
    _, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    _, other = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    await account_center(db, fields=SOCIAL_EDIT)
    connector_id, _ = await make_connector(db, provider)
    url = "/api/verifications/social"
    empty = {"connectorId": connector_id, "state": "", "redirectUri": SOCIAL_CALLBACK}
    error(await client.post(url, json=empty, headers=bearer), 400, "session.insufficient_info")
    unknown = {"connectorId": "nope", "state": "s", "redirectUri": SOCIAL_CALLBACK}
    error(await client.post(url, json=unknown, headers=bearer), 404, "entity.not_found")
    record_id, state, _ = await started(client, bearer, connector_id)
    body = {"verificationRecordId": record_id, "connectorData": {"code": "x", "state": state}}
    error(await client.post(f"{url}/verify", json=body, headers=other), 400, "verification_record.not_found")
    password_record = (await verify_password(client, bearer)).json()["verificationRecordId"]
    wrong_type = {**body, "verificationRecordId": password_record}
    error(await client.post(f"{url}/verify", json=wrong_type, headers=bearer), 400, "verification_record.not_found")


async def test_linking_needs_a_verified_identity_the_social_field_the_scope_and_a_verified_record(
    client: AsyncClient,
    identity: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    provider: FakeProvider,
) -> None:
    user, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    _, narrow = await signed_in(identity, rpc, db, auth)
    _, other = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    await account_center(db, fields=SOCIAL_EDIT)
    connector_id, _ = await make_connector(db, provider)
    record_id = await social_record(client, bearer, provider, connector_id, f"ext-{user['id']}")
    # a social record proves a social account, never the user's identity
    as_identity = {**bearer, "logto-verification-id": record_id}
    error(await link(client, as_identity, record_id), 401, "verification_record.permission_denied")
    error(await link(client, bearer, record_id), 401, "verification_record.permission_denied")
    headers = await verified(client, bearer)
    await account_center(db, fields={**ALL_EDIT, "social": "ReadOnly"})
    error(await link(client, headers, record_id), 400, "account_center.field_not_editable")
    await account_center(db, fields=SOCIAL_EDIT)
    error(await link(client, await verified(client, narrow), record_id), 401, "auth.unauthorized")
    error(await link(client, await verified(client, other), record_id), 400, "verification_record.not_found")
    unverified, _, _ = await started(client, bearer, connector_id)
    error(await link(client, headers, unverified), 400, "verification_record.not_found")
    error(await link(client, headers, headers["logto-verification-id"]), 400, "verification_record.not_found")
    assert (await link(client, headers, record_id)).status_code == 204


async def test_an_identity_of_another_user_is_not_linked(
    client: AsyncClient,
    identity: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    provider: FakeProvider,
) -> None:
    owner, _ = await signed_in(identity, rpc, db, auth)
    _, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    await account_center(db, fields=SOCIAL_EDIT)
    connector_id, target = await make_connector(db, provider)
    sub = f"ext-{owner['id']}"
    taken = {"userId": sub, "details": {"id": sub}}
    put = await identity.put(f"/api/users/{owner['id']}/identities/{target}", json=taken, headers=auth)
    assert put.status_code == 201, put.text
    record_id = await social_record(client, bearer, provider, connector_id, sub)
    error(await link(client, await verified(client, bearer), record_id), 422, "user.identity_already_in_use")


async def test_an_identity_is_deleted_unless_it_is_the_last_identifier(
    client: AsyncClient,
    identity: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    provider: FakeProvider,
) -> None:
    user, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    _, narrow = await signed_in(identity, rpc, db, auth)
    await account_center(db, fields=SOCIAL_EDIT)
    connector_id, target = await make_connector(db, provider)
    headers = await verified(client, bearer)
    assert (
        await link(client, headers, await social_record(client, bearer, provider, connector_id, "s1"))
    ).status_code == 204
    url = f"{IDENTITIES}/{target}"
    error(await client.delete(url, headers=bearer), 401, "verification_record.permission_denied")
    error(await client.delete(url, headers=await verified(client, narrow)), 400, "auth.unauthorized")
    await account_center(db, fields={**ALL_EDIT, "social": "ReadOnly"})
    error(await client.delete(url, headers=headers), 400, "account_center.field_not_editable")
    await account_center(db, fields=SOCIAL_EDIT)
    deleted = await client.delete(url, headers=headers)
    assert deleted.status_code == 204, deleted.text
    assert target not in (await client.get("/api/my-account", headers=bearer)).json()["identities"]
    error(await client.delete(url, headers=headers), 404, "user.identity_not_exist")
    # a user with no password, email or phone needs no verification record, but keeps an identifier
    lone = await identity.post("/api/users", json={"name": "Lone"}, headers=auth)
    assert lone.status_code == 200, lone.text
    only = {"userId": "lone", "details": {"id": "lone"}}
    put = await identity.put(f"/api/users/{lone.json()['id']}/identities/{target}", json=only, headers=auth)
    assert put.status_code == 201, put.text
    lone_bearer = await bearer_of(identity, rpc, db, lone.json()["id"], SCOPES)
    error(await client.delete(url, headers=lone_bearer), 400, "user.last_sign_in_method_required")
    assert user["id"] != lone.json()["id"]


async def test_a_records_token_set_is_kept_for_an_identity_and_read_back(
    client: AsyncClient,
    identity: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    provider: FakeProvider,
) -> None:
    user, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    await account_center(db, fields=SOCIAL_EDIT)
    connector_id, target = await make_connector(db, provider, token_storage=True)
    sub = f"ext-{user['id']}"
    headers = await verified(client, bearer)
    assert (
        await link(client, headers, await social_record(client, bearer, provider, connector_id, sub))
    ).status_code == 204
    url = f"{IDENTITIES}/{target}/access-token"
    first = (await client.get(url, headers=bearer)).json()["access_token"]
    record_id = await social_record(client, bearer, provider, connector_id, sub)
    kept = await client.put(url, json={"verificationRecordId": record_id}, headers=bearer)
    assert kept.status_code == 200, kept.text
    body = kept.json()
    assert body["access_token"] in provider.access_tokens and body["access_token"] != first
    assert body["token_type"] == "Bearer" and 3500 < body["expires_in"] <= 3600
    assert (await client.get(url, headers=bearer)).json()["access_token"] == body["access_token"]
    # the record's connector is of another target; its identity is not the user's; no token set to keep
    error(
        await client.put(
            f"{IDENTITIES}/elsewhere/access-token", json={"verificationRecordId": record_id}, headers=bearer
        ),
        422,
        "verification_record.social_verification.invalid_target",
    )
    stranger = await social_record(client, bearer, provider, connector_id, "someone-else")
    error(
        await client.put(url, json={"verificationRecordId": stranger}, headers=bearer),
        422,
        "user.identity_not_exists_in_current_user",
    )
    plain_id, plain_target = await make_connector(db, provider)
    assert (
        await link(client, headers, await social_record(client, bearer, provider, plain_id, sub))
    ).status_code == 204
    plain = await social_record(client, bearer, provider, plain_id, sub)
    error(
        await client.put(
            f"{IDENTITIES}/{plain_target}/access-token", json={"verificationRecordId": plain}, headers=bearer
        ),
        422,
        "verification_record.social_verification.token_response_not_found",
    )


async def test_keeping_a_token_set_needs_the_social_field_the_scope_and_a_verified_record(
    client: AsyncClient,
    identity: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    provider: FakeProvider,
) -> None:
    user, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    _, narrow = await signed_in(identity, rpc, db, auth)
    connector_id, target = await make_connector(db, provider, token_storage=True)
    await account_center(db, fields=SOCIAL_EDIT)
    record_id = await social_record(client, bearer, provider, connector_id, f"ext-{user['id']}")
    url = f"{IDENTITIES}/{target}/access-token"
    body = {"verificationRecordId": record_id}
    error(await client.put(url, json=body, headers=narrow), 401, "auth.unauthorized")
    unverified, _, _ = await started(client, bearer, connector_id)
    error(
        await client.put(url, json={"verificationRecordId": unverified}, headers=bearer),
        400,
        "verification_record.not_found",
    )
    await account_center(db, fields={**ALL_EDIT, "social": "Off"})
    error(await client.put(url, json=body, headers=bearer), 400, "account_center.field_not_enabled")
