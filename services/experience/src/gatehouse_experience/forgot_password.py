"""Logto's `ForgotPassword` interaction of the Experience API (password reset by an email verification code): start
it (`PUT /api/experience`, `sign_in.py`'s `start`), send and verify a code with the `ForgotPassword` template
(`verification_codes.py`), identify the user of the verified email, set the new password
(`PUT /api/experience/profile/password`), submit.

What Logto checks, in its order (`experience-interaction.ts`, `classes/profile.ts`,
`libraries/sign-in-experience-validator.ts`, `libraries/password-validator.ts`): at identification a
verification code record only (422 `session.not_supported_for_forgot_password`), of a method among the sign-in
experience's `forgotPasswordMethods` (the same 422; a missing list allows both), verified (400
`session.verification_failed`), of an existing user (404 `user.user_not_exist`, 401 `user.suspended`); for the
new password an identified `ForgotPassword` interaction (400 `session.invalid_interaction_type`, 404
`session.identifier_not_found`), the password policy with the user's information (422 `password.rejected`) and
not the current password (422 `user.same_password`, identity's `user.check_new_password`: the digest never leaves
it); at submit a new password in the profile (422 `user.new_password_required_in_profile`).

Submit neither checks MFA nor finishes the OIDC authorization (Logto's reset signs nobody in): identity sets the
password (`user.set_password`: hashed off its event loop, `User.Data.Updated` through its outbox), the experience
interaction ends and `PostResetPassword` goes out through experience's outbox in the same transaction. The answer
is 200 without a body, as Logto's. Like a registration's, the new password waits in the interaction's profile, in
plain text, only until submit hands it to identity (`GET /api/experience/interaction` never shows it).
"""

from typing import Any

from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.events import Actor
from gatehouse_schema.events.experience import InteractionApplication, PostResetPassword
from gatehouse_schema.queries import identity as identity_reads
from gatehouse_schema.queries import management as management_reads
from gatehouse_schema.queries.management import sign_in_settings
from gatehouse_schema.rpc.identity import (
    USER_CHECK_NEW_PASSWORD,
    USER_SET_PASSWORD,
    CheckNewPassword,
    PasswordSet,
    SetPassword,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_experience.interactions import Interaction, InteractionAccess, InteractionStore
from gatehouse_experience.registration import FORGOT_PASSWORD, check_password
from gatehouse_experience.verification_codes import EMAIL_CODE, PHONE_CODE, CodeVerifications

# identity hashes the new password (argon2, in a worker thread) before it answers
PASSWORD_RPC_TIMEOUT = 15.0


def guard_forgot_password_method(settings: dict[str, Any], record_type: str) -> None:
    """Logto's `guardForgotPasswordVerificationMethod`: a verification code record of a method the sign-in
    experience's `forgotPasswordMethods` names (`EmailVerificationCode`, `PhoneVerificationCode`); without the
    setting (null), any code method is allowed."""
    if record_type not in (EMAIL_CODE, PHONE_CODE):
        raise Unprocessable("session.not_supported_for_forgot_password")
    methods = settings.get("forgotPasswordMethods")
    if methods is not None and record_type not in methods:
        raise Unprocessable("session.not_supported_for_forgot_password")


class ForgotPasswordFlow(InteractionAccess):
    def __init__(
        self, engine: AsyncEngine, rpc: RpcClient, store: InteractionStore, outbox: Outbox, codes: CodeVerifications
    ) -> None:
        self.engine = engine
        self.rpc = rpc
        self.store = store
        self.outbox = outbox
        self.codes = codes

    async def identify(self, tenant_id: str, uid: str, interaction: Interaction, verification_id: str | None) -> None:
        """The user of a verified `EmailVerificationCode` record (`verification_codes.py`), for the `ForgotPassword`
        interaction `interaction`."""
        if not verification_id:
            raise BadRequest("guard.invalid_input", data={"message": "verificationId is missing"})
        record = interaction.verification(verification_id)
        if record is None:
            raise NotFound("session.verification_session_not_found")
        async with self.engine.connect() as conn:
            guard_forgot_password_method(await sign_in_settings(conn, tenant_id) or {}, str(record.get("type")))
        await self.codes.identify(tenant_id, uid, verification_id, FORGOT_PASSWORD)

    async def reset_password(self, tenant_id: str, cookie: str | None, password: str) -> None:
        """`PUT /api/experience/profile/password`: the new password, checked now and applied at submit."""
        uid = await self._uid(cookie)
        interaction = await self._interaction(tenant_id, uid)
        if interaction.interaction_event != FORGOT_PASSWORD:
            raise BadRequest("session.invalid_interaction_type")
        user_id = interaction.user_id
        if user_id is None:
            raise NotFound("session.identifier_not_found")
        async with self.engine.connect() as conn:
            settings = await sign_in_settings(conn, tenant_id) or {}
            user = await identity_reads.get_user(conn, tenant_id, user_id)
        if user is None:
            raise NotFound("session.identifier_not_found")
        # Logto's `getUserInfo`: the profile's values before the user's (a reset's profile has none)
        info = {
            "name": user.name,
            "username": user.username,
            "primaryEmail": user.primary_email,
            "primaryPhone": user.primary_phone,
        }
        check_password(settings, password, {**info, **interaction.profile})
        request = CheckNewPassword(user_id=user_id, password=password)
        await self.rpc.call("identity", USER_CHECK_NEW_PASSWORD, request, PasswordSet, timeout=PASSWORD_RPC_TIMEOUT)
        async with self.engine.begin() as conn:
            current = await self.store.get(conn, tenant_id, uid, lock=True)
            if current is None:
                raise NotFound("session.interaction_not_found")
            if current.user_id != user_id or current.interaction_event != FORGOT_PASSWORD:
                raise BadRequest("session.invalid_interaction_type")  # changed meanwhile
            current.profile["password"] = password
            await self.store.save(conn, tenant_id, current)

    async def submit(
        self, tenant_id: str, uid: str, client_id: str, interaction: Interaction, actor: Actor | None = None
    ) -> None:
        """Identity sets the identified user's new password; the interaction ends with `PostResetPassword`."""
        user_id = interaction.user_id
        if user_id is None:
            raise NotFound("session.identifier_not_found")
        password = interaction.profile.get("password")
        if not password:
            raise Unprocessable("user.new_password_required_in_profile")
        request = SetPassword(user_id=user_id, password=str(password))
        await self.rpc.call("identity", USER_SET_PASSWORD, request, PasswordSet, timeout=PASSWORD_RPC_TIMEOUT)
        async with self.engine.begin() as conn:
            await self.store.delete(conn, tenant_id, uid)
            user = await identity_reads.get_user(conn, tenant_id, user_id)
            brief = (await management_reads.application_briefs(conn, tenant_id, [client_id])).get(client_id)
            event = PostResetPassword(
                interaction_event=FORGOT_PASSWORD,
                interaction_id=uid,
                user_id=user_id,
                user=user,
                application=None
                if brief is None
                else InteractionApplication(id=brief.id, name=brief.name, is_third_party=brief.is_third_party),
            )
            who = Actor(type="user", id=user_id, ip=actor.ip if actor else None)
            who.user_agent = actor.user_agent if actor else None
            await self.outbox.append(conn, event, tenant_id=tenant_id, actor=who)
