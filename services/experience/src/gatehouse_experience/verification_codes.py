"""Verification codes of Logto's Experience API for an email address (`routes/experience/verification-routes/
verification-code.ts`, `classes/verifications/code-verification.ts`, `libraries/passcode.ts`): the sign-in page
asks for a code (an `EmailVerificationCode` record joins the interaction, replacing an earlier one, and the code
goes out through the tenant's Email connector with the template of the `interactionEvent`: `SignIn`, `Register`
or `ForgotPassword`), the user types it in (`verify`), and the verified record then identifies the user of a
`SignIn` or a `ForgotPassword` (`identify`) or gives a `Register` its primary email (`registration_profile`).

A code is Logto's: six digits, valid ten minutes, ten wrong tries at most. The record keeps a salted SHA-256 of
the code, never the code, with its expiry (`expiresAt`, epoch ms) and the count of wrong tries; a code that
verified is consumed (its digest dropped). The email is sent before the record is saved and outside any
transaction (a failed send saves nothing, as Logto's route saves the interaction after sending).

Logto's answers, in its order: no Email connector is 501 `connector.not_found` (a phone number always is: Gatehouse
has no SMS connector); `verify` with an unknown record (or one of another type) is 404
`session.verification_session_not_found`; then, all 400, a consumed code `verification_code.not_found`, another
address `verification_code.email_mismatch`, an expired code `verification_code.expired`, ten wrong tries
`verification_code.exceed_max_try`, and a wrong code `verification_code.code_mismatch` (counted). A sign-in needs
the sign-in experience's email method with `verificationCode` (422 `user.sign_in_method_not_enabled`) and is
refused for an SSO-only domain (422 `session.sso_enabled`); then the record must be verified (400
`session.verification_failed`) and a user must have the email as primary email, case-insensitively (identity's
`user.identify`: 404 `user.user_not_exist`, 401 `user.suspended`). A registration needs `email` among the sign-up
identifiers with `verify` (422 `user.sign_up_method_not_enabled`).
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Any

from gatehouse_connectors import FACTORIES, ConnectorFactory
from gatehouse_platform.errors import BadRequest, Conflict, GatehouseError, NotFound, Unprocessable
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.queries import management as management_reads
from gatehouse_schema.queries.management import sign_in_settings
from gatehouse_schema.rpc.identity import USER_IDENTIFY, IdentifyUser, VerifiedUser
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_experience.interactions import Interaction, InteractionAccess, InteractionStore
from gatehouse_experience.registration import (
    FORGOT_PASSWORD,
    SIGN_IN,
    guard_interaction_event,
    sign_up_identifiers,
)
from gatehouse_experience.sso import guard_sso_only_email

EMAIL_CODE = "EmailVerificationCode"  # Logto's `VerificationType.EmailVerificationCode`
PHONE_CODE = "PhoneVerificationCode"
RECORD_TYPES = {"email": EMAIL_CODE, "phone": PHONE_CODE}
CODE_LENGTH = 6
EXPIRES_IN_MS = 10 * 60 * 1000
MAX_TRIES = 10
# the record's secrets: never in the public interaction data, dropped once the code verified
CODE_KEYS = ("codeSalt", "codeDigest")


def _now_ms() -> int:
    return int(time.time() * 1000)


def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_LENGTH))


def code_digest(salt: str, code: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + code.encode()).hexdigest()


def no_connector(kind: str) -> GatehouseError:
    """Logto's `getMessageConnector` without a connector of the type."""
    return GatehouseError("connector.not_found", status=501, type=kind)


def _record_not_found() -> NotFound:
    return NotFound("session.verification_session_not_found")


def _code_sign_in_enabled(settings: dict[str, Any], identifier_type: str) -> bool:
    methods = (settings.get("signIn") or {}).get("methods") or []
    return any(
        m.get("identifier") == identifier_type and m.get("verificationCode") for m in methods if isinstance(m, dict)
    )


