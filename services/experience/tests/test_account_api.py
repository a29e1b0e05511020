"""Logto's Account API on experience, with the real identity service: a user signs in to an app through
identity's authorization-code flow (`gatehouse_testing.oidc_flow.sign_in_and_exchange`) and calls
`/api/my-account` and `/api/verifications` with the opaque access token, as far as the account center allows."""

import secrets

import sqlalchemy as sa
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.tables.experience import verification_records
from gatehouse_schema.tables.management import sign_in_experiences
from httpx import AsyncClient
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from .accountkit import account_center, rpc, signed_in, verify_password
from .flowkit import error

__all__ = ["rpc"]  # the fixture, for the tests of this module


async def test_requests_without_a_valid_bearer_token_are_unauthorized(client: AsyncClient, db: AsyncEngine) -> None:
    await account_center(db)
    error(await client.get("/api/my-account"), 401, "auth.authorization_header_missing")
    basic = await client.get("/api/my-account", headers={"Authorization": "Basic abc"})
    error(basic, 401, "auth.authorization_token_type_not_supported")
    assert basic.json()["data"] == {"supportedTypes": ["Bearer"]}
    error(await client.get("/api/my-account", headers={"Authorization": "Bearer nope"}), 401, "auth.unauthorized")
    error(await verify_password(client, {"Authorization": "Bearer nope"}), 401, "auth.unauthorized")


