"""Logto's email verification codes in the Experience API, against a real SMTP server (aiosmtpd, in-process) behind
the tenant's SMTP connector: a browser asks for a code, reads it from the email, verifies it, and signs in (or
registers) by it; and every way Logto refuses a code."""

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
import sqlalchemy as sa
from gatehouse_connectors.smtp import FACTORY_ID as SMTP
from gatehouse_schema.tables.experience import interactions
from gatehouse_schema.tables.management import connectors
from gatehouse_testing.fake_smtp import FakeSmtp, fake_smtp
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from .flowkit import Browser, error, make_user, password_sign_in, started, write_sign_in_experience

SEND = "/api/experience/verification/verification-code"
VERIFY = "/api/experience/verification/verification-code/verify"
EMAIL_CODE_SIGN_IN = {"identifier": "email", "password": False, "verificationCode": True, "isPasswordPrimary": False}


@pytest_asyncio.fixture
async def smtp(db: AsyncEngine) -> AsyncIterator[FakeSmtp]:
    """A running SMTP server and the tenant's SMTP connector sending through it (a management row, as
    `POST /api/connectors` writes it); removed afterwards."""
    with fake_smtp() as server:
        connector_id = f"smtp-{uuid.uuid4().hex[:8]}"
        async with db.begin() as conn:
            await conn.execute(
                sa.insert(connectors).values(
                    tenant_id="default",
                    id=connector_id,
                    connector_id=SMTP,
                    config=server.config(),
                    metadata={},
                    sync_profile=False,
                    enable_token_storage=False,
                    created_at=sa.func.now(),
                )
            )
        try:
            yield server
        finally:
            async with db.begin() as conn:
                await conn.execute(sa.delete(connectors).where(connectors.c.connector_id == SMTP))


async def email_code_settings(db: AsyncEngine, *, sign_in: list[dict[str, Any]] | None = None, **sign_up: Any) -> None:
    """Sign-in by email code (unless `sign_in` says otherwise) and email sign-up with verification, no password."""
    settings = {
        "signInMode": "SignInAndRegister",
        "signIn": {"methods": sign_in if sign_in is not None else [EMAIL_CODE_SIGN_IN]},
        "signUp": {"identifiers": ["email"], "password": False, "verify": True, **sign_up},
    }
    await write_sign_in_experience(db, settings)


def email_identifier(value: str) -> dict[str, str]:
    return {"type": "email", "value": value}


async def send(browser: Browser, email: str, event: str = "SignIn") -> str:
    response = await browser.call("POST", SEND, {"identifier": email_identifier(email), "interactionEvent": event})
    assert response.status_code == 200, response.text
    return str(response.json()["verificationId"])


def last_code(smtp: FakeSmtp, to: str) -> str:
    received = smtp.messages[-1]
    assert received.recipients == [to]
    found = re.search(r"\b(\d{6})\b", received.body)
    assert found, received.body
    return found.group(1)


async def verify(browser: Browser, email: str, verification_id: str, code: str) -> Response:
    body = {"identifier": email_identifier(email), "verificationId": verification_id, "code": code}
    return await browser.call("POST", VERIFY, body)


async def stored_record(db: AsyncEngine, verification_id: str) -> dict[str, Any]:
    async with db.connect() as conn:
        rows = (await conn.execute(sa.select(interactions.c.verifications))).scalars().all()
    return next(v for records in rows for v in records if v.get("id") == verification_id)


async def set_record(db: AsyncEngine, verification_id: str, **changes: Any) -> None:
    """Changes the stored record (e.g. its `expiresAt`) in its interaction's row."""
    async with db.begin() as conn:
        rows = await conn.execute(sa.select(interactions.c.tenant_id, interactions.c.id, interactions.c.verifications))
        for row in rows.all():
            records = list(row.verifications or [])
            for record in records:
                if record.get("id") == verification_id:
                    record.update(changes)
                    await conn.execute(
                        sa.update(interactions)
                        .where(interactions.c.tenant_id == row.tenant_id, interactions.c.id == row.id)
                        .values(verifications=records)
                    )
                    return
    raise AssertionError(f"no record {verification_id}")


