"""The social identities of Logto's Account API on experience, with the real identity service and a real (test)
provider: a `Social` verification record (`POST /api/verifications/social`, `.../verify`) proves the user owns a
social account, which `POST /api/my-account/identities` links, `PUT` puts in place of the user's identity at its
target (or adds) and `DELETE .../identities/{target}` unlinks; `PUT .../identities/{target}/access-token` keeps a
record's token set for an identity of the user."""

import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from gatehouse_schema.tables import management as m
from httpx import Response

from .accountkit import IDENTITIES_SCOPES, SocialKit, bearer_of, kit, rpc, verify_password
from .flowkit import SOCIAL_CALLBACK, error, oidc_code, provider

__all__ = ["kit", "provider", "rpc"]  # the fixtures, for the tests of this module

IDENTITIES = "/api/my-account/identities"


async def verified(kit: SocialKit, bearer: dict[str, str]) -> dict[str, str]:
    """The bearer with a password verification record in `logto-verification-id`."""
    record = await verify_password(kit.client, bearer)
    assert record.status_code == 201, record.text
    return {**bearer, "logto-verification-id": record.json()["verificationRecordId"]}


async def started(kit: SocialKit, bearer: dict[str, str], connector_id: str) -> tuple[str, str, dict[str, Any]]:
    """A new social record: its id, the state it was started with and the reply."""
    state = secrets.token_urlsafe(8)
    body = {"connectorId": connector_id, "state": state, "redirectUri": SOCIAL_CALLBACK}
    created = await kit.client.post("/api/verifications/social", json=body, headers=bearer)
    assert created.status_code == 201, created.text
    return str(created.json()["verificationRecordId"]), state, dict(created.json())


async def verify(kit: SocialKit, bearer: dict[str, str], record_id: str, state: str, sub: str, **claims: Any) -> None:
    """Verifies a started social record with the provider's code for its user `sub` (of `claims`)."""
    code = oidc_code(kit.provider, sub, state, **claims)
    body = {"verificationRecordId": record_id, "connectorData": {"code": code, "state": state}}
    verified = await kit.client.post("/api/verifications/social/verify", json=body, headers=bearer)
    assert verified.status_code == 200 and verified.json() == {"verificationRecordId": record_id}, verified.text


async def social_record(kit: SocialKit, bearer: dict[str, str], connector_id: str, sub: str) -> str:
    """A verified social record of the provider's user `sub`: the authorization URI, the code, the verification."""
    record_id, state, _ = await started(kit, bearer, connector_id)
    await verify(kit, bearer, record_id, state, sub)
    return record_id


async def link(kit: SocialKit, headers: dict[str, str], record_id: str) -> Response:
    return await kit.client.post(IDENTITIES, json={"newIdentifierVerificationRecordId": record_id}, headers=headers)


async def replace(kit: SocialKit, headers: dict[str, str], record_id: str) -> Response:
    return await kit.client.put(IDENTITIES, json={"newIdentifierVerificationRecordId": record_id}, headers=headers)


async def linked(kit: SocialKit, headers: dict[str, str], connector_id: str, sub: str) -> None:
    """Links the identity `sub` of the connector through a new verified social record (`headers`: the bearer with
    a password verification record; the social record is made with the bearer alone)."""
    bearer = {"Authorization": headers["Authorization"]}
    linking = await link(kit, headers, await social_record(kit, bearer, connector_id, sub))
    assert linking.status_code == 204, linking.text


async def given(kit: SocialKit, user_id: str, target: str, sub: str) -> None:
    """The identity `sub` of `target` put on the user through the Management API."""
    identity = {"userId": sub, "details": {"id": sub}}
    put = await kit.identity.put(f"/api/users/{user_id}/identities/{target}", json=identity, headers=kit.auth)
    assert put.status_code == 201, put.text


async def identities_of(kit: SocialKit, bearer: dict[str, str]) -> dict[str, Any]:
    return dict((await kit.client.get("/api/my-account", headers=bearer)).json()["identities"])


async def keep(kit: SocialKit, target: str, record_id: str, bearer: dict[str, str]) -> Response:
    """`PUT .../identities/{target}/access-token` of the record's token set."""
    url = f"{IDENTITIES}/{target}/access-token"
    return await kit.client.put(url, json={"verificationRecordId": record_id}, headers=bearer)


