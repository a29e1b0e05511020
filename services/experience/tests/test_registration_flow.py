"""Logto's Experience API registration: a browser sent to the sign-in page starts a `Register` interaction,
adds a username and a password, is identified as the user identity creates, and submits; identity then
finishes the authorization. And every way a step is refused."""

import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
import sqlalchemy as sa
from gatehouse_schema.events import CloudEvent
from gatehouse_schema.tables.experience import interactions, outbox
from gatehouse_testing.oidc_flow import REDIRECT, make_flow_app
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from .flowkit import PASSWORD, Browser, error, make_user, password_sign_in, started, write_sign_in_experience


async def sign_up(
    db: AsyncEngine,
    *identifiers: str,
    mode: str = "SignInAndRegister",
    password: bool = True,
    policy: dict[str, Any] | None = None,
) -> None:
    """The tenant's sign-in experience (management's row) reduced to what the flows read: the sign-in mode,
    the sign-up identifiers and password, the password policy, and username + password sign-in."""
    settings = {
        "signInMode": mode,
        "signUp": {"identifiers": list(identifiers), "password": password, "verify": False},
        "signIn": {"methods": [password_sign_in("username")]},
        "passwordPolicy": policy or {},
    }
    await write_sign_in_experience(db, settings)


async def row_of(db: AsyncEngine, username: str | None = None, uid: str | None = None) -> Any:
    """An experience interaction row: by the username its profile holds, or by its id."""
    where = interactions.c.id == uid if uid else interactions.c.profile["username"].astext == username
    async with db.connect() as conn:
        return (await conn.execute(sa.select(interactions).where(where))).one()


def new_name() -> str:
    return f"reg_{secrets.token_hex(5)}"