class CodeVerifications(InteractionAccess):
    def __init__(
        self,
        engine: AsyncEngine,
        rpc: RpcClient,
        store: InteractionStore,
        factories: Mapping[str, ConnectorFactory] = FACTORIES,
    ) -> None:
        self.engine = engine
        self.rpc = rpc
        self.store = store
        self.factories = factories
        self.email_factories = [id for id, factory in factories.items() if factory.metadata.type == "Email"]

    async def send(self, tenant_id: str, cookie: str | None, identifier: dict[str, str], event: str) -> str:
        """A new code for `identifier`, sent with the `event`'s template; the new record's id."""
        uid = await self._uid(cookie)
        await self._interaction(tenant_id, uid)
        if identifier["type"] != "email":
            raise no_connector("Sms")
        async with self.engine.connect() as conn:
            connector = await management_reads.message_connector(conn, tenant_id, self.email_factories)
        if connector is None:
            raise no_connector("Email")
        code, salt = new_code(), secrets.token_hex(16)
        factory = self.factories[connector.connector_id]
        await factory.send_message(connector.config, identifier["value"], event, {"code": code})
        record = {
            "id": secrets.token_urlsafe(16),
            "type": EMAIL_CODE,
            "identifier": {"type": identifier["type"], "value": identifier["value"]},
            "templateType": event,
            "verified": False,
            "codeSalt": salt,
            "codeDigest": code_digest(salt, code),
            "expiresAt": _now_ms() + EXPIRES_IN_MS,
            "tryCount": 0,
        }
        await self._put_record(tenant_id, uid, record)
        return str(record["id"])

    async def verify(
        self, tenant_id: str, cookie: str | None, identifier: dict[str, str], verification_id: str, code: str
    ) -> str:
        """Logto's `verifyPasscode` for the record: verified (and its code consumed), or refused; a wrong code
        is counted before the refusal."""
        uid = await self._uid(cookie)
        refusal: GatehouseError | None = None
        async with self.engine.begin() as conn:
            interaction = await self.store.get(conn, tenant_id, uid, lock=True)
            if interaction is None:
                raise NotFound("session.interaction_not_found")
            record = interaction.verification(verification_id)
            if record is None or record.get("type") != RECORD_TYPES.get(identifier["type"]):
                raise _record_not_found()
            if not code or not record.get("codeDigest"):
                raise BadRequest("verification_code.not_found")
            if record["identifier"]["value"] != identifier["value"]:
                raise BadRequest(f"verification_code.{identifier['type']}_mismatch")
            if int(record.get("expiresAt") or 0) <= _now_ms():
                raise BadRequest("verification_code.expired")
            if int(record.get("tryCount") or 0) >= MAX_TRIES:
                raise BadRequest("verification_code.exceed_max_try")
            if hmac.compare_digest(code_digest(str(record["codeSalt"]), code), str(record["codeDigest"])):
                for key in CODE_KEYS:
                    record.pop(key, None)
                record["verified"] = True
            else:
                record["tryCount"] = int(record.get("tryCount") or 0) + 1
                refusal = BadRequest("verification_code.code_mismatch")
            await self.store.save(conn, tenant_id, interaction)
        if refusal is not None:  # after the commit: the wrong try stays counted
            raise refusal
        return verification_id

    @staticmethod
    def _verified_email(interaction: Interaction, verification_id: str) -> tuple[dict[str, Any], str]:
        record = interaction.verification(verification_id)
        if record is None or record.get("type") != EMAIL_CODE:
            raise _record_not_found()
        return record, str(record["identifier"]["value"])

    async def identify(self, tenant_id: str, uid: str, verification_id: str, event: str = SIGN_IN) -> None:
        """Logto's `identifyUser` for an `EmailVerificationCode` record in a `SignIn`: the sign-in mode (403), the
        email sign-in method with a code (422), the SSO-only domains (422), the record verified (400), the user of
        the email (404, 401) and 409 `session.identity_conflict` for another user. A `ForgotPassword` interaction
        has checked its `forgotPasswordMethods` instead (`forgot_password.py`): no sign-in setting applies."""
        interaction = await self._interaction(tenant_id, uid)
        record, email = self._verified_email(interaction, verification_id)
        if event != FORGOT_PASSWORD:
            async with self.engine.connect() as conn:
                settings = await sign_in_settings(conn, tenant_id) or {}
                guard_interaction_event(settings, SIGN_IN)
                if not _code_sign_in_enabled(settings, "email"):
                    raise Unprocessable("user.sign_in_method_not_enabled")
                await guard_sso_only_email(conn, tenant_id, settings, email)
        if not record.get("verified"):
            raise BadRequest("session.verification_failed")
        user = await self.rpc.call("identity", USER_IDENTIFY, IdentifyUser(type="email", value=email), VerifiedUser)
        async with self.engine.begin() as conn:
            current = await self.store.get(conn, tenant_id, uid, lock=True)
            if current is None:
                raise NotFound("session.interaction_not_found")
            if current.user_id is not None:
                if current.user_id != user.user_id:
                    raise Conflict("session.identity_conflict")
                return
            current_record, _ = self._verified_email(current, verification_id)
            current_record.update(userId=user.user_id, mfaFactors=user.mfa_factors)
            current.user_id = user.user_id
            await self.store.save(conn, tenant_id, current)

    async def registration_profile(self, tenant_id: str, uid: str, verification_id: str) -> None:
        """A verified `EmailVerificationCode` record gives a `Register` its primary email (Logto's `toUserProfile`):
        `email` must be a sign-up identifier with `verify` (422 `user.sign_up_method_not_enabled`), the domain not
        SSO-only (422), the record verified (400 `session.verification_failed`)."""
        interaction = await self._interaction(tenant_id, uid)
        record, email = self._verified_email(interaction, verification_id)
        async with self.engine.connect() as conn:
            settings = await sign_in_settings(conn, tenant_id) or {}
            identifiers = sign_up_identifiers(settings)
            verify = bool((settings.get("signUp") or {}).get("verify"))
            if not verify or not {"email", "emailOrPhone"} & set(identifiers):
                raise Unprocessable("user.sign_up_method_not_enabled")
            await guard_sso_only_email(conn, tenant_id, settings, email)
        if not record.get("verified"):
            raise BadRequest("session.verification_failed")
        async with self.engine.begin() as conn:
            current = await self.store.get(conn, tenant_id, uid, lock=True)
            if current is None:
                raise NotFound("session.interaction_not_found")
            current.profile["primaryEmail"] = email
            await self.store.save(conn, tenant_id, current)