async def test_a_social_identity_is_linked_through_a_verified_record(kit: SocialKit) -> None:
    user, bearer = await kit.signed_in()
    await kit.social_field("Edit")
    connector_id, target = await kit.connector(token_storage=True)
    record_id, state, created = await started(kit, bearer, connector_id)
    uri = urlsplit(created["authorizationUri"])
    assert f"{uri.scheme}://{uri.netloc}{uri.path}" == f"{kit.provider.url}/authorize"
    assert parse_qs(uri.query)["state"] == [state] and created["expiresAt"].endswith("Z")
    sub = f"ext-{user['id']}"
    await verify(kit, bearer, record_id, state, sub, name="Ada Social")
    headers = await verified(kit, bearer)
    linking = await link(kit, headers, record_id)
    assert linking.status_code == 204, linking.text
    identities = await identities_of(kit, bearer)
    assert identities[target]["userId"] == sub and identities[target]["details"]["name"] == "Ada Social"
    # the connector stores tokens: the link kept the provider's
    token = await kit.access_token(target, bearer)
    assert token.status_code == 200 and token.json()["access_token"] in kit.provider.access_tokens, token.text
    # one identity per target: linking again is Logto's 400
    error(await link(kit, headers, record_id), 400, "user.identity_already_in_use")


async def test_creating_and_verifying_a_social_record_follow_logtos_rules(kit: SocialKit) -> None:
    _, bearer = await kit.signed_in()
    _, other = await kit.signed_in()
    await kit.social_field("Edit")
    connector_id, _ = await kit.connector()
    url = "/api/verifications/social"
    empty = {"connectorId": connector_id, "state": "", "redirectUri": SOCIAL_CALLBACK}
    error(await kit.client.post(url, json=empty, headers=bearer), 400, "session.insufficient_info")
    unknown = {"connectorId": "nope", "state": "s", "redirectUri": SOCIAL_CALLBACK}
    error(await kit.client.post(url, json=unknown, headers=bearer), 404, "entity.not_found")
    record_id, state, _ = await started(kit, bearer, connector_id)
    body = {"verificationRecordId": record_id, "connectorData": {"code": "x", "state": state}}
    error(await kit.client.post(f"{url}/verify", json=body, headers=other), 400, "verification_record.not_found")
    password_record = (await verify_password(kit.client, bearer)).json()["verificationRecordId"]
    wrong_type = {**body, "verificationRecordId": password_record}
    error(await kit.client.post(f"{url}/verify", json=wrong_type, headers=bearer), 400, "verification_record.not_found")


async def test_linking_needs_a_verified_identity_the_social_field_the_scope_and_a_verified_record(
    kit: SocialKit,
) -> None:
    user, bearer = await kit.signed_in()
    _, narrow = await kit.signed_in(identities=False)
    _, other = await kit.signed_in()
    await kit.social_field("Edit")
    connector_id, _ = await kit.connector()
    record_id = await social_record(kit, bearer, connector_id, f"ext-{user['id']}")
    # a social record proves a social account, never the user's identity
    as_identity = {**bearer, "logto-verification-id": record_id}
    error(await link(kit, as_identity, record_id), 401, "verification_record.permission_denied")
    error(await link(kit, bearer, record_id), 401, "verification_record.permission_denied")
    headers = await verified(kit, bearer)
    await kit.social_field("ReadOnly")
    error(await link(kit, headers, record_id), 400, "account_center.field_not_editable")
    await kit.social_field("Edit")
    error(await link(kit, await verified(kit, narrow), record_id), 401, "auth.unauthorized")
    error(await link(kit, await verified(kit, other), record_id), 400, "verification_record.not_found")
    unverified, _, _ = await started(kit, bearer, connector_id)
    error(await link(kit, headers, unverified), 400, "verification_record.not_found")
    error(await link(kit, headers, headers["logto-verification-id"]), 400, "verification_record.not_found")
    assert (await link(kit, headers, record_id)).status_code == 204


async def test_an_identity_of_another_user_is_not_linked(kit: SocialKit) -> None:
    owner, _ = await kit.signed_in(identities=False)
    _, bearer = await kit.signed_in()
    await kit.social_field("Edit")
    connector_id, target = await kit.connector()
    sub = f"ext-{owner['id']}"
    await given(kit, owner["id"], target, sub)
    record_id = await social_record(kit, bearer, connector_id, sub)
    error(await link(kit, await verified(kit, bearer), record_id), 422, "user.identity_already_in_use")


