"""Logto's Actions in the Experience API sign-in, run by the identity service beside experience with real scripts:
PostSignIn patches the user just before the sign-in is reported; PostFirstFactorVerification may verify a
password identity refused, creating or updating the user (a migration from another user store)."""

import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_schema.events import CloudEvent
from gatehouse_schema.tables.identity import oidc_configs
from gatehouse_schema.tables.identity import outbox as identity_outbox
from gatehouse_testing.oidc_flow import REDIRECT, FlowApp, make_flow_app
from httpx import AsyncClient, Response
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from .flowkit import PASSWORD, Browser, error, make_user, sign_in_methods

LEGACY_PASSWORD = "legacy-store-secret"
POST_SIGN_IN = "action.postSignIn"
FIRST_FACTOR = "action.postFirstFactorVerification"
Configure = Callable[..., Awaitable[None]]


@pytest_asyncio.fixture
async def action(db: AsyncEngine) -> AsyncIterator[Configure]:
    """Writes an action config as the Management API stores it (key = action type, value as given); every
    action config is gone before and after the test."""

    async def clear() -> None:
        async with db.begin() as conn:
            await conn.execute(sa.delete(oidc_configs).where(oidc_configs.c.key.like("action.%")))

    async def configure(key: str, script: str, **options: Any) -> None:
        value = {"script": script, "enabled": True, **options}
        async with db.begin() as conn:
            await conn.execute(
                insert(oidc_configs)
                .values(tenant_id="default", key=key, value=value, updated_at=sa.func.now())
                .on_conflict_do_update(
                    index_elements=[oidc_configs.c.tenant_id, oidc_configs.c.key], set_={"value": value}
                )
            )

    await clear()
    yield configure
    await clear()


def returning(result: Any) -> str:
    """A script whose `runAction` returns `result` (a JSON value)."""
    return f"const runAction = async () => ({json.dumps(result)});"


async def get_user(identity: AsyncClient, auth: dict[str, str], user_id: str) -> dict[str, Any]:
    found = await identity.get(f"/api/users/{user_id}", headers=auth)
    assert found.status_code == 200, found.text
    return dict(found.json())


class SignInBrowser(Browser):
    """A browser signing in to one app, each time afresh."""

    def __init__(self, identity: AsyncClient, experience: AsyncClient, app: FlowApp) -> None:
        super().__init__(identity, experience)
        self.transport = identity._transport
        self.app = app
        self.auth = app.auth()

    async def start(self) -> None:
        """A new sign-in, as from a fresh browser (no identity session to skip the sign-in page with)."""
        self.identity = AsyncClient(transport=self.transport, base_url="http://127.0.0.1")
        self.verifier = secrets.token_urlsafe(48)
        await self.authorize(self.app.id)
        assert (await self.call("PUT", "/api/experience", {"interactionEvent": "SignIn"})).status_code == 204

    async def verify_password(self, kind: str, value: str, password: str) -> Response:
        body = {"identifier": {"type": kind, "value": value}, "password": password}
        return await self.call("POST", "/api/experience/verification/password", body)

    async def identified(self, kind: str, value: str, password: str) -> str:
        """Starts a sign-in, verifies the password and identifies the user; their id."""
        await self.start()
        verified = await self.verify_password(kind, value, password)
        assert verified.status_code == 200, verified.text
        identified = await self.call("POST", "/api/experience/identification", verified.json())
        assert identified.status_code == 204, identified.text
        return str((await self.call("GET", "/api/experience/interaction")).json()["userId"])

    async def claims(self) -> dict[str, Any]:
        """Submits, follows identity to the tokens; the `/oidc/me` claims."""
        form = {"grant_type": "authorization_code", "code": await self.finish(), "redirect_uri": REDIRECT}
        tokens = await self.identity.post(
            "/oidc/token", data={**form, "code_verifier": self.verifier}, headers=self.auth
        )
        assert tokens.status_code == 200, tokens.text
        me = await self.identity.get("/oidc/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
        return dict(me.json())


@pytest_asyncio.fixture
async def browser(client: AsyncClient, identity: AsyncClient, db: AsyncEngine) -> SignInBrowser:
    await sign_in_methods(db, "username", "email")
    return SignInBrowser(identity, client, await make_flow_app(db))


async def identity_events(db: AsyncEngine, event_type: str, user_id: str) -> list[dict[str, Any]]:
    """The data of identity's `event_type` events about the user, oldest first."""
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(identity_outbox.c.payload)
            .where(identity_outbox.c.subject.like(f"%{event_type}"))
            .order_by(identity_outbox.c.created_at)
        )
        events = [msgspec.json.decode(bytes(r.payload), type=CloudEvent) for r in rows]
    data = [msgspec.json.decode(e.data) for e in events]
    return [d for d in data if d["data"]["id"] == user_id]


