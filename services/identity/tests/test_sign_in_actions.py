"""Logto's Actions as identity runs them for experience: which results Logto takes (judged without a script),
and which password checks run PostFirstFactorVerification at all (only the Experience API's `SignIn`). The
whole sign-in with real scripts is experience's `test_sign_in_actions.py`."""

import secrets
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_identity.domain.action_results import first_factor_provisioning, post_sign_in_patch
from gatehouse_platform.errors import GatehouseError
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.rpc.identity import (
    USER_POST_SIGN_IN_ACTION,
    USER_VERIFY_PASSWORD,
    AccountDone,
    PasswordIdentifier,
    PostSignInAction,
    VerifiedUser,
    VerifyPassword,
)
from gatehouse_schema.tables.identity import oidc_configs
from httpx import AsyncClient
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

PASSWORD = "Action-rpc-pa55word!"
VERIFYING = """
const runAction = ({ event }) => event.user === null
  ? { action: 'createUser', passwordVerified: true, user: {} }
  : { action: 'updateUser', passwordVerified: true, user: {} };
"""


@pytest_asyncio.fixture(autouse=True)
async def no_actions(db: AsyncEngine) -> AsyncIterator[None]:
    """No action config before or after each test."""

    async def clear() -> None:
        async with db.begin() as conn:
            await conn.execute(sa.delete(oidc_configs).where(oidc_configs.c.key.like("action.%")))

    await clear()
    yield
    await clear()


@pytest_asyncio.fixture
async def first_factor_action(db: AsyncEngine) -> None:
    """An enabled PostFirstFactorVerification action that verifies any password."""
    value = {"script": VERIFYING, "enabled": True}
    async with db.begin() as conn:
        await conn.execute(
            insert(oidc_configs).values(
                tenant_id="default", key="action.postFirstFactorVerification", value=value, updated_at=sa.func.now()
            )
        )


async def _user(client: AsyncClient, auth: dict[str, str]) -> dict[str, Any]:
    name = f"act{secrets.token_hex(5)}"
    created = await client.post("/api/users", json={"username": name, "password": PASSWORD}, headers=auth)
    assert created.status_code == 200, created.text
    return dict(created.json())


async def verify(rpc: RpcClient, kind: str, value: str, password: str, event: str | None = None) -> VerifiedUser:
    identifier = PasswordIdentifier(type=kind, value=value)
    request = VerifyPassword(identifier=identifier, password=password, interaction_event=event)
    return await rpc.call("identity", USER_VERIFY_PASSWORD, request, VerifiedUser, timeout=15.0)


async def test_only_a_sign_in_password_check_runs_the_first_factor_action(
    client: AsyncClient, auth: dict[str, str], rpc: RpcClient, first_factor_action: None
) -> None:
    user = await _user(client, auth)
    # the Account API's check of the signed-in user's password, and checks outside a sign-in
    for kind, value, event in (
        ("userId", user["id"], None),
        ("username", user["username"], None),
        ("username", user["username"], "Register"),
        ("username", f"nobody{secrets.token_hex(4)}", None),
    ):
        with pytest.raises(GatehouseError) as refused:
            await verify(rpc, kind, value, "not the password", event)
        assert (refused.value.status, refused.value.code) == (422, "session.invalid_credentials")
    verified = await verify(rpc, "username", user["username"], "not the password", "SignIn")
    assert verified.user_id == user["id"]


async def test_a_suspended_users_refused_password_stays_refused(
    client: AsyncClient, auth: dict[str, str], rpc: RpcClient, first_factor_action: None
) -> None:
    user = await _user(client, auth)
    suspended = await client.patch(f"/api/users/{user['id']}/is-suspended", json={"isSuspended": True}, headers=auth)
    assert suspended.status_code == 200, suspended.text
    with pytest.raises(GatehouseError) as refused:
        await verify(rpc, "username", user["username"], "not the password", "SignIn")
    assert (refused.value.status, refused.value.code) == (422, "session.invalid_credentials")


