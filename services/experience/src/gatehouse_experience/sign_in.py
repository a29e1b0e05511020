"""The sign-in flow of Logto's Experience API, for a browser an OIDC authorization request sent to the
sign-in page: start (`SignIn`), verify a password (or a social account, `social.py`, an enterprise SSO
identity, `sso.py`, or an email by a verification code, `verification_codes.py`), identify the user, verify
an MFA factor (TOTP or a backup code) when the user has one (unless enterprise SSO identified them), submit
(with Logto's `PostSignIn` / `PostRegister` hook event).

Every step names its OIDC interaction through the `_interaction` cookie identity set at `/oidc/auth`
(resolved with the `interaction.get` RPC); the password is checked by identity (`user.verify_password`:
the digest never leaves it); submitting reports the user with `interaction.result` and answers with the
URL identity finishes the authorization at. The tenant's sign-in experience settings (management's) decide
as in Logto: no `SignIn` in the `Register` sign-in mode (403 `auth.forbidden`), and a password identifies
a user only by an identifier type whose sign-in method allows a password (422
`user.sign_in_method_not_enabled`); with `singleSignOnEnabled`, an email of an SSO connector's domain signs in
through SSO only (422 `session.sso_enabled`). `start` also begins a `Register` interaction, whose profile and user
creation are `registration.py`'s, and a `ForgotPassword` one, whose identification and submit this flow hands to
`forgot_password.py` (password reset by an email verification code).
"""

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from gatehouse_platform.errors import BadRequest, Conflict, Forbidden, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.events import Actor
from gatehouse_schema.events.experience import InteractionApplication, PostRegister, PostSignIn
from gatehouse_schema.queries import identity as identity_reads
from gatehouse_schema.queries import management as management_reads
from gatehouse_schema.queries.management import sign_in_settings
from gatehouse_schema.rpc.identity import (
    INTERACTION_RESULT,
    USER_CONSUME_BACKUP_CODE,
    USER_POST_SIGN_IN_ACTION,
    USER_VERIFY_PASSWORD,
    USER_VERIFY_TOTP,
    AccountDone,
    ConsumeBackupCode,
    InteractionResult,
    InteractionResultReply,
    PasswordIdentifier,
    PostSignInAction,
    TotpVerified,
    VerifiedUser,
    VerifyPassword,
    VerifyTotp,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_experience.forgot_password import ForgotPasswordFlow
from gatehouse_experience.interactions import InteractionAccess, InteractionStore
from gatehouse_experience.registration import FORGOT_PASSWORD, REGISTER, guard_interaction_event
from gatehouse_experience.social import PRIVATE_PROFILE_KEYS, SOCIAL, SocialVerifications
from gatehouse_experience.sso import ENTERPRISE_SSO, SsoVerifications, guard_sso_only_email
from gatehouse_experience.verification_codes import EMAIL_CODE, CodeVerifications

SIGN_IN = "SignIn"
PASSWORD = "Password"
TOTP = "Totp"
BACKUP_CODE = "BackupCode"
MFA_VERIFICATIONS = frozenset({TOTP, BACKUP_CODE, "WebAuthn"})
# identity may run an Action's script (up to 5 s) and hash a password before it answers
ACTION_RPC_TIMEOUT = 15.0


def _password_sign_in_enabled(settings: dict[str, Any] | None, identifier_type: str) -> bool:
    methods = ((settings or {}).get("signIn") or {}).get("methods") or []
    return any(m.get("identifier") == identifier_type and m.get("password") for m in methods if isinstance(m, dict))


class SignInFlow(InteractionAccess):
    def __init__(
        self,
        engine: AsyncEngine,
        rpc: RpcClient,
        store: InteractionStore,
        outbox: Outbox,
        social: SocialVerifications,
        sso: SsoVerifications,
        codes: CodeVerifications,
        forgot_password: ForgotPasswordFlow,
    ) -> None:
        self.engine = engine
        self.rpc = rpc
        self.store = store
        self.outbox = outbox
        self.social = social
        self.sso = sso
        self.codes = codes
        self.forgot_password = forgot_password

    async def public_state(self, tenant_id: str, cookie: str | None) -> dict[str, Any]:
        """Logto's public interaction data: the event, the identified user, the profile collected so far
        (never the password or a provider's token set) and the verification records (never secrets, codes or
        tokens)."""
        interaction = await self._interaction(tenant_id, await self._uid(cookie))
        records = []
        for v in interaction.verifications:
            record: dict[str, Any] = {"id": v["id"], "type": v["type"], "verified": bool(v.get("verified"))}
            if v["type"] in (SOCIAL, ENTERPRISE_SSO):
                record["connectorId"] = v.get("connectorId")
            elif v.get("identifier") is not None:
                record["identifier"] = v["identifier"]
            elif v.get("userId") is not None:
                record["userId"] = v["userId"]
            records.append(record)
        state: dict[str, Any] = {
            "interactionEvent": interaction.interaction_event,
            "profile": {k: v for k, v in interaction.profile.items() if k not in PRIVATE_PROFILE_KEYS},
            "verificationRecords": records,
        }
        if interaction.user_id is not None:
            state["userId"] = interaction.user_id
        return state

    async def start(self, tenant_id: str, cookie: str | None, event: str) -> None:
        """A new `SignIn` or `Register` interaction (replacing any earlier one, its profile included); the
        sign-in mode refuses the event it excludes (403 `auth.forbidden`); `ForgotPassword` is never refused."""
        if event not in (SIGN_IN, REGISTER, FORGOT_PASSWORD):
            raise BadRequest("session.interaction_event_not_supported")
        uid = await self._uid(cookie)
        async with self.engine.begin() as conn:
            guard_interaction_event(await sign_in_settings(conn, tenant_id) or {}, event)
            await self.store.start(conn, tenant_id, uid, event)

    async def verify_password(
        self, tenant_id: str, cookie: str | None, identifier: PasswordIdentifier, password: str
    ) -> str:
        """A verified password record (its id), or identity's 422 `session.invalid_credentials` / 401
        `user.suspended`. In a `SignIn` interaction identity runs the PostFirstFactorVerification action on a
        password it refuses, which may verify it for a user it creates or updates."""
        uid = await self._uid(cookie)
        event = (await self._interaction(tenant_id, uid)).interaction_event
        request = VerifyPassword(identifier=identifier, password=password, interaction_event=event)
        verified = await self.rpc.call(
            "identity", USER_VERIFY_PASSWORD, request, VerifiedUser, timeout=ACTION_RPC_TIMEOUT
        )
        record = {
            "id": secrets.token_urlsafe(16),
            "type": PASSWORD,
            "identifier": {"type": identifier.type, "value": identifier.value},
            "verified": True,
            "userId": verified.user_id,
            "mfaFactors": verified.mfa_factors,
        }
        async with self.engine.begin() as conn:
            interaction = await self.store.get(conn, tenant_id, uid, lock=True)
            if interaction is None:
                raise NotFound("session.interaction_not_found")
            interaction.verifications.append(record)
            await self.store.save(conn, tenant_id, interaction)
        return str(record["id"])

    async def identify(
        self, tenant_id: str, cookie: str | None, verification_id: str | None, link_social: bool = False
    ) -> None:
        """The user of a verified password record, of a `Social` record (`social.py`; `link_social` is Logto's
        `linkSocialIdentity`), of an `EnterpriseSso` record (`sso.py`) or of an `EmailVerificationCode` record
        (`verification_codes.py`). MFA records identify nobody (400
        `session.verification_failed`). A password's email identifier of an SSO connector's domain is 422
        `session.sso_enabled` (Logto's `guardSsoOnlyEmailIdentifier`). A `ForgotPassword` interaction identifies
        by a verification code only (`forgot_password.py`)."""
        uid = await self._uid(cookie)
        current = await self._interaction(tenant_id, uid)
        if current.interaction_event == FORGOT_PASSWORD:
            await self.forgot_password.identify(tenant_id, uid, current, verification_id)
            return
        found = current.verification(verification_id) if verification_id else None
        if found is not None and found.get("type") == SOCIAL and verification_id:
            await self.social.identify(tenant_id, uid, verification_id, link_social)
            return
        if found is not None and found.get("type") == ENTERPRISE_SSO and verification_id:
            await self.sso.identify(tenant_id, uid, verification_id)
            return
        if found is not None and found.get("type") == EMAIL_CODE and verification_id:
            await self.codes.identify(tenant_id, uid, verification_id)
            return
        async with self.engine.begin() as conn:
            interaction = await self.store.get(conn, tenant_id, uid, lock=True)
            if interaction is None:
                raise NotFound("session.interaction_not_found")
            record = interaction.verification(verification_id) if verification_id else None
            if record is None:
                raise NotFound("session.verification_session_not_found")
            user_id = record.get("userId")
            identifier = record.get("identifier")
            if not record.get("verified") or not user_id or not isinstance(identifier, dict):
                raise BadRequest("session.verification_failed")
            settings = await sign_in_settings(conn, tenant_id) or {}
            if not _password_sign_in_enabled(settings, identifier["type"]):
                raise Unprocessable("user.sign_in_method_not_enabled")
            if identifier["type"] == "email":
                await guard_sso_only_email(conn, tenant_id, settings, str(identifier["value"]))
            if interaction.user_id is not None and interaction.user_id != user_id:
                raise Conflict("session.identity_conflict")
            interaction.user_id = str(user_id)
            await self.store.save(conn, tenant_id, interaction)

    async def verify_totp(self, tenant_id: str, cookie: str | None, code: str, verification_id: str | None) -> str:
        """A verified TOTP record for the identified user (identity checks the code against the user's bound
        factor: 400 `session.mfa.invalid_totp_code`). Binding a new TOTP secret in the flow is not served, so a
        `verificationId` of a new secret is never found."""
        if verification_id is not None:
            raise NotFound("session.verification_session_not_found")
        return await self._mfa_verification(
            tenant_id,
            cookie,
            TOTP,
            lambda user_id: self.rpc.call(
                "identity", USER_VERIFY_TOTP, VerifyTotp(user_id=user_id, code=code), TotpVerified
            ),
        )

    async def verify_backup_code(self, tenant_id: str, cookie: str | None, code: str) -> str:
        """A verified backup-code record; identity marks the code used (400 `session.mfa.invalid_backup_code`
        for a wrong or used one), so a code signs in once."""
        return await self._mfa_verification(
            tenant_id,
            cookie,
            BACKUP_CODE,
            lambda user_id: self.rpc.call(
                "identity", USER_CONSUME_BACKUP_CODE, ConsumeBackupCode(user_id=user_id, code=code), TotpVerified
            ),
        )

    async def _mfa_verification(
        self, tenant_id: str, cookie: str | None, kind: str, check: Callable[[str], Awaitable[Any]]
    ) -> str:
        """An MFA verification of the identified user (404 `session.identifier_not_found` before one)."""
        uid = await self._uid(cookie)
        interaction = await self._interaction(tenant_id, uid)
        if interaction.user_id is None:
            raise NotFound("session.identifier_not_found")
        await check(interaction.user_id)
        record = {"id": secrets.token_urlsafe(16), "type": kind, "verified": True, "userId": interaction.user_id}
        async with self.engine.begin() as conn:
            current = await self.store.get(conn, tenant_id, uid, lock=True)
            if current is None:
                raise NotFound("session.interaction_not_found")
            current.verifications.append(record)
            await self.store.save(conn, tenant_id, current)
        return str(record["id"])

    async def submit(self, tenant_id: str, cookie: str | None, actor: Actor | None = None) -> str | None:
        """Reports the identified user to identity; the answer is where the browser goes next (nothing for a
        `ForgotPassword`, whose reset `forgot_password.py` applies: no sign-in follows). A `SignIn` first
        has identity apply what an enterprise SSO verification (`user.sso_sign_in`) and a social verification
        (`user.social_sign_in`) brought and run the PostSignIn
        action for the user (it may change them, or block the sign-in with 400 `session.verification_failed`).
        `PostSignIn` goes out through the outbox, in the transaction that ends the experience interaction."""
        details = await self._details(cookie)
        uid = details.uid
        interaction = await self._interaction(tenant_id, uid)
        if interaction.interaction_event == FORGOT_PASSWORD:
            await self.forgot_password.submit(tenant_id, uid, details.client_id, interaction, actor)
            return None
        if interaction.user_id is None:
            raise NotFound("session.identifier_not_found")
        # the user's factors as of their latest verification in this interaction
        factors = next(
            (
                v.get("mfaFactors") or []
                for v in reversed(interaction.verifications)
                if v.get("userId") == interaction.user_id
            ),
            [],
        )
        mfa_verified = any(
            v.get("type") in MFA_VERIFICATIONS and v.get("verified") and v.get("userId") == interaction.user_id
            for v in interaction.verifications
        )
        # Logto: a user with MFA factors verifies one before the sign-in ends, unless an enterprise SSO
        # verification identified them
        if factors and not mfa_verified and not self.sso.verified_for(interaction):
            raise Forbidden("session.mfa.require_mfa_verification")
        if interaction.interaction_event == SIGN_IN:
            await self.sso.apply_sign_in(interaction)
            await self.social.apply_sign_in(interaction)
            request = PostSignInAction(user_id=interaction.user_id)
            await self.rpc.call("identity", USER_POST_SIGN_IN_ACTION, request, AccountDone, timeout=ACTION_RPC_TIMEOUT)
        reply = await self.rpc.call(
            "identity",
            INTERACTION_RESULT,
            InteractionResult(uid=uid, account_id=interaction.user_id),
            InteractionResultReply,
        )
        async with self.engine.begin() as conn:
            await self.store.delete(conn, tenant_id, uid)
            user = await identity_reads.get_user(conn, tenant_id, interaction.user_id)
            apps = await management_reads.application_briefs(conn, tenant_id, [details.client_id])
            brief = apps.get(details.client_id)
            hook_event = PostRegister if interaction.interaction_event == "Register" else PostSignIn
            event = hook_event(
                interaction_event=interaction.interaction_event,
                interaction_id=uid,
                user_id=interaction.user_id,
                user=user,
                application=None
                if brief is None
                else InteractionApplication(id=brief.id, name=brief.name, is_third_party=brief.is_third_party),
            )
            who = Actor(type="user", id=interaction.user_id, ip=actor.ip if actor else None)
            who.user_agent = actor.user_agent if actor else None
            await self.outbox.append(conn, event, tenant_id=tenant_id, actor=who)
        return reply.redirect_to
