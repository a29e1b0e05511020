"""The registration flow of Logto's Experience API (username and password sign-up, or a social account's,
`social.py`, or an enterprise SSO identity's, `sso.py`): start a `Register` interaction (`sign_in.py`'s
`start`), switch between `SignIn` and `Register`, collect the profile, then create the user at identification;
`POST /api/experience/submit` finishes it like a sign-in.

The profile lives in the interaction's row (`experience.interactions.profile`, Logto's camelCase keys). The
password is kept there in plain text only until identification: `user.create` hands it to identity, which
hashes it off the event loop, and the profile is cleared in the same step (also when the event is switched
or the interaction restarted), so digests stay in identity and the plain text outlives no registration.

What Logto checks, in its order (`routes/experience/profile-routes.ts`, `classes/profile.ts`,
`classes/libraries/profile-validator.ts`, `password-validator.ts`, `sign-in-experience-validator.ts`): the
sign-in mode (403 `auth.forbidden`), the username's format (400 `guard.invalid_input`), that it is a sign-up
identifier (422 `user.sign_in_method_not_enabled`, as Logto's `verifyProfileSettings`) and free (422
`user.username_already_in_use`), the password policy (422 `password.rejected`, its issues in `data`), and at
identification the sign-up's mandatory profile (422 `user.missing_profile` with `missingProfile`).
"""

import re
from typing import Any, Protocol