async def test_post_sign_in_without_an_action_changes_nothing(
    client: AsyncClient, auth: dict[str, str], rpc: RpcClient
) -> None:
    user = await _user(client, auth)
    done = await rpc.call("identity", USER_POST_SIGN_IN_ACTION, PostSignInAction(user_id=user["id"]), AccountDone)
    assert done.user_id == user["id"]
    after = await client.get(f"/api/users/{user['id']}", headers=auth)
    assert after.json()["updatedAt"] == user["updatedAt"]


@pytest.mark.parametrize("result", [None, {}, {"action": "updateUser"}, {"action": "updateUser", "extra": 1}])
def test_empty_post_sign_in_results_continue(result: Any) -> None:
    assert post_sign_in_patch(result) is None


@pytest.mark.parametrize(
    "result",
    [
        [],
        True,
        "updateUser",
        {"ignored": True},
        {"action": "continue"},
        {"action": "denyAccess"},
        {"action": "updateUser", "user": None},
        {"action": "updateUser", "user": {"id": "u1"}},
        {"action": "updateUser", "user": {"passwordEncrypted": "x"}},
        {"action": "updateUser", "user": {"customData": []}},
    ],
)
def test_invalid_post_sign_in_results_fail_the_verification(result: Any) -> None:
    with pytest.raises(GatehouseError) as failed:
        post_sign_in_patch(result)
    assert (failed.value.status, failed.value.code) == (400, "session.verification_failed")


def test_a_post_sign_in_patch_drops_unknown_profile_keys() -> None:
    patch = post_sign_in_patch(
        {"action": "updateUser", "user": {"name": None, "profile": {"givenName": "Ada", "ignored": 1}}}
    )
    assert patch is not None and patch.name is None
    assert msgspec.to_builtins(patch.profile) == {"givenName": "Ada"}


@pytest.mark.parametrize(
    "result",
    [
        None,
        {},
        [],
        {"action": "createUser", "user": {}},
        {"action": "createUser", "passwordVerified": False, "user": {}},
        {"action": "createUser", "passwordVerified": "true", "user": {}},
        {"action": "createUser", "passwordVerified": True},
        {"action": "createUser", "passwordVerified": True, "user": None},
        {"action": "createUser", "passwordVerified": True, "user": {"id": "u1"}},
        {"action": "rejectInvalidCredentials", "passwordVerified": True, "user": {}},
    ],
)
def test_first_factor_results_that_do_not_verify_the_password(result: Any) -> None:
    assert first_factor_provisioning(result, "email", "a@example.com", user_exists=False) is None


@pytest.mark.parametrize(
    ("kind", "value", "returned", "changed"),
    [
        ("email", "Ada@Example.com", "ada@example.com", False),
        ("email", "ada@example.com", "bob@example.com", True),
        ("email", "ada@example.com", None, True),
        ("phone", "15550001111", "+1 555-000-1111", False),
        ("phone", "15550001111", "15550001112", True),
        ("username", "ada", "Ada", True),
        ("username", "ada", "ada", False),
    ],
)
def test_a_first_factor_patch_keeps_the_sign_in_identifier(kind: str, value: str, returned: Any, changed: bool) -> None:
    key = {"email": "primaryEmail", "phone": "primaryPhone", "username": "username"}[kind]
    result = {"action": "createUser", "passwordVerified": True, "user": {key: returned}}
    if not changed:
        assert first_factor_provisioning(result, kind, value, user_exists=False) is not None
        return
    with pytest.raises(GatehouseError) as refused:
        first_factor_provisioning(result, kind, value, user_exists=False)
    assert (refused.value.status, refused.value.code) == (422, "action.sign_in_identifier_changed")
    assert refused.value.data == {"identifierType": kind}


def test_the_first_factor_action_must_match_whether_the_user_exists() -> None:
    for action, user_exists in (("createUser", True), ("updateUser", False)):
        with pytest.raises(GatehouseError) as conflict:
            first_factor_provisioning(
                {"action": action, "passwordVerified": True, "user": {}}, "username", "ada", user_exists
            )
        assert (conflict.value.status, conflict.value.code) == (409, "session.identity_conflict")
    created = first_factor_provisioning(
        {"action": "createUser", "passwordVerified": True, "user": {"name": "Ada"}}, "username", "ada", False
    )
    assert created is not None and created.action == "createUser" and created.patch.name == "Ada"