async def test_the_account_api_is_off_until_the_account_center_is_enabled(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    _, bearer = await signed_in(identity, rpc, db, auth)
    await account_center(db, enabled=False)
    error(await client.get("/api/my-account", headers=bearer), 400, "account_center.not_enabled")
    error(await verify_password(client, bearer), 400, "account_center.not_enabled")
    await account_center(db)
    assert (await client.get("/api/my-account", headers=bearer)).status_code == 200


async def test_profile_shows_what_the_scopes_grant_and_the_account_center_lets_read(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user, bearer = await signed_in(identity, rpc, db, auth, scope="openid profile email")
    await account_center(db, fields={"name": "ReadOnly", "username": "Edit", "password": "ReadOnly"})
    profile = (await client.get("/api/my-account", headers=bearer)).json()
    assert profile["id"] == user["id"] and profile["name"] == "Ada" and profile["username"] == user["username"]
    assert profile["hasPassword"] is True and profile["isSuspended"] is False
    assert "primaryEmail" not in profile and "avatar" not in profile  # `email` and `avatar` are Off
    assert "customData" not in profile  # no `custom_data` scope
    await account_center(db, fields={"email": "ReadOnly"})
    profile = (await client.get("/api/my-account", headers=bearer)).json()
    assert profile["primaryEmail"] == user["primaryEmail"] and "name" not in profile


async def test_update_profile_changes_editable_fields_through_identity(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user, bearer = await signed_in(identity, rpc, db, auth)
    await account_center(db)
    new_name = f"n{secrets.token_hex(4)}"
    updated = await client.patch("/api/my-account", json={"name": "Grace", "username": new_name}, headers=bearer)
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Grace" and updated.json()["username"] == new_name
    stored = (await identity.get(f"/api/users/{user['id']}", headers=auth)).json()
    assert stored["name"] == "Grace" and stored["username"] == new_name
    cleared = await client.patch("/api/my-account", json={"name": None}, headers=bearer)
    assert cleared.status_code == 200 and cleared.json()["name"] is None


async def test_update_profile_is_refused_for_fields_not_editable_and_bad_values(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    other, _ = await signed_in(identity, rpc, db, auth)
    _, bearer = await signed_in(identity, rpc, db, auth)
    await account_center(db, fields={"name": "ReadOnly", "username": "Edit"})
    error(
        await client.patch("/api/my-account", json={"name": "x"}, headers=bearer),
        400,
        "account_center.field_not_editable",
    )
    error(await client.patch("/api/my-account", json={"username": "1bad"}, headers=bearer), 400, "guard.invalid_input")
    taken = await client.patch("/api/my-account", json={"username": other["username"]}, headers=bearer)
    error(taken, 422, "user.username_already_in_use")
    error(
        await client.patch("/api/my-account", json={"customData": {}}, headers=bearer),
        400,
        "account_center.field_not_editable",
    )


async def test_username_cannot_be_cleared_when_sign_up_requires_it(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    _, bearer = await signed_in(identity, rpc, db, auth)
    await account_center(db)
    settings = {"signInMode": "SignInAndRegister", "signUp": {"identifiers": ["username"], "password": True}}
    async with db.begin() as conn:
        await conn.execute(
            insert(sign_in_experiences)
            .values(tenant_id="default", id="default", settings=settings, updated_at=sa.func.now())
            .on_conflict_do_update(index_elements=[sign_in_experiences.c.tenant_id], set_={"settings": settings})
        )
    error(await client.patch("/api/my-account", json={"username": None}, headers=bearer), 400, "user.username_required")


async def test_other_profile_is_merged_and_address_needs_its_scope(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user, bearer = await signed_in(identity, rpc, db, auth)
    await account_center(db)
    first = await client.patch("/api/my-account/profile", json={"givenName": "Ada"}, headers=bearer)
    assert first.status_code == 200 and first.json() == {"givenName": "Ada"}, first.text
    second = await client.patch("/api/my-account/profile", json={"familyName": "Lovelace"}, headers=bearer)
    assert second.json() == {"givenName": "Ada", "familyName": "Lovelace"}
    stored = (await identity.get(f"/api/users/{user['id']}", headers=auth)).json()
    assert stored["profile"] == {"givenName": "Ada", "familyName": "Lovelace"}
    address = {"address": {"country": "UK"}}
    error(await client.patch("/api/my-account/profile", json=address, headers=bearer), 400, "auth.unauthorized")
    error(
        await client.patch("/api/my-account/profile", json={"nickname": 3}, headers=bearer), 400, "guard.invalid_input"
    )


async def test_password_verification_gives_a_record_that_lets_the_password_change(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user, bearer = await signed_in(identity, rpc, db, auth)
    await account_center(db)
    error(await verify_password(client, bearer, "wrong password"), 422, "session.invalid_credentials")
    created = await verify_password(client, bearer)
    assert created.status_code == 201, created.text
    record_id = created.json()["verificationRecordId"]
    assert created.json()["expiresAt"].endswith("Z")
    new = "Brand-new-pa55word!"
    error(
        await client.post("/api/my-account/password", json={"password": new}, headers=bearer),
        401,
        "verification_record.permission_denied",
    )
    headers = {**bearer, "logto-verification-id": record_id}
    error(
        await client.post("/api/my-account/password", json={"password": "ab"}, headers=headers),
        422,
        "password.rejected",
    )
    changed = await client.post("/api/my-account/password", json={"password": new}, headers=headers)
    assert changed.status_code == 204, changed.text
    error(await verify_password(client, bearer), 422, "session.invalid_credentials")
    assert (await verify_password(client, bearer, new)).status_code == 201
    async with db.connect() as conn:
        owner = await conn.scalar(
            sa.select(verification_records.c.user_id).where(verification_records.c.id == record_id)
        )
    assert owner == user["id"]


async def test_a_record_of_another_user_or_expired_does_not_verify(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    _, mine = await signed_in(identity, rpc, db, auth)
    _, theirs = await signed_in(identity, rpc, db, auth)
    await account_center(db)
    their_record = (await verify_password(client, theirs)).json()["verificationRecordId"]
    body = {"password": "Brand-new-pa55word!"}
    headers = {**mine, "logto-verification-id": their_record}
    error(
        await client.post("/api/my-account/password", json=body, headers=headers),
        401,
        "verification_record.permission_denied",
    )
    my_record = (await verify_password(client, mine)).json()["verificationRecordId"]
    async with db.begin() as conn:
        expired = sa.func.now() - sa.text("interval '1 second'")
        await conn.execute(
            sa.update(verification_records).where(verification_records.c.id == my_record).values(expires_at=expired)
        )
    headers = {**mine, "logto-verification-id": my_record}
    error(
        await client.post("/api/my-account/password", json=body, headers=headers),
        401,
        "verification_record.permission_denied",
    )


async def test_password_needs_an_editable_field(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    _, bearer = await signed_in(identity, rpc, db, auth)
    await account_center(db, fields={"password": "ReadOnly"})
    record = (await verify_password(client, bearer)).json()["verificationRecordId"]
    headers = {**bearer, "logto-verification-id": record}
    body = {"password": "Brand-new-pa55word!"}
    error(
        await client.post("/api/my-account/password", json=body, headers=headers),
        400,
        "account_center.field_not_editable",
    )