async def test_an_identity_is_deleted_unless_it_is_the_last_identifier(kit: SocialKit) -> None:
    user, bearer = await kit.signed_in()
    _, narrow = await kit.signed_in(identities=False)
    await kit.social_field("Edit")
    connector_id, target = await kit.connector()
    headers = await verified(kit, bearer)
    await linked(kit, headers, connector_id, "s1")
    url = f"{IDENTITIES}/{target}"
    error(await kit.client.delete(url, headers=bearer), 401, "verification_record.permission_denied")
    error(await kit.client.delete(url, headers=await verified(kit, narrow)), 400, "auth.unauthorized")
    await kit.social_field("ReadOnly")
    error(await kit.client.delete(url, headers=headers), 400, "account_center.field_not_editable")
    await kit.social_field("Edit")
    deleted = await kit.client.delete(url, headers=headers)
    assert deleted.status_code == 204, deleted.text
    assert target not in await identities_of(kit, bearer)
    error(await kit.client.delete(url, headers=headers), 404, "user.identity_not_exist")
    # a user with no password, email or phone needs no verification record, but keeps an identifier
    lone = await kit.identity.post("/api/users", json={"name": "Lone"}, headers=kit.auth)
    assert lone.status_code == 200, lone.text
    await given(kit, lone.json()["id"], target, "lone")
    lone_bearer = await bearer_of(kit.identity, kit.rpc, kit.db, lone.json()["id"], IDENTITIES_SCOPES)
    error(await kit.client.delete(url, headers=lone_bearer), 400, "user.last_sign_in_method_required")
    assert user["id"] != lone.json()["id"]


async def test_a_records_token_set_is_kept_for_an_identity_and_read_back(kit: SocialKit) -> None:
    user, bearer = await kit.signed_in()
    await kit.social_field("Edit")
    connector_id, target = await kit.connector(token_storage=True)
    sub = f"ext-{user['id']}"
    headers = await verified(kit, bearer)
    await linked(kit, headers, connector_id, sub)
    first = (await kit.access_token(target, bearer)).json()["access_token"]
    record_id = await social_record(kit, bearer, connector_id, sub)
    kept = await keep(kit, target, record_id, bearer)
    assert kept.status_code == 200, kept.text
    body = kept.json()
    assert body["access_token"] in kit.provider.access_tokens and body["access_token"] != first
    assert body["token_type"] == "Bearer" and 3500 < body["expires_in"] <= 3600
    assert (await kit.access_token(target, bearer)).json()["access_token"] == body["access_token"]
    # the record's connector is of another target; its identity is not the user's; no token set to keep
    invalid_target = "verification_record.social_verification.invalid_target"
    error(await keep(kit, "elsewhere", record_id, bearer), 422, invalid_target)
    stranger = await social_record(kit, bearer, connector_id, "someone-else")
    error(await keep(kit, target, stranger, bearer), 422, "user.identity_not_exists_in_current_user")
    plain_id, plain_target = await kit.connector()
    await linked(kit, headers, plain_id, sub)
    plain = await social_record(kit, bearer, plain_id, sub)
    no_token_set = "verification_record.social_verification.token_response_not_found"
    error(await keep(kit, plain_target, plain, bearer), 422, no_token_set)


async def test_keeping_a_token_set_needs_the_social_field_the_scope_and_a_verified_record(kit: SocialKit) -> None:
    user, bearer = await kit.signed_in()
    _, narrow = await kit.signed_in(identities=False)
    connector_id, target = await kit.connector(token_storage=True)
    await kit.social_field("Edit")
    record_id = await social_record(kit, bearer, connector_id, f"ext-{user['id']}")
    error(await keep(kit, target, record_id, narrow), 401, "auth.unauthorized")
    unverified, _, _ = await started(kit, bearer, connector_id)
    error(await keep(kit, target, unverified, bearer), 400, "verification_record.not_found")
    await kit.social_field("Off")
    error(await keep(kit, target, record_id, bearer), 400, "account_center.field_not_enabled")


