"""The user commands experience asks identity for over NATS: `user.verify_password`, `user.verify_totp` and
`user.create` (with its `User.Registered`)."""

import hashlib
import secrets
import time

import msgspec
import pytest
import sqlalchemy as sa
from gatehouse_identity.domain.mfa import totp_code
from gatehouse_platform.errors import GatehouseError
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.api.users import User
from gatehouse_schema.rpc.identity import (
    USER_CREATE,
    USER_FROM_ACCESS_TOKEN,
    USER_SET_PASSWORD,
    USER_UPDATE_PROFILE,
    USER_VERIFY_PASSWORD,
    USER_VERIFY_TOTP,
    AccessTokenUser,
    CreatedUser,
    CreateUser,
    FromAccessToken,
    PasswordIdentifier,
    PasswordSet,
    SetPassword,
    TotpVerified,
    UpdateProfile,
    VerifiedUser,
    VerifyPassword,
    VerifyTotp,
)
from gatehouse_schema.tables.identity import oidc_tokens, outbox
from gatehouse_testing.oidc_flow import make_flow_app, sign_in_and_exchange
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

PASSWORD = "Sign-in pa55word!"


async def _user(client: AsyncClient, auth: dict[str, str]) -> dict[str, str]:
    name = f"rpc{secrets.token_hex(5)}"
    body = {
        "username": name,
        "primaryEmail": f"{name}@Example.com",
        "primaryPhone": f"1555{secrets.randbelow(10**7):07d}",
    }
    created = await client.post("/api/users", json={**body, "password": PASSWORD}, headers=auth)
    assert created.status_code == 200, created.text
    return {**body, "id": created.json()["id"]}


async def verify(rpc: RpcClient, kind: str, value: str, password: str = PASSWORD) -> VerifiedUser:
    request = VerifyPassword(identifier=PasswordIdentifier(type=kind, value=value), password=password)
    return await rpc.call("identity", USER_VERIFY_PASSWORD, request, VerifiedUser)


async def test_any_identifier_with_the_right_password_names_the_user(
    client: AsyncClient, auth: dict[str, str], rpc: RpcClient
) -> None:
    user = await _user(client, auth)
    for kind, value in (
        ("username", user["username"]),
        ("username", user["username"].upper()),
        ("email", user["primaryEmail"].lower()),
        ("phone", user["primaryPhone"]),
    ):
        verified = await verify(rpc, kind, value)
        assert verified.user_id == user["id"] and verified.mfa_factors == []


async def test_wrong_password_unknown_user_and_suspended_user(
    client: AsyncClient, auth: dict[str, str], rpc: RpcClient
) -> None:
    user = await _user(client, auth)
    for kind, value, password in (
        ("username", user["username"], "wrong"),
        ("username", "nobody-" + secrets.token_hex(4), PASSWORD),
        ("unknown", user["username"], PASSWORD),
    ):
        with pytest.raises(GatehouseError) as refused:
            await verify(rpc, kind, value, password)
        assert refused.value.status == 422 and refused.value.code == "session.invalid_credentials"
    suspended = await client.patch(f"/api/users/{user['id']}/is-suspended", json={"isSuspended": True}, headers=auth)
    assert suspended.status_code == 200, suspended.text
    with pytest.raises(GatehouseError) as refused:
        await verify(rpc, "username", user["username"])
    assert refused.value.status == 401 and refused.value.code == "user.suspended"


async def test_totp_code_of_the_bound_factor(client: AsyncClient, auth: dict[str, str], rpc: RpcClient) -> None:
    user = await _user(client, auth)
    request = VerifyTotp(user_id=user["id"], code="123456")
    with pytest.raises(GatehouseError) as unbound:
        await rpc.call("identity", USER_VERIFY_TOTP, request, TotpVerified)
    assert unbound.value.status == 400 and unbound.value.code == "session.mfa.invalid_totp_code"
    bound = await client.post(f"/api/users/{user['id']}/mfa-verifications", json={"type": "Totp"}, headers=auth)
    assert bound.status_code == 200, bound.text
    secret = bound.json()["secret"]
    now = totp_code(secret, int(time.time() // 30))
    verified = await rpc.call("identity", USER_VERIFY_TOTP, VerifyTotp(user_id=user["id"], code=now), TotpVerified)
    assert verified.user_id == user["id"]
    stale = totp_code(secret, int(time.time() // 30) - 5)
    with pytest.raises(GatehouseError) as refused:
        await rpc.call("identity", USER_VERIFY_TOTP, VerifyTotp(user_id=user["id"], code=stale), TotpVerified)
    assert refused.value.code == "session.mfa.invalid_totp_code"


async def test_create_registers_a_user_whose_password_signs_in(
    client: AsyncClient, auth: dict[str, str], rpc: RpcClient, db: AsyncEngine
) -> None:
    name = f"Reg{secrets.token_hex(5)}"
    created = await rpc.call("identity", USER_CREATE, CreateUser(username=name, password=PASSWORD), CreatedUser)
    user = await client.get(f"/api/users/{created.user_id}", headers=auth)
    assert user.status_code == 200, user.text
    assert user.json()["username"] == name and user.json()["hasPassword"] is True
    verified = await verify(rpc, "username", name.lower())
    assert verified.user_id == created.user_id
    # `User.Created` went through identity's outbox, in the user's transaction
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.payload).where(outbox.c.subject.endswith(".identity.User.Created"))
        )
        assert any(created.user_id.encode() in payload for payload in rows.scalars())


async def test_create_announces_the_registration_for_just_in_time_provisioning(rpc: RpcClient, db: AsyncEngine) -> None:
    name = f"jit{secrets.token_hex(5)}"
    request = CreateUser(username=name, primary_email=f"{name}@corp.example.com", password=PASSWORD)
    created = await rpc.call("identity", USER_CREATE, request, CreatedUser)
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.subject, outbox.c.payload)
            .where(outbox.c.subject.like("%.identity.User.%"))
            .order_by(outbox.c.id)
        )
        mine = [(subject, msgspec.json.decode(payload)) for subject, payload in rows]
    mine = [(subject, event) for subject, event in mine if event.get("subject") == created.user_id]
    # `User.Registered` follows `User.Created` in the user's transaction; no actor, as for `User.Created`
    assert [subject.rsplit(".identity.", 1)[1] for subject, _ in mine] == ["User.Created", "User.Registered"]
    registered = mine[1][1]
    assert registered["data"] == {
        "userId": created.user_id,
        "primaryEmail": f"{name}@corp.example.com",
        "ssoConnectorId": None,
    }
    assert registered.get("actor") is None


