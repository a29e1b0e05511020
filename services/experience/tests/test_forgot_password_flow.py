"""Logto's `ForgotPassword` interaction by an email verification code, against the real SMTP server, identity and
the database: the code comes with the `ForgotPassword` template, the verified email identifies the user, the new
password passes the policy and differs from the current one, submit resets it (`PostResetPassword` through
experience's outbox); then only the new password signs in. And every refusal on the way."""

import json
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.experience import interactions, outbox
from gatehouse_schema.tables.identity import outbox as identity_outbox
from gatehouse_testing.fake_smtp import FakeSmtp
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from .flowkit import PASSWORD, Browser, error, make_user, password_sign_in, started, write_sign_in_experience
from .test_verification_code_flow import last_code, send, smtp, verify

NEW_PASSWORD = "Gatehouse-Reset-2o26!"
IDENTIFY = "/api/experience/identification"
RESET = "/api/experience/profile/password"
__all__ = ["smtp"]  # the SMTP server fixture, shared with the verification code tests


def _data(event: dict[str, Any]) -> dict[str, Any]:
    """A stored CloudEvent's `data` (a JSON object, or its text)."""
    data = event["data"]
    return dict(json.loads(data) if isinstance(data, str) else data)


async def reset_settings(db: AsyncEngine, methods: list[str] | None = None) -> None:
    """Password sign-in by email and password reset by email code (unless `methods` says otherwise)."""
    settings: dict[str, Any] = {
        "signInMode": "SignInAndRegister",
        "signIn": {"methods": [password_sign_in("email")]},
        "signUp": {"identifiers": ["email"], "password": True, "verify": True},
        "forgotPasswordMethods": ["EmailVerificationCode"] if methods is None else methods,
    }
    await write_sign_in_experience(db, settings)


async def verified_code(browser: Browser, smtp: FakeSmtp, email: str) -> str:
    """A `ForgotPassword` code for `email`, sent and verified; the record's id."""
    verification_id = await send(browser, email, "ForgotPassword")
    verified = await verify(browser, email, verification_id, last_code(smtp, email))
    assert verified.status_code == 200, verified.text
    return verification_id


async def identified(
    identity: AsyncClient, client: AsyncClient, db: AsyncEngine, smtp: FakeSmtp, email: str
) -> Browser:
    browser = await started(identity, client, db, "ForgotPassword")
    verification_id = await verified_code(browser, smtp, email)
    response = await browser.call("POST", IDENTIFY, {"verificationId": verification_id})
    assert response.status_code == 204, response.text
    return browser


async def sign_in(identity: AsyncClient, client: AsyncClient, db: AsyncEngine, email: str, password: str) -> Any:
    """A password sign-in by email: the verification's response, and the browser."""
    browser = await started(identity, client, db, "SignIn")
    body = {"identifier": {"type": "email", "value": email}, "password": password}
    return await browser.call("POST", "/api/experience/verification/password", body), browser


async def test_forgot_password_by_email_code_resets_the_password(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], smtp: FakeSmtp
) -> None:
    await reset_settings(db)
    user = await make_user(identity, auth)
    email = user["primaryEmail"]
    browser = await started(identity, client, db, "ForgotPassword")

    verification_id = await send(browser, email, "ForgotPassword")
    code = last_code(smtp, email)
    received = smtp.messages[-1]
    assert received.subject == "Reset" and received.body == f"Reset with {code}"  # the ForgotPassword template
    verified = await verify(browser, email, verification_id, code)
    assert verified.status_code == 200, verified.text
    identified_ = await browser.call("POST", IDENTIFY, {"verificationId": verification_id})
    assert identified_.status_code == 204, identified_.text
    assert (await browser.call("GET", "/api/experience/interaction")).json()["userId"] == user["id"]

    # the profile API is not the reset's
    error(
        await browser.call("POST", "/api/experience/profile", {"type": "password", "value": NEW_PASSWORD}),
        400,
        "session.not_supported_for_forgot_password",
    )
    reset = await browser.call("PUT", RESET, {"password": NEW_PASSWORD})
    assert reset.status_code == 204, reset.text
    state = (await browser.call("GET", "/api/experience/interaction")).json()
    assert state["interactionEvent"] == "ForgotPassword" and state["profile"] == {}  # never the password

    submitted = await browser.call("POST", "/api/experience/submit")
    assert submitted.status_code == 200 and submitted.content == b"", submitted.text  # no redirect: nobody signs in
    error(await browser.call("GET", "/api/experience/interaction"), 404, "session.interaction_not_found")

    # Logto's PostResetPassword interaction hook event went out through experience's outbox
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(outbox.c.payload).where(outbox.c.subject.like("%.experience.PostResetPassword"))
            )
        ).all()
        updates = (
            await conn.execute(
                sa.select(identity_outbox.c.payload).where(identity_outbox.c.subject.like("%User.Data.Updated"))
            )
        ).all()
    found = [json.loads(bytes(row.payload)) for row in rows]
    [event] = [e for e in found if _data(e)["userId"] == user["id"]]
    data = _data(event)
    assert event["type"] == "PostResetPassword" and data["interactionEvent"] == "ForgotPassword"
    assert data["user"]["id"] == user["id"] and data["application"]["id"]
    assert NEW_PASSWORD not in json.dumps(event) and PASSWORD not in json.dumps(event)
    # identity changed the password, with its own User.Data.Updated
    changes = [_data(json.loads(bytes(row.payload))) for row in updates]
    assert any(c["data"]["id"] == user["id"] and c["changed"] == ["password"] for c in changes), changes

    # the new password signs in, the old one no longer does
    old, _ = await sign_in(identity, client, db, email, PASSWORD)
    error(old, 422, "session.invalid_credentials")
    new, signer = await sign_in(identity, client, db, email, NEW_PASSWORD)
    assert new.status_code == 200, new.text
    done = await signer.call("POST", IDENTIFY, {"verificationId": new.json()["verificationId"]})
    assert done.status_code == 204, done.text
    assert await signer.finish()