async def test_put_replaces_the_identity_of_the_target_and_its_token_set(kit: SocialKit) -> None:
    user, bearer = await kit.signed_in()
    await kit.social_field("Edit")
    connector_id, target = await kit.connector(token_storage=True)
    headers = await verified(kit, bearer)
    await linked(kit, headers, connector_id, f"old-{user['id']}")
    first = (await kit.access_token(target, bearer)).json()["access_token"]
    sub = f"new-{user['id']}"
    record_id = await social_record(kit, bearer, connector_id, sub)
    replaced = await replace(kit, headers, record_id)
    assert replaced.status_code == 204, replaced.text
    identity = (await identities_of(kit, bearer))[target]
    assert identity["userId"] == sub and identity["details"]["id"] == sub
    # the new account's token set took the old one's place
    token = (await kit.access_token(target, bearer)).json()["access_token"]
    assert token in kit.provider.access_tokens and token != first
    # idempotent: the same record again changes nothing
    again = await replace(kit, headers, record_id)
    assert again.status_code == 204, again.text
    assert (await identities_of(kit, bearer))[target]["userId"] == sub
    assert (await kit.access_token(target, bearer)).json()["access_token"] == token
    # the connector stops storing tokens (its row only, no event): another account's record brings no token set,
    # yet the replaced account's token set goes with it
    async with kit.db.begin() as conn:
        await conn.execute(
            sa.update(m.connectors).where(m.connectors.c.id == connector_id).values(enable_token_storage=False)
        )
    third = await social_record(kit, bearer, connector_id, f"third-{user['id']}")
    assert (await replace(kit, headers, third)).status_code == 204
    assert (await identities_of(kit, bearer))[target]["userId"] == f"third-{user['id']}"
    error(await kit.access_token(target, bearer), 404, "secrets.third_party_token_set.token_not_found")


async def test_put_adds_an_identity_when_the_target_has_none(kit: SocialKit) -> None:
    user, bearer = await kit.signed_in()
    await kit.social_field("Edit")
    connector_id, target = await kit.connector(token_storage=True)
    other_id, other_target = await kit.connector()
    headers = await verified(kit, bearer)
    await linked(kit, headers, other_id, f"other-{user['id']}")
    sub = f"ext-{user['id']}"
    added = await replace(kit, headers, await social_record(kit, bearer, connector_id, sub))
    assert added.status_code == 204, added.text
    identities = await identities_of(kit, bearer)
    assert identities[target]["userId"] == sub and identities[other_target]["userId"] == f"other-{user['id']}"
    token = await kit.access_token(target, bearer)
    assert token.status_code == 200 and token.json()["access_token"] in kit.provider.access_tokens, token.text
    # a user with no password, email or phone needs no verification record
    lone = await kit.identity.post("/api/users", json={"name": "Lone"}, headers=kit.auth)
    assert lone.status_code == 200, lone.text
    await given(kit, lone.json()["id"], other_target, f"lone-{lone.json()['id']}")
    lone_bearer = await bearer_of(kit.identity, kit.rpc, kit.db, lone.json()["id"], IDENTITIES_SCOPES)
    lone_sub = f"lone-{lone.json()['id']}"
    lone_added = await replace(kit, lone_bearer, await social_record(kit, lone_bearer, connector_id, lone_sub))
    assert lone_added.status_code == 204, lone_added.text
    assert (await identities_of(kit, lone_bearer))[target]["userId"] == lone_sub


async def test_replacing_follows_the_rules_of_linking(kit: SocialKit) -> None:
    user, bearer = await kit.signed_in()
    owner, _ = await kit.signed_in(identities=False)
    _, narrow = await kit.signed_in(identities=False)
    _, other = await kit.signed_in()
    await kit.social_field("Edit")
    connector_id, target = await kit.connector()
    headers = await verified(kit, bearer)
    await linked(kit, headers, connector_id, f"ext-{user['id']}")
    record_id = await social_record(kit, bearer, connector_id, f"new-{user['id']}")
    as_identity = {**bearer, "logto-verification-id": record_id}
    error(await replace(kit, as_identity, record_id), 401, "verification_record.permission_denied")
    error(await replace(kit, bearer, record_id), 401, "verification_record.permission_denied")
    await kit.social_field("ReadOnly")
    error(await replace(kit, headers, record_id), 400, "account_center.field_not_editable")
    await kit.social_field("Edit")
    error(await replace(kit, await verified(kit, narrow), record_id), 401, "auth.unauthorized")
    error(await replace(kit, await verified(kit, other), record_id), 400, "verification_record.not_found")
    unverified, _, _ = await started(kit, bearer, connector_id)
    error(await replace(kit, headers, unverified), 400, "verification_record.not_found")
    error(await replace(kit, headers, headers["logto-verification-id"]), 400, "verification_record.not_found")
    # another user's identity is never taken over
    taken = f"ext-{owner['id']}"
    await given(kit, owner["id"], target, taken)
    error(
        await replace(kit, headers, await social_record(kit, bearer, connector_id, taken)),
        422,
        "user.identity_already_in_use",
    )
    assert (await identities_of(kit, bearer))[target]["userId"] == f"ext-{user['id']}"
    assert (await replace(kit, headers, record_id)).status_code == 204
