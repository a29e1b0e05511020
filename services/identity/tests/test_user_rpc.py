"""`user.verify_password`, the sign-in password check experience asks identity for over NATS."""

import secrets

import pytest
from gatehouse_platform.errors import GatehouseError
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.rpc.identity import USER_VERIFY_PASSWORD, PasswordIdentifier, VerifiedUser, VerifyPassword
from httpx import AsyncClient

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