import msgspec
from gatehouse_platform.errors import BadRequest, Forbidden, NotFound, Unprocessable
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema import password_policy
from gatehouse_schema.queries.identity import username_taken
from gatehouse_schema.queries.management import sign_in_settings
from gatehouse_schema.rpc.identity import (
    USER_CREATE,
    CreatedUser,
    CreateUser,
    SealedTokenSet,
    SocialIdentity,
    SsoIdentity,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_experience.interactions import InteractionAccess, InteractionStore

SIGN_IN = "SignIn"
REGISTER = "Register"
FORGOT_PASSWORD = "ForgotPassword"
# Logto's `usernameRegEx` (`^[A-Z_a-z]\w*$`): JavaScript's `\w` is ASCII, and its `$` ends the string
USERNAME = re.compile(r"[A-Z_a-z][0-9A-Z_a-z]*")
VERIFIED_TYPES = frozenset({"email", "phone", "social"})
# the profile keys a social verification adds (Logto's names)
SOCIAL_IDENTITY, TOKEN_SET_SECRET = "socialIdentity", "socialConnectorTokenSetSecret"
# the profile keys an enterprise SSO verification adds (Logto's names): an identity to link (or a new user's), or
# the identity the user already has, whose detail is refreshed at submit
SSO_IDENTITY, SYNCED_SSO_IDENTITY = "enterpriseSsoIdentity", "syncedEnterpriseSsoIdentity"
# the sealed token set of an OIDC SSO connector with token storage, for submit to keep (Logto's name)
SSO_TOKEN_SET_SECRET = "enterpriseSsoConnectorTokenSetSecret"


class SocialProfiles(Protocol):
    """`social.py`'s part of a registration: a `Social` record's identity and synced profile join the profile."""

    async def registration_profile(self, tenant_id: str, uid: str, verification_id: str) -> None: ...


class CodeProfiles(Protocol):
    """`verification_codes.py`'s part of a registration: a verified `EmailVerificationCode` record's email becomes
    the primary email."""

    async def registration_profile(self, tenant_id: str, uid: str, verification_id: str) -> None: ...


class SsoProfiles(Protocol):
    """`sso.py`'s part of a registration: an `EnterpriseSso` record's identity, email, name and avatar join the
    profile."""

    async def registration_profile(self, tenant_id: str, uid: str, verification_id: str) -> None: ...


def sso_identity_of(value: dict[str, Any] | None, secret: dict[str, Any] | None = None) -> SsoIdentity | None:
    """An SSO identity as the profile keeps it (`enterpriseSsoIdentity`, `syncedEnterpriseSsoIdentity`), with the
    sealed token set of the profile's `enterpriseSsoConnectorTokenSetSecret` when it is this identity's."""
    if value is None:
        return None
    token_set = None
    if secret is not None and (secret["issuer"], secret["identityId"]) == (value["issuer"], value["identityId"]):
        token_set = msgspec.convert(secret["tokenSet"], SealedTokenSet)
    return SsoIdentity(
        sso_connector_id=value["ssoConnectorId"],
        issuer=value["issuer"],
        identity_id=value["identityId"],
        detail=value["detail"],
        token_set=token_set,
    )


def social_identity_of(profile: dict[str, Any]) -> SocialIdentity | None:
    """The profile's social identity (to link, or a new user's) with its sealed token set; for a sign-in that
    links nothing, the identity only names where the token set belongs."""
    social, secret = profile.get(SOCIAL_IDENTITY), profile.get(TOKEN_SET_SECRET)
    token_set = None if secret is None else msgspec.convert(secret["tokenSet"], SealedTokenSet)
    if social is not None:
        return SocialIdentity(
            connector_id=social["connectorId"],
            target=social["target"],
            details=social["userInfo"],
            token_set=token_set,
        )
    if secret is not None:
        return SocialIdentity(
            connector_id=secret["connectorId"],
            target=secret["target"],
            details={"id": secret["identityId"]},
            token_set=token_set,
        )
    return None


def guard_interaction_event(settings: dict[str, Any], event: str) -> None:
    """Logto's `guardInteractionEvent`: no `SignIn` in the `Register` sign-in mode, no `Register` in the
    `SignIn` mode (403 `auth.forbidden`); `ForgotPassword` is not the sign-in mode's to refuse."""
    mode = settings.get("signInMode")
    if (event == SIGN_IN and mode == REGISTER) or (event == REGISTER and mode == SIGN_IN):
        raise Forbidden("auth.forbidden")


def sign_up_identifiers(settings: dict[str, Any]) -> list[str]:
    """The primary sign-up identifiers and, after them, the secondary ones (Logto's `secondaryIdentifiers`)."""
    sign_up = settings.get("signUp") or {}
    primary = [i for i in sign_up.get("identifiers") or [] if isinstance(i, str)]
    secondary = [s.get("identifier") for s in sign_up.get("secondaryIdentifiers") or [] if isinstance(s, dict)]
    return primary + [s for s in secondary if isinstance(s, str)]


def missing_profile(settings: dict[str, Any], profile: dict[str, Any]) -> list[str]:
    """What the sign-up settings require and the profile lacks (Logto's `getMandatoryUserProfileBySignUpMethods`
    and `getMissingUserProfile`, for a user not created yet)."""
    sign_up = settings.get("signUp") or {}
    primary = [i for i in sign_up.get("identifiers") or [] if isinstance(i, str)]
    required: list[str] = []
    if sign_up.get("password"):
        required.append("password")
    if "username" in primary:
        required.append("username")
    if "email" in primary and "phone" in primary:
        required.append("emailOrPhone")
    else:
        required += [i for i in ("email", "phone") if i in primary]
    required += [i for i in sign_up_identifiers(settings)[len(primary) :] if i not in required]
    has = {
        # a social identity takes the place of a password (Logto's `getMissingUserProfile`)
        "password": bool(profile.get("password") or profile.get(SOCIAL_IDENTITY)),
        "username": bool(profile.get("username")),
        "email": bool(profile.get("primaryEmail")),
        "phone": bool(profile.get("primaryPhone")),
        "emailOrPhone": bool(profile.get("primaryEmail") or profile.get("primaryPhone")),
    }
    return [field for field in required if not has.get(field, False)]


def _policy(settings: dict[str, Any]) -> password_policy.Policy:
    try:
        stored = msgspec.convert(settings.get("passwordPolicy") or {}, password_policy.PasswordPolicy)
    except msgspec.ValidationError:  # management validates what it writes; a damaged document means defaults
        stored = password_policy.PasswordPolicy()
    return password_policy.resolve(stored)


def check_password(settings: dict[str, Any], password: str, profile: dict[str, Any]) -> None:
    """Logto's `PasswordValidator.validatePassword` for a new user: the user information is the profile's.
    The `pwned` rule is skipped: experience has no breach-corpus lookup (management's `PWNED_PASSWORDS_URL`)."""
    user = password_policy.UserInfo(
        name=profile.get("name"),
        username=profile.get("username"),
        email=profile.get("primaryEmail"),
        phone_number=profile.get("primaryPhone"),
    )
    issues = password_policy.check(password, _policy(settings), user, pwned=False)
    if issues:
        raise Unprocessable("password.rejected", data={"issues": msgspec.to_builtins(issues)})


class RegistrationFlow(InteractionAccess):
    def __init__(
        self,
        engine: AsyncEngine,
        rpc: RpcClient,
        store: InteractionStore,
        social: SocialProfiles,
        sso: SsoProfiles,
        codes: CodeProfiles,
    ) -> None:
        self.engine = engine
        self.rpc = rpc
        self.store = store
        self.social = social
        self.sso = sso
        self.codes = codes

    async def set_event(self, tenant_id: str, cookie: str | None, event: str) -> None:
        """Logto's `setInteractionEvent`: the sign-in mode decides (403), `ForgotPassword` is interchangeable
        with nothing (400 `session.not_supported_for_forgot_password`), and a change drops the profile."""
        uid = await self._uid(cookie)
        async with self.engine.begin() as conn:
            interaction = await self.store.get(conn, tenant_id, uid, lock=True)
            if interaction is None:
                raise NotFound("session.interaction_not_found")
            guard_interaction_event(await sign_in_settings(conn, tenant_id) or {}, event)
            if (event == FORGOT_PASSWORD) != (interaction.interaction_event == FORGOT_PASSWORD):
                raise BadRequest("session.not_supported_for_forgot_password")
            if interaction.interaction_event != event:
                interaction.profile = {}
            interaction.interaction_event = event
            await self.store.save(conn, tenant_id, interaction)

    async def add_profile(self, tenant_id: str, cookie: str | None, kind: str, value: str | None) -> None:
        """One piece of a registration's profile: `username` or `password` (`value`); `email`, `phone` and
        `social` (which names a verification record) are not served (404 as Logto when missing)."""
        uid = await self._uid(cookie)
        interaction = await self._interaction(tenant_id, uid)
        if interaction.interaction_event == FORGOT_PASSWORD:
            raise BadRequest("session.not_supported_for_forgot_password")
        if interaction.interaction_event == SIGN_IN and interaction.user_id is None:
            raise NotFound("session.identifier_not_found")
        if interaction.user_id is not None:
            # completing an identified user's profile is applied at submit: not served yet
            raise BadRequest("session.invalid_interaction_type")
        if kind in VERIFIED_TYPES:
            raise NotFound("session.verification_session_not_found")
        async with self.engine.begin() as conn:
            settings = await sign_in_settings(conn, tenant_id) or {}
            interaction = await self.store.get(conn, tenant_id, uid, lock=True) or interaction
            if kind == "username":
                await self._check_username(conn, tenant_id, settings, str(value))
                interaction.profile["username"] = value
            else:
                check_password(settings, str(value), interaction.profile)
                interaction.profile["password"] = value
            await self.store.save(conn, tenant_id, interaction)

    async def _check_username(
        self, conn: AsyncConnection, tenant_id: str, settings: dict[str, Any], username: str
    ) -> None:
        if not USERNAME.fullmatch(username):
            raise BadRequest("guard.invalid_input", data={"message": "`value` must match /^[A-Z_a-z]\\w*$/"})
        if "username" not in sign_up_identifiers(settings):
            raise Unprocessable("user.sign_in_method_not_enabled")
        if await username_taken(conn, tenant_id, username):
            raise Unprocessable("user.username_already_in_use")

    async def identify(self, tenant_id: str, cookie: str | None, verification_id: str | None) -> bool:
        """Creates the user of a `Register` interaction (Logto's `createUser`) and makes them its user; False
        (nothing done) for any other event, which the sign-in flow identifies. A `Social` record's identity and
        synced profile join the profile first (`social.py`), as do an `EnterpriseSso` record's (`sso.py`, whose
        identity spares the sign-up's mandatory profile, as Logto), and an `EmailVerificationCode` record's email
        (`verification_codes.py`); other records cannot make a new user's profile."""
        uid = await self._uid(cookie)
        interaction = await self._interaction(tenant_id, uid)
        if interaction.interaction_event != REGISTER:
            return False
        if verification_id is not None:
            record = interaction.verification(verification_id)
            if record is None:
                raise NotFound("session.verification_session_not_found")
            if record.get("type") == "Social":
                await self.social.registration_profile(tenant_id, uid, verification_id)
            elif record.get("type") == "EnterpriseSso":
                await self.sso.registration_profile(tenant_id, uid, verification_id)
            elif record.get("type") == "EmailVerificationCode":
                await self.codes.registration_profile(tenant_id, uid, verification_id)
            else:
                raise BadRequest("session.verification_failed")
            interaction = await self._interaction(tenant_id, uid)
        async with self.engine.connect() as conn:
            settings = await sign_in_settings(conn, tenant_id) or {}
        guard_interaction_event(settings, REGISTER)
        missing = [] if SSO_IDENTITY in interaction.profile else missing_profile(settings, interaction.profile)
        if missing:
            raise Unprocessable("user.missing_profile", data={"missingProfile": missing})
        profile = interaction.profile
        request = CreateUser(
            username=profile.get("username"),
            primary_email=profile.get("primaryEmail"),
            primary_phone=profile.get("primaryPhone"),
            password=profile.get("password"),
            name=profile.get("name"),
            avatar=profile.get("avatar"),
            social_identity=social_identity_of(profile),
            sso_identity=sso_identity_of(profile.get(SSO_IDENTITY), profile.get(SSO_TOKEN_SET_SECRET)),
        )
        created = await self.rpc.call("identity", USER_CREATE, request, CreatedUser, timeout=10.0)
        async with self.engine.begin() as conn:
            current = await self.store.get(conn, tenant_id, uid, lock=True)
            if current is None:
                raise NotFound("session.interaction_not_found")
            current.user_id = created.user_id
            current.profile = {}  # the password goes with it
            await self.store.save(conn, tenant_id, current)
        return True