# PostSignIn


async def test_post_sign_in_patches_the_user_and_the_finished_sign_in_sees_it(
    browser: SignInBrowser, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], action: Configure
) -> None:
    user = await make_user(identity, auth, customData={"plan": "free", "seats": 1}, profile={"nickname": "old"})
    script = """
    const runAction = async ({ event, environmentVariables }) => ({
      action: 'updateUser',
      user: {
        name: environmentVariables.PREFIX + event.user.username,
        customData: {
          plan: 'pro',
          seen: {
            key: event.key,
            interactionEvent: event.interactionEvent,
            hasPassword: event.user.hasPassword,
            factors: event.user.mfaVerificationFactors,
            organizations: event.user.organizations,
            plan: event.user.customData.plan,
          },
        },
        profile: { givenName: 'Ada', ignored: true },
      },
    });
    """
    await action(POST_SIGN_IN, script, environmentVariables={"PREFIX": "Signed "})
    await browser.identified("username", user["username"], PASSWORD)
    me = await browser.claims()

    assert me["name"] == f"Signed {user['username']}"
    stored = await get_user(identity, auth, user["id"])
    assert stored["customData"] == {
        "plan": "pro",
        "seats": 1,
        "seen": {
            "key": POST_SIGN_IN,
            "interactionEvent": "SignIn",
            "hasPassword": True,
            "factors": [],
            "organizations": [],
            "plan": "free",
        },
    }
    assert stored["profile"] == {"nickname": "old", "givenName": "Ada"}
    updates = await identity_events(db, "User.Data.Updated", user["id"])
    assert updates[-1]["changed"] == ["customData", "name", "profile"]


async def test_a_failing_post_sign_in_script_blocks_unless_errors_are_allowed(
    browser: SignInBrowser, identity: AsyncClient, auth: dict[str, str], action: Configure
) -> None:
    user = await make_user(identity, auth)
    throwing = "const runAction = () => { throw new Error('upstream down'); };"
    await action(POST_SIGN_IN, throwing)  # `onExecutionError` defaults to block
    await browser.identified("email", user["primaryEmail"], PASSWORD)
    error(await browser.call("POST", "/api/experience/submit"), 400, "session.verification_failed")
    await action(POST_SIGN_IN, throwing, onExecutionError="block")
    error(await browser.call("POST", "/api/experience/submit"), 400, "session.verification_failed")

    await action(POST_SIGN_IN, throwing, onExecutionError="allow")
    me = await browser.claims()
    assert me["sub"] == user["id"]
    assert (await get_user(identity, auth, user["id"]))["updatedAt"] == user["updatedAt"]


async def test_an_invalid_post_sign_in_result_blocks_even_when_errors_are_allowed(
    browser: SignInBrowser, identity: AsyncClient, auth: dict[str, str], action: Configure
) -> None:
    user = await make_user(identity, auth)
    await browser.identified("username", user["username"], PASSWORD)
    for result in (
        [],
        "ok",
        {"action": "continue"},
        {"action": "createUser", "user": {"name": "x"}},
        {"ignored": True},
        {"action": "updateUser", "user": None},
        {"action": "updateUser", "user": {"id": "another"}},
        {"action": "updateUser", "user": {"name": 7}},
    ):
        await action(POST_SIGN_IN, returning(result), onExecutionError="allow")
        error(await browser.call("POST", "/api/experience/submit"), 400, "session.verification_failed")
    assert (await get_user(identity, auth, user["id"]))["updatedAt"] == user["updatedAt"]