async def test_sign_in_by_email_code_finishes_the_authorization(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], smtp: FakeSmtp
) -> None:
    await email_code_settings(db)
    user = await make_user(identity, auth)
    typed = user["primaryEmail"].upper()  # the primary email is found case-insensitively
    browser = await started(identity, client, db, "SignIn")

    verification_id = await send(browser, typed)
    [received] = smtp.messages
    code = last_code(smtp, typed)
    assert received.subject == f"Sign in {code}" and received.body == f"Sign in with {code}."  # the SignIn template
    stored = await stored_record(db, verification_id)
    assert stored["type"] == "EmailVerificationCode" and stored["verified"] is False and stored["tryCount"] == 0
    assert code not in json.dumps(stored) and stored["codeDigest"] and stored["codeSalt"]  # a salted digest only

    verified = await verify(browser, typed, verification_id, code)
    assert verified.status_code == 200 and verified.json() == {"verificationId": verification_id}, verified.text
    stored = await stored_record(db, verification_id)
    assert stored["verified"] is True and "codeDigest" not in stored  # consumed
    state = (await browser.call("GET", "/api/experience/interaction")).json()
    assert state["verificationRecords"] == [
        {
            "id": verification_id,
            "type": "EmailVerificationCode",
            "verified": True,
            "identifier": email_identifier(typed),
        }
    ]
    # a consumed code does not verify twice
    error(await verify(browser, typed, verification_id, code), 400, "verification_code.not_found")

    identified = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    assert identified.status_code == 204, identified.text
    assert (await browser.call("GET", "/api/experience/interaction")).json()["userId"] == user["id"]
    assert await browser.finish()


async def test_register_by_email_code_creates_the_user_with_the_primary_email(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], smtp: FakeSmtp
) -> None:
    await email_code_settings(db)
    email = f"new-{uuid.uuid4().hex[:10]}@example.com"
    browser = await started(identity, client, db, "Register")
    verification_id = await send(browser, email, "Register")
    code = last_code(smtp, email)
    assert smtp.messages[-1].subject == "Register"  # the Register template
    verified = await verify(browser, email, verification_id, code)
    assert verified.status_code == 200, verified.text

    identified = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    assert identified.status_code == 201, identified.text
    user_id = (await browser.call("GET", "/api/experience/interaction")).json()["userId"]
    user = (await identity.get(f"/api/users/{user_id}", headers=auth)).json()
    assert user["primaryEmail"] == email and user["hasPassword"] is False
    assert await browser.finish()

    # the same email again: taken
    again = await started(identity, client, db, "Register")
    verification_id = await send(again, email, "Register")
    assert (await verify(again, email, verification_id, last_code(smtp, email))).status_code == 200
    taken = await again.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    error(taken, 422, "user.email_already_in_use")


async def test_wrong_expired_and_exhausted_codes_are_refused(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], smtp: FakeSmtp
) -> None:
    await email_code_settings(db)
    email = (await make_user(identity, auth))["primaryEmail"]
    browser = await started(identity, client, db, "SignIn")
    verification_id = await send(browser, email)
    code = last_code(smtp, email)
    wrong = "000000" if code != "000000" else "111111"

    error(await verify(browser, email, verification_id, wrong), 400, "verification_code.code_mismatch")
    assert (await stored_record(db, verification_id))["tryCount"] == 1  # counted, though refused
    error(await verify(browser, "other@example.com", verification_id, code), 400, "verification_code.email_mismatch")
    error(await verify(browser, email, "unknown", code), 404, "session.verification_session_not_found")
    phone = {"identifier": {"type": "phone", "value": "123456"}, "verificationId": verification_id, "code": code}
    error(await browser.call("POST", VERIFY, phone), 404, "session.verification_session_not_found")
    # an unverified record identifies nobody
    unverified = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    error(unverified, 400, "session.verification_failed")

    # expired: the stored expiry passed
    await set_record(db, verification_id, expiresAt=1)
    error(await verify(browser, email, verification_id, code), 400, "verification_code.expired")

    # ten wrong tries: even the right code is refused then
    verification_id = await send(browser, email)
    code = last_code(smtp, email)
    for _ in range(10):
        error(await verify(browser, email, verification_id, wrong), 400, "verification_code.code_mismatch")
    error(await verify(browser, email, verification_id, code), 400, "verification_code.exceed_max_try")
    # a new code replaces the record
    fresh = await send(browser, email)
    error(await verify(browser, email, verification_id, code), 404, "session.verification_session_not_found")
    assert (await verify(browser, email, fresh, last_code(smtp, email))).status_code == 200


