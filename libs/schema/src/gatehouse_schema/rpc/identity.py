"""RPC commands identity serves (`<prefix>.rpc.identity.<command>`).

Experience drives the sign-in of an OIDC interaction started at `/oidc/auth`: it reads the
interaction (`interaction.get`), then reports who signed in, the consent, or an abort
(`interaction.result`) and sends the browser to the `redirectTo` URL of the reply, where identity
finishes the grant (`GET /oidc/auth/{uid}`).
"""

import msgspec

INTERACTION_GET = "interaction.get"
INTERACTION_RESULT = "interaction.result"


class InteractionGet(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """Look an interaction up by its uid, or by the raw `_interaction` cookie the browser sent experience."""

    uid: str | None = None
    cookie: str | None = None


class InteractionDetails(msgspec.Struct, kw_only=True, rename="camel"):
    uid: str
    client_id: str
    prompt: str  # "login" (sign the user in) or "consent" (a signed-in user must consent)
    scopes: list[str]
    resource_scopes: list[str]
    resources: list[str]
    login_hint: str | None
    ui_locales: str | None
    interaction_mode: str | None
    session_account_id: str | None  # the user already signed in, for a consent prompt
    is_third_party: bool


class InteractionResult(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """Who signed in (`accountId`), whether they consented, or an `error` (e.g. `access_denied`) to abort."""

    uid: str
    account_id: str | None = None
    consent: bool = False
    error: str | None = None
    error_description: str | None = None


class InteractionResultReply(msgspec.Struct, kw_only=True, rename="camel"):
    redirect_to: str


USER_VERIFY_PASSWORD = "user.verify_password"


class PasswordIdentifier(msgspec.Struct, kw_only=True, frozen=True):
    """Logto's sign-in identifier: `username`, `email` or `phone`, and its value."""

    type: str
    value: str


class VerifyPassword(msgspec.Struct, kw_only=True, rename="camel"):
    """Experience checks a sign-in password: 422 `session.invalid_credentials` for an unknown identifier or
    a wrong password, 401 `user.suspended` for a suspended user."""

    identifier: PasswordIdentifier
    password: str


class VerifiedUser(msgspec.Struct, kw_only=True, rename="camel"):
    user_id: str
    mfa_factors: list[str]  # the types of the user's MFA factors (Totp, WebAuthn, BackupCode)