async def test_empty_post_sign_in_results_continue_unchanged(
    browser: SignInBrowser, identity: AsyncClient, auth: dict[str, str], action: Configure
) -> None:
    user = await make_user(identity, auth)
    for result in ("const runAction = () => {};", returning(None), returning({}), returning({"action": "updateUser"})):
        await action(POST_SIGN_IN, result)
        await browser.identified("username", user["username"], PASSWORD)
        assert (await browser.claims())["sub"] == user["id"]
    assert (await get_user(identity, auth, user["id"]))["updatedAt"] == user["updatedAt"]


async def test_a_post_sign_in_patch_taking_another_users_identifier_is_refused(
    browser: SignInBrowser, identity: AsyncClient, auth: dict[str, str], action: Configure
) -> None:
    user, other = await make_user(identity, auth), await make_user(identity, auth)
    await action(POST_SIGN_IN, returning({"action": "updateUser", "user": {"primaryEmail": other["primaryEmail"]}}))
    await browser.identified("username", user["username"], PASSWORD)
    error(await browser.call("POST", "/api/experience/submit"), 422, "user.email_already_in_use")


async def test_disabled_actions_do_nothing(
    browser: SignInBrowser, identity: AsyncClient, auth: dict[str, str], action: Configure
) -> None:
    user = await make_user(identity, auth)
    throwing = "const runAction = () => { throw new Error('never runs'); };"
    await action(POST_SIGN_IN, throwing, enabled=False)
    await action(FIRST_FACTOR, returning({"action": "createUser", "passwordVerified": True, "user": {}}), enabled=False)
    await browser.identified("username", user["username"], PASSWORD)
    assert (await browser.claims())["sub"] == user["id"]
    await browser.start()
    unknown = f"nobody{secrets.token_hex(4)}@example.com"
    error(await browser.verify_password("email", unknown, PASSWORD), 422, "session.invalid_credentials")


# PostFirstFactorVerification

MIGRATING = """
const runAction = async ({ event }) => {
  if (event.password !== 'legacy-store-secret') return { action: 'createUser', passwordVerified: false, user: {} };
  if (event.user === null) {
    return {
      action: 'createUser',
      passwordVerified: true,
      user: { name: 'From ' + event.identifier.type, customData: { legacy: true, type: event.verificationType } },
    };
  }
  return {
    action: 'updateUser',
    passwordVerified: true,
    user: { customData: { migratedFrom: event.user.id, sawEmail: event.user.primaryEmail } },
  };
};
"""


async def test_first_factor_action_migrates_an_unknown_user_who_then_signs_in_locally(
    browser: SignInBrowser, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], action: Configure
) -> None:
    await action(FIRST_FACTOR, MIGRATING)
    email = f"legacy{secrets.token_hex(4)}@example.com"
    user_id = await browser.identified("email", email, LEGACY_PASSWORD)
    assert (await browser.claims())["sub"] == user_id

    created = await get_user(identity, auth, user_id)
    assert created["primaryEmail"] == email and created["name"] == "From email" and created["hasPassword"]
    assert created["customData"] == {"legacy": True, "type": "Password"}
    assert len(await identity_events(db, "User.Created", user_id)) == 1
    # the submitted password is now the user's own: no action needed next time
    await action(FIRST_FACTOR, "const runAction = () => { throw new Error('not asked'); };")
    assert await browser.identified("email", email, LEGACY_PASSWORD) == user_id