async def test_forgot_password_refusals(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], smtp: FakeSmtp
) -> None:
    user = await make_user(identity, auth)
    email = user["primaryEmail"]

    # the sign-in experience's forgot-password methods must include the email code
    await reset_settings(db, methods=[])
    browser = await started(identity, client, db, "ForgotPassword")
    verification_id = await verified_code(browser, smtp, email)
    error(
        await browser.call("POST", IDENTIFY, {"verificationId": verification_id}),
        422,
        "session.not_supported_for_forgot_password",
    )
    await reset_settings(db)
    # a ForgotPassword interaction cannot become another event
    error(
        await browser.call("PUT", "/api/experience/interaction-event", {"interactionEvent": "SignIn"}),
        400,
        "session.not_supported_for_forgot_password",
    )
    # no new password before the user is identified
    error(await browser.call("PUT", RESET, {"password": NEW_PASSWORD}), 404, "session.identifier_not_found")
    error(await browser.call("POST", "/api/experience/submit"), 404, "session.identifier_not_found")
    error(await browser.call("POST", IDENTIFY, {}), 400, "guard.invalid_input")
    error(
        await browser.call("POST", IDENTIFY, {"verificationId": "nope"}), 404, "session.verification_session_not_found"
    )
    # a password verification does not identify anyone for a reset
    body = {"identifier": {"type": "email", "value": email}, "password": PASSWORD}
    password_record = await browser.call("POST", "/api/experience/verification/password", body)
    assert password_record.status_code == 200, password_record.text
    error(
        await browser.call("POST", IDENTIFY, {"verificationId": password_record.json()["verificationId"]}),
        422,
        "session.not_supported_for_forgot_password",
    )

    # a code sent but not verified
    unverified = await send(browser, email, "ForgotPassword")
    error(await browser.call("POST", IDENTIFY, {"verificationId": unverified}), 400, "session.verification_failed")

    # an email nobody has
    stranger = await started(identity, client, db, "ForgotPassword")
    unknown = f"nobody-{user['id'].lower()}@example.com"
    error(
        await stranger.call("POST", IDENTIFY, {"verificationId": await verified_code(stranger, smtp, unknown)}),
        404,
        "user.user_not_exist",
    )

    # the policy and the current password
    browser = await identified(identity, client, db, smtp, email)
    rejected = error(await browser.call("PUT", RESET, {"password": "short"}), 422, "password.rejected")
    assert rejected["data"]["issues"], rejected
    error(await browser.call("PUT", RESET, {"password": PASSWORD}), 422, "user.same_password")
    error(await browser.call("POST", "/api/experience/submit"), 422, "user.new_password_required_in_profile")
    async with db.connect() as conn:
        profiles = (await conn.execute(sa.select(interactions.c.profile))).scalars().all()
    assert not any(p.get("password") in ("short", PASSWORD) for p in profiles)  # nothing refused was kept

    # the reset is the ForgotPassword interaction's only
    signer = await started(identity, client, db, "SignIn")
    error(await signer.call("PUT", RESET, {"password": NEW_PASSWORD}), 400, "session.invalid_interaction_type")

    # nothing changed: the old password still signs in
    old, _ = await sign_in(identity, client, db, email, PASSWORD)
    assert old.status_code == 200, old.text