async def test_username_password_registration_finishes_the_authorization(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    await sign_up(db, "username")
    browser = await started(identity, client, db, "Register")
    name = new_name()
    added = await browser.call("POST", "/api/experience/profile", {"type": "username", "value": name})
    assert added.status_code == 204, added.text
    added = await browser.call("POST", "/api/experience/profile", {"type": "password", "value": PASSWORD})
    assert added.status_code == 204, added.text

    before = await row_of(db, username=name)
    assert before.profile == {"username": name, "password": PASSWORD} and before.user_id is None

    identified = await browser.call("POST", "/api/experience/identification", {})
    assert identified.status_code == 201, identified.text
    after = await row_of(db, uid=before.id)
    assert after.user_id is not None and after.profile == {}  # the password left with the user's creation
    user_id = after.user_id
    user = (await identity.get(f"/api/users/{user_id}", headers=auth)).json()
    assert user["username"] == name and user["hasPassword"] is True

    submitted = await browser.call("POST", "/api/experience/submit")
    assert submitted.status_code == 200, submitted.text
    finished = await browser.identity.get(urlsplit(submitted.json()["redirectTo"]).path)
    assert finished.status_code == 303, finished.text
    query = parse_qs(urlsplit(finished.headers["location"]).query)
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": REDIRECT,
        "code_verifier": browser.verifier,
    }
    tokens = await identity.post("/oidc/token", data=form, headers=browser.auth)
    assert tokens.status_code == 200, tokens.text
    me = await identity.get("/oidc/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert me.json()["sub"] == user_id
    # Logto's PostRegister interaction hook event (not PostSignIn) went out through experience's outbox
    async with db.connect() as conn:
        rows = (
            await conn.execute(sa.select(outbox.c.payload).where(outbox.c.subject.like("%.experience.Post%")))
        ).all()
    events = [msgspec.json.decode(bytes(r.payload), type=CloudEvent) for r in rows]
    types = {e.type for e in events if msgspec.json.decode(e.data)["userId"] == user_id}
    assert types == {"PostRegister"}, types

    # the new user signs in with the password it registered
    again = await started(identity, client, db, "SignIn")
    password = {"identifier": {"type": "username", "value": name}, "password": PASSWORD}
    verified = await again.call("POST", "/api/experience/verification/password", password)
    assert verified.status_code == 200, verified.text


async def test_profile_refuses_bad_taken_and_disabled_usernames(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    taken = await make_user(identity, auth, email=False)
    await sign_up(db, "username")
    browser = await started(identity, client, db, "Register")
    for body in (
        {"type": "username", "value": "1digit"},
        {"type": "username", "value": "has-dash"},
        {"type": "username", "value": "name\n"},
        {"type": "username"},
        {"type": "extraProfile", "values": {"nickname": "x"}},
        {"type": "nope", "value": "x"},
        {"type": "email"},
    ):
        error(await browser.call("POST", "/api/experience/profile", body), 400, "guard.invalid_input")
    by_username = {"type": "username", "value": taken["username"].upper()}
    error(await browser.call("POST", "/api/experience/profile", by_username), 422, "user.username_already_in_use")
    # email, phone and social name verification records Gatehouse cannot make: never found, as in Logto
    for kind in ("email", "phone", "social"):
        body = {"type": kind, "verificationId": "unknown"}
        error(
            await browser.call("POST", "/api/experience/profile", body), 404, "session.verification_session_not_found"
        )
    # username is not a sign-up identifier of this tenant
    await sign_up(db, "email")
    error(
        await browser.call("POST", "/api/experience/profile", {"type": "username", "value": new_name()}),
        422,
        "user.sign_in_method_not_enabled",
    )


async def test_password_is_checked_against_the_policy_and_the_profile(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine
) -> None:
    policy = {"length": {"min": 10, "max": 64}, "rejects": {"pwned": True, "userInfo": True}}
    await sign_up(db, "username", policy=policy)
    browser = await started(identity, client, db, "Register")
    short = await browser.call("POST", "/api/experience/profile", {"type": "password", "value": "Ab1!"})
    error(short, 422, "password.rejected")
    assert short.json()["data"]["issues"] == [{"code": "password_rejected.too_short", "interpolation": {"min": 10}}]
    name = new_name()
    assert (
        await browser.call("POST", "/api/experience/profile", {"type": "username", "value": name})
    ).status_code == 204
    mostly_the_username = {"type": "password", "value": f"{name}!1"}
    rejected = await browser.call("POST", "/api/experience/profile", mostly_the_username)
    error(rejected, 422, "password.rejected")
    # (a random name may also hold a sequence such as "abc": only the user-info issue is certain)
    assert "password_rejected.restricted.user_info" in [i["code"] for i in rejected.json()["data"]["issues"]]
    assert "password" not in (await row_of(db, username=name)).profile


async def test_identification_requires_the_sign_up_profile(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    await sign_up(db, "username")
    browser = await started(identity, client, db, "Register")
    missing = await browser.call("POST", "/api/experience/identification", {})
    error(missing, 422, "user.missing_profile")
    assert missing.json()["data"] == {"missingProfile": ["password", "username"]}
    name = new_name()
    assert (
        await browser.call("POST", "/api/experience/profile", {"type": "username", "value": name})
    ).status_code == 204
    missing = await browser.call("POST", "/api/experience/identification", {})
    assert missing.json()["data"] == {"missingProfile": ["password"]}, missing.text
    error(
        await browser.call("POST", "/api/experience/identification", {"verificationId": "unknown"}),
        404,
        "session.verification_session_not_found",
    )
    # nothing submitted before a user exists
    error(await browser.call("POST", "/api/experience/submit"), 404, "session.identifier_not_found")
    assert (
        await browser.call("POST", "/api/experience/profile", {"type": "password", "value": PASSWORD})
    ).status_code == 204
    # someone took the username in between: identity refuses at creation
    created = await identity.post("/api/users", json={"username": name}, headers=auth)
    assert created.status_code == 200, created.text
    error(await browser.call("POST", "/api/experience/identification", {}), 422, "user.username_already_in_use")
    # the Register mode was switched off meanwhile
    await sign_up(db, "username", mode="SignIn")
    error(await browser.call("POST", "/api/experience/identification", {}), 403, "auth.forbidden")


async def test_sign_in_mode_and_event_switches(client: AsyncClient, identity: AsyncClient, db: AsyncEngine) -> None:
    await sign_up(db, "username", mode="SignIn")
    app = await make_flow_app(db)
    browser = Browser(identity, client)
    error(
        await browser.call("PUT", "/api/experience/interaction-event", {"interactionEvent": "Register"}),
        404,
        "session.not_found",
    )
    await browser.authorize(app.id)
    error(
        await browser.call("PUT", "/api/experience/interaction-event", {"interactionEvent": "Register"}),
        404,
        "session.interaction_not_found",
    )
    error(
        await browser.call("POST", "/api/experience/profile", {"type": "username", "value": new_name()}),
        404,
        "session.interaction_not_found",
    )
    error(await browser.call("PUT", "/api/experience", {"interactionEvent": "Register"}), 403, "auth.forbidden")
    assert (await browser.call("PUT", "/api/experience", {"interactionEvent": "SignIn"})).status_code == 204
    # a sign-in adds to the profile of an identified user only
    error(
        await browser.call("POST", "/api/experience/profile", {"type": "username", "value": new_name()}),
        404,
        "session.identifier_not_found",
    )
    switch = "/api/experience/interaction-event"
    error(await browser.call("PUT", switch, {"interactionEvent": "Register"}), 403, "auth.forbidden")
    error(
        await browser.call("PUT", switch, {"interactionEvent": "ForgotPassword"}),
        400,
        "session.not_supported_for_forgot_password",
    )
    error(await browser.call("PUT", switch, {"interactionEvent": "Nope"}), 400, "guard.invalid_input")

    await sign_up(db, "username")
    assert (await browser.call("PUT", switch, {"interactionEvent": "Register"})).status_code == 204
    name = new_name()
    assert (
        await browser.call("POST", "/api/experience/profile", {"type": "username", "value": name})
    ).status_code == 204
    uid = (await row_of(db, username=name)).id
    # switching drops the collected profile (Logto's `profile.cleanUp()`)
    assert (await browser.call("PUT", switch, {"interactionEvent": "SignIn"})).status_code == 204
    row = await row_of(db, uid=uid)
    assert (row.interaction_event, row.profile) == ("SignIn", {})
    assert (await browser.call("PUT", switch, {"interactionEvent": "Register"})).status_code == 204
    missing = await browser.call("POST", "/api/experience/identification", {})
    assert missing.json()["data"] == {"missingProfile": ["password", "username"]}, missing.text
    # a new ForgotPassword interaction replaces it, and cannot be switched to another event
    assert (await browser.call("PUT", "/api/experience", {"interactionEvent": "ForgotPassword"})).status_code == 204
    error(
        await browser.call("PUT", switch, {"interactionEvent": "Register"}),
        400,
        "session.not_supported_for_forgot_password",
    )