async def test_first_factor_action_updates_an_existing_users_password(
    browser: SignInBrowser, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], action: Configure
) -> None:
    user = await make_user(identity, auth, customData={"keep": 1})
    await action(FIRST_FACTOR, MIGRATING)
    assert await browser.identified("username", user["username"], LEGACY_PASSWORD) == user["id"]
    stored = await get_user(identity, auth, user["id"])
    assert stored["customData"] == {"keep": 1, "migratedFrom": user["id"], "sawEmail": user["primaryEmail"]}
    assert (await identity_events(db, "User.Data.Updated", user["id"]))[-1]["changed"] == ["customData", "password"]

    await action(FIRST_FACTOR, returning(None))  # declines everything from now on
    assert await browser.identified("username", user["username"], LEGACY_PASSWORD) == user["id"]
    await browser.start()
    error(await browser.verify_password("username", user["username"], PASSWORD), 422, "session.invalid_credentials")


async def test_a_first_factor_action_for_the_wrong_kind_of_user_is_an_identity_conflict(
    browser: SignInBrowser, identity: AsyncClient, auth: dict[str, str], action: Configure
) -> None:
    user = await make_user(identity, auth)
    await browser.start()
    await action(FIRST_FACTOR, returning({"action": "createUser", "passwordVerified": True, "user": {}}))
    error(await browser.verify_password("username", user["username"], "wrong"), 409, "session.identity_conflict")
    await action(FIRST_FACTOR, returning({"action": "updateUser", "passwordVerified": True, "user": {}}))
    unknown = f"nobody{secrets.token_hex(4)}"
    error(await browser.verify_password("username", unknown, "any"), 409, "session.identity_conflict")


async def test_a_first_factor_action_cannot_change_the_sign_in_identifier(
    browser: SignInBrowser, identity: AsyncClient, auth: dict[str, str], action: Configure
) -> None:
    email = f"Legacy{secrets.token_hex(4)}@Example.com"
    await browser.start()
    changed = {"action": "createUser", "passwordVerified": True, "user": {"primaryEmail": "other@example.com"}}
    await action(FIRST_FACTOR, returning(changed))
    refused = await browser.verify_password("email", email, LEGACY_PASSWORD)
    error(refused, 422, "action.sign_in_identifier_changed")
    assert refused.json()["data"] == {"identifierType": "email"}
    # the same address in other letter case is no change
    kept = {**changed, "user": {"primaryEmail": email.lower()}}
    await action(FIRST_FACTOR, returning(kept))
    verified = await browser.verify_password("email", email, LEGACY_PASSWORD)
    assert verified.status_code == 200, verified.text


async def test_a_declining_or_failing_first_factor_action_keeps_invalid_credentials(
    browser: SignInBrowser, identity: AsyncClient, auth: dict[str, str], action: Configure
) -> None:
    user = await make_user(identity, auth)
    await browser.start()
    for script, options in (
        (returning({"action": "updateUser", "passwordVerified": False, "user": {}}), {}),
        (returning({"action": "updateUser", "user": {}}), {}),
        (returning({"action": "updateUser", "passwordVerified": True, "user": {"id": "x"}}), {}),
        (returning({"action": "rejectInvalidCredentials"}), {}),
        ("const runAction = () => { throw new Error('legacy store down'); };", {"onExecutionError": "allow"}),
        ("const runAction = () => { throw new Error('legacy store down'); };", {}),
    ):
        await action(FIRST_FACTOR, script, **options)
        refused = await browser.verify_password("username", user["username"], LEGACY_PASSWORD)
        error(refused, 422, "session.invalid_credentials")
    assert (await get_user(identity, auth, user["id"]))["updatedAt"] == user["updatedAt"]


async def test_a_suspended_user_never_reaches_the_first_factor_action(
    browser: SignInBrowser, identity: AsyncClient, auth: dict[str, str], action: Configure
) -> None:
    user = await make_user(identity, auth)
    suspended = await identity.patch(f"/api/users/{user['id']}/is-suspended", json={"isSuspended": True}, headers=auth)
    assert suspended.status_code == 200, suspended.text
    await action(FIRST_FACTOR, MIGRATING)
    await browser.start()
    error(
        await browser.verify_password("username", user["username"], LEGACY_PASSWORD), 422, "session.invalid_credentials"
    )
