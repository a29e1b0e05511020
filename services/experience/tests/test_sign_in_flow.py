"""Logto's Experience API sign-in: a browser sent to the sign-in page by `/oidc/auth` starts a `SignIn`
interaction, verifies a password, identifies the user and submits; identity then finishes the
authorization. And every way a step is refused."""

import secrets
import time
from urllib.parse import parse_qs, urlsplit

import msgspec
import sqlalchemy as sa
from gatehouse_identity.domain.mfa import totp_code
from gatehouse_schema.events import CloudEvent
from gatehouse_schema.tables.experience import outbox
from gatehouse_schema.tables.identity import users
from gatehouse_testing.oidc_flow import REDIRECT, make_flow_app
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from .flowkit import PASSWORD, Browser, error, make_user, sign_in_methods

TOTP_SECRET = "JBSWY3DPEHPK3PXP"


async def test_password_sign_in_finishes_the_authorization(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user = await make_user(identity, auth)
    app = await make_flow_app(db)
    await sign_in_methods(db, "username", "email")
    browser = Browser(identity, client)
    await browser.authorize(app.id)

    assert (await browser.call("PUT", "/api/experience", {"interactionEvent": "SignIn"})).status_code == 204
    verified = await browser.call(
        "POST",
        "/api/experience/verification/password",
        {"identifier": {"type": "email", "value": user["primaryEmail"]}, "password": PASSWORD},
    )
    assert verified.status_code == 200, verified.text
    verification_id = verified.json()["verificationId"]
    identified = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text
    state = (await browser.call("GET", "/api/experience/interaction")).json()
    assert state == {
        "interactionEvent": "SignIn",
        "userId": user["id"],
        "profile": {},
        "verificationRecords": [
            {
                "id": verification_id,
                "type": "Password",
                "verified": True,
                "identifier": {"type": "email", "value": user["primaryEmail"]},
            }
        ],
    }
    submitted = await browser.call("POST", "/api/experience/submit")
    assert submitted.status_code == 200, submitted.text
    redirect_to = submitted.json()["redirectTo"]

    finished = await browser.identity.get(urlsplit(redirect_to).path)
    assert finished.status_code == 303, finished.text
    query = parse_qs(urlsplit(finished.headers["location"]).query)
    assert finished.headers["location"].startswith(REDIRECT) and query["state"] == ["s1"]
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": REDIRECT,
        "code_verifier": browser.verifier,
    }
    tokens = await identity.post("/oidc/token", data=form, headers=app.auth())
    assert tokens.status_code == 200, tokens.text
    me = await identity.get("/oidc/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"})
    assert me.json()["sub"] == user["id"]
    # Logto's PostSignIn interaction hook event went out through experience's outbox
    async with db.connect() as conn:
        rows = (await conn.execute(sa.select(outbox.c.payload).where(outbox.c.subject.like("%PostSignIn")))).all()
    events = [msgspec.json.decode(bytes(r.payload), type=CloudEvent) for r in rows]
    mine = [e for e in events if msgspec.json.decode(e.data)["userId"] == user["id"]]
    assert len(mine) == 1
    data = msgspec.json.decode(mine[0].data)
    assert data["interactionEvent"] == "SignIn" and data["user"]["username"] == user["username"]
    assert data["application"]["id"] == app.id and mine[0].actor is not None and mine[0].actor.id == user["id"]
    # the experience interaction is gone with the submit
    error(await browser.call("POST", "/api/experience/submit"), 404, "session.not_found")