async def test_create_refuses_a_taken_or_malformed_username(
    client: AsyncClient, auth: dict[str, str], rpc: RpcClient
) -> None:
    user = await _user(client, auth)
    for username, status, code in (
        (user["username"].upper(), 422, "user.username_already_in_use"),
        ("1starts-with-a-digit", 400, "guard.invalid_input"),
    ):
        with pytest.raises(GatehouseError) as refused:
            await rpc.call("identity", USER_CREATE, CreateUser(username=username, password=PASSWORD), CreatedUser)
        assert (refused.value.status, refused.value.code) == (status, code)


async def _signed_in(
    client: AsyncClient, browser: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> tuple[dict[str, str], str]:
    user = await _user(client, auth)
    app = await make_flow_app(db)
    tokens = await sign_in_and_exchange(client, browser, rpc, app, user["id"], scope="openid profile")
    return user, str(tokens["access_token"])


async def test_an_access_token_names_its_user_and_scopes(
    client: AsyncClient, browser: AsyncClient, auth: dict[str, str], rpc: RpcClient, db: AsyncEngine
) -> None:
    user, token = await _signed_in(client, browser, rpc, db, auth)
    found = await rpc.call("identity", USER_FROM_ACCESS_TOKEN, FromAccessToken(access_token=token), AccessTokenUser)
    assert found.user_id == user["id"] and found.user.username == user["username"]
    assert set(found.scopes) == {"openid", "profile"}


async def test_unknown_expired_or_openid_less_tokens_are_refused(
    client: AsyncClient, browser: AsyncClient, auth: dict[str, str], rpc: RpcClient, db: AsyncEngine
) -> None:
    _, token = await _signed_in(client, browser, rpc, db, auth)
    with pytest.raises(GatehouseError) as unknown:
        await rpc.call("identity", USER_FROM_ACCESS_TOKEN, FromAccessToken(access_token="nope"), AccessTokenUser)
    assert (unknown.value.status, unknown.value.code) == (401, "auth.unauthorized")
    token_id = hashlib.sha256(token.encode()).hexdigest()
    async with db.begin() as conn:
        await conn.execute(sa.update(oidc_tokens).where(oidc_tokens.c.id == token_id).values(scopes=["profile"]))
    with pytest.raises(GatehouseError) as forbidden:
        await rpc.call("identity", USER_FROM_ACCESS_TOKEN, FromAccessToken(access_token=token), AccessTokenUser)
    assert (forbidden.value.status, forbidden.value.code) == (403, "auth.forbidden")
    async with db.begin() as conn:
        expired = sa.func.now() - sa.text("interval '1 second'")
        await conn.execute(sa.update(oidc_tokens).where(oidc_tokens.c.id == token_id).values(expires_at=expired))
    with pytest.raises(GatehouseError) as expired_error:
        await rpc.call("identity", USER_FROM_ACCESS_TOKEN, FromAccessToken(access_token=token), AccessTokenUser)
    assert (expired_error.value.status, expired_error.value.code) == (401, "auth.unauthorized")


async def test_update_profile_replaces_fields_merges_profile_and_checks_uniqueness(
    client: AsyncClient, auth: dict[str, str], rpc: RpcClient, db: AsyncEngine
) -> None:
    user, other = await _user(client, auth), await _user(client, auth)
    request = UpdateProfile(user_id=user["id"], name="Grace", profile={"givenName": "Grace"})
    updated = await rpc.call("identity", USER_UPDATE_PROFILE, request, User)
    assert updated.name == "Grace" and updated.profile == {"givenName": "Grace"}
    merged = await rpc.call(
        "identity", USER_UPDATE_PROFILE, UpdateProfile(user_id=user["id"], profile={"nickname": "G"}), User
    )
    assert merged.profile == {"givenName": "Grace", "nickname": "G"} and merged.name == "Grace"
    with pytest.raises(GatehouseError) as taken:
        await rpc.call(
            "identity", USER_UPDATE_PROFILE, UpdateProfile(user_id=user["id"], username=other["username"]), User
        )
    assert (taken.value.status, taken.value.code) == (422, "user.username_already_in_use")
    async with db.connect() as conn:
        query = sa.select(outbox.c.payload).where(outbox.c.subject.like("%User.Data.Updated"))
        payloads = [bytes(p).decode() for p in (await conn.execute(query)).scalars()]
    assert sum(user["id"] in p and "Grace" in p for p in payloads) >= 2


async def test_set_password_replaces_the_password(client: AsyncClient, auth: dict[str, str], rpc: RpcClient) -> None:
    user = await _user(client, auth)
    await rpc.call(
        "identity", USER_SET_PASSWORD, SetPassword(user_id=user["id"], password="Another-pa55word"), PasswordSet
    )
    with pytest.raises(GatehouseError):
        await verify(rpc, "userId", user["id"])
    assert (await verify(rpc, "userId", user["id"], "Another-pa55word")).user_id == user["id"]