async def test_without_an_email_connector_no_code_is_sent(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine
) -> None:
    await email_code_settings(db)
    browser = await started(identity, client, db, "SignIn")
    body = {"identifier": email_identifier("someone@example.com"), "interactionEvent": "SignIn"}
    refused = error(await browser.call("POST", SEND, body), 501, "connector.not_found")
    assert refused["message"] == "Cannot find any available connector for type: Email."
    assert (await browser.call("GET", "/api/experience/interaction")).json()["verificationRecords"] == []


async def test_phone_codes_need_an_sms_connector_and_identifiers_are_checked(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, smtp: FakeSmtp
) -> None:
    await email_code_settings(db)
    browser = await started(identity, client, db, "SignIn")
    phone = {"identifier": {"type": "phone", "value": "15551234567"}, "interactionEvent": "SignIn"}
    refused = error(await browser.call("POST", SEND, phone), 501, "connector.not_found")
    assert refused["message"] == "Cannot find any available connector for type: Sms."
    bad = {"identifier": email_identifier("not-an-email"), "interactionEvent": "SignIn"}
    error(await browser.call("POST", SEND, bad), 400, "guard.invalid_input")
    assert smtp.messages == []
    # no interaction, no code
    outsider = Browser(identity, client)
    error(
        await outsider.call("POST", SEND, {**bad, "identifier": email_identifier("a@b.co")}), 404, "session.not_found"
    )


async def test_sign_in_by_email_code_follows_the_sign_in_experience(
    client: AsyncClient, identity: AsyncClient, db: AsyncEngine, auth: dict[str, str], smtp: FakeSmtp
) -> None:
    email = (await make_user(identity, auth))["primaryEmail"]

    async def verified_browser(event: str, address: str) -> tuple[Browser, str]:
        browser = await started(identity, client, db, event)
        verification_id = await send(browser, address, event)
        assert (await verify(browser, address, verification_id, last_code(smtp, address))).status_code == 200
        return browser, verification_id

    # email sign-in by password only: a code does not sign in
    await email_code_settings(db, sign_in=[password_sign_in("email")])
    browser, verification_id = await verified_browser("SignIn", email)
    identified = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    error(identified, 422, "user.sign_in_method_not_enabled")

    # no user has the email
    await email_code_settings(db)
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    browser, verification_id = await verified_browser("SignIn", nobody)
    identified = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    assert error(identified, 404, "user.user_not_exist")["data"] == {"identifier": nobody}

    # a suspended user
    user = await make_user(identity, auth)
    suspended = await identity.patch(f"/api/users/{user['id']}/is-suspended", json={"isSuspended": True}, headers=auth)
    assert suspended.status_code == 200, suspended.text
    browser, verification_id = await verified_browser("SignIn", user["primaryEmail"])
    identified = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    error(identified, 401, "user.suspended")

    # email is not a sign-up identifier: a code registers nobody
    await write_sign_in_experience(
        db,
        {
            "signInMode": "SignInAndRegister",
            "signIn": {"methods": [password_sign_in("username")]},
            "signUp": {"identifiers": ["username"], "password": True, "verify": False},
        },
    )
    browser, verification_id = await verified_browser("Register", f"r-{uuid.uuid4().hex[:8]}@example.com")
    identified = await browser.call("POST", "/api/experience/identification", {"verificationId": verification_id})
    error(identified, 422, "user.sign_up_method_not_enabled")