async def test_each_step_refuses_what_it_must(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user = await make_user(identity, auth)
    app = await make_flow_app(db)
    await sign_in_methods(db, "username")
    nobody = Browser(identity, client)
    error(await nobody.call("PUT", "/api/experience", {"interactionEvent": "SignIn"}), 404, "session.not_found")
    nobody.cookie = "forged.cookie"
    error(await nobody.call("PUT", "/api/experience", {"interactionEvent": "SignIn"}), 404, "session.not_found")

    browser = Browser(identity, client)
    await browser.authorize(app.id)
    password = {"identifier": {"type": "username", "value": user["username"]}, "password": PASSWORD}
    # nothing started yet
    error(
        await browser.call("POST", "/api/experience/verification/password", password),
        404,
        "session.interaction_not_found",
    )
    error(await browser.call("PUT", "/api/experience", {"interactionEvent": "Nope"}), 400, "guard.invalid_input")
    assert (await browser.call("PUT", "/api/experience", {"interactionEvent": "SignIn"})).status_code == 204

    wrong = {**password, "password": "not it"}
    error(
        await browser.call("POST", "/api/experience/verification/password", wrong), 422, "session.invalid_credentials"
    )
    unknown = {"identifier": {"type": "username", "value": "ghost" + secrets.token_hex(3)}, "password": PASSWORD}
    error(
        await browser.call("POST", "/api/experience/verification/password", unknown), 422, "session.invalid_credentials"
    )
    error(
        await browser.call("POST", "/api/experience/verification/password", {"identifier": {}}),
        400,
        "guard.invalid_input",
    )
    error(await browser.call("POST", "/api/experience/submit"), 404, "session.identifier_not_found")
    # the password is right, but email is not a sign-in method of this tenant
    by_email = {"identifier": {"type": "email", "value": user["primaryEmail"]}, "password": PASSWORD}
    verified = await browser.call("POST", "/api/experience/verification/password", by_email)
    assert verified.status_code == 200, verified.text
    error(
        await browser.call("POST", "/api/experience/identification", verified.json()),
        422,
        "user.sign_in_method_not_enabled",
    )
    error(
        await browser.call("POST", "/api/experience/identification", {"verificationId": "unknown"}),
        404,
        "session.verification_session_not_found",
    )

    # a user with MFA factors cannot finish here yet
    async with db.begin() as conn:
        await conn.execute(
            sa.update(users)
            .where(users.c.id == user["id"])
            .values(
                mfa_verifications=[
                    {"id": "f1", "type": "Totp", "key": TOTP_SECRET, "createdAt": "2026-01-01T00:00:00Z"}
                ]
            )
        )
    verified = await browser.call("POST", "/api/experience/verification/password", password)
    assert verified.status_code == 200, verified.text
    identified = await browser.call("POST", "/api/experience/identification", verified.json())
    assert identified.status_code == 204, identified.text
    error(await browser.call("POST", "/api/experience/submit"), 403, "session.mfa.require_mfa_verification")

    # ...until the user verifies a TOTP code of their factor
    error(
        await browser.call("POST", "/api/experience/verification/totp/verify", {"code": "000000"}),
        400,
        "session.mfa.invalid_totp_code",
    )
    error(
        await browser.call("POST", "/api/experience/verification/totp/verify", {"code": "1", "verificationId": "new"}),
        404,
        "session.verification_session_not_found",
    )
    code = totp_code(TOTP_SECRET, int(time.time() // 30))
    totp = await browser.call("POST", "/api/experience/verification/totp/verify", {"code": code})
    assert totp.status_code == 200 and totp.json()["verificationId"], totp.text
    submitted = await browser.call("POST", "/api/experience/submit")
    assert submitted.status_code == 200 and "/oidc/auth/" in submitted.json()["redirectTo"], submitted.text

    browser = Browser(identity, client)
    await browser.authorize(app.id)
    # a tenant in the Register sign-in mode starts no sign-in
    await sign_in_methods(db, "username", mode="Register")
    error(await browser.call("PUT", "/api/experience", {"interactionEvent": "SignIn"}), 403, "auth.forbidden")
    await sign_in_methods(db, "username")
    assert (await browser.call("PUT", "/api/experience", {"interactionEvent": "SignIn"})).status_code == 204

    # suspended: identity refuses the password check
    suspended = await identity.patch(f"/api/users/{user['id']}/is-suspended", json={"isSuspended": True}, headers=auth)
    assert suspended.status_code == 200
    error(await browser.call("POST", "/api/experience/verification/password", password), 401, "user.suspended")


async def test_a_backup_code_verifies_mfa_once(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    user = await make_user(identity, auth)
    app = await make_flow_app(db)
    await sign_in_methods(db, "username")
    for kind in ("Totp", "BackupCode"):  # backup codes come with another factor (Logto's rule)
        bound = await identity.post(f"/api/users/{user['id']}/mfa-verifications", json={"type": kind}, headers=auth)
        assert bound.status_code == 200, bound.text
    codes = bound.json()["codes"]
    password = {"identifier": {"type": "username", "value": user["username"]}, "password": PASSWORD}

    async def identified() -> Browser:
        browser = Browser(identity, client)
        await browser.authorize(app.id)
        assert (await browser.call("PUT", "/api/experience", {"interactionEvent": "SignIn"})).status_code == 204
        verified = await browser.call("POST", "/api/experience/verification/password", password)
        assert (await browser.call("POST", "/api/experience/identification", verified.json())).status_code == 204
        return browser

    browser = await identified()
    error(await browser.call("POST", "/api/experience/submit"), 403, "session.mfa.require_mfa_verification")
    path = "/api/experience/verification/backup-code/verify"
    error(await browser.call("POST", path, {"code": "0000000000"}), 400, "session.mfa.invalid_backup_code")
    assert (await browser.call("POST", path, {"code": codes[0]})).status_code == 200
    submitted = await browser.call("POST", "/api/experience/submit")
    assert submitted.status_code == 200, submitted.text
    # the code is spent: the next sign-in cannot use it again
    again = await identified()
    error(await again.call("POST", path, {"code": codes[0]}), 400, "session.mfa.invalid_backup_code")
    assert (await again.call("POST", path, {"code": codes[1]})).status_code == 200
