"""RPC commands identity serves (`<prefix>.rpc.identity.<command>`).

Users are identity's: experience checks a sign-in password (`user.verify_password`) and registers a new user
(`user.create`) through it, so password digests never leave identity.

Experience drives the sign-in of an OIDC interaction started at `/oidc/auth`: it reads the
interaction (`interaction.get`), then reports who signed in, the consent, or an abort
(`interaction.result`) and sends the browser to the `redirectTo` URL of the reply, where identity
finishes the grant (`GET /oidc/auth/{uid}`).
"""

from typing import Any

import msgspec

from gatehouse_schema.api.users import User

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
    """Logto's sign-in identifier: `username`, `email` or `phone`, and its value; or `userId` (Logto's
    `AdditionalIdentifier.UserId`), the Account API's check of the signed-in user's own password."""

    type: str
    value: str


class VerifyPassword(msgspec.Struct, kw_only=True, rename="camel"):
    """Experience checks a sign-in password: 422 `session.invalid_credentials` for an unknown identifier or
    a wrong password, 401 `user.suspended` for a suspended user.

    `interactionEvent` is the Experience API's interaction event (the Account API leaves it out). With
    `SignIn`, a password identity refuses for an identifier of a user who is not suspended (or of nobody)
    goes to the tenant's PostFirstFactorVerification action, which may verify it and have the user created
    or updated with it (`User.Created` / `User.Data.Updated`); its result can also answer 409
    `session.identity_conflict`, 422 `action.sign_in_identifier_changed` (data `{identifierType}`) or the
    errors of creating or updating a user (422 `user.*_already_in_use`)."""

    identifier: PasswordIdentifier
    password: str
    interaction_event: str | None = None


class VerifiedUser(msgspec.Struct, kw_only=True, rename="camel"):
    user_id: str
    mfa_factors: list[str]  # the types of the user's MFA factors (Totp, WebAuthn, BackupCode)


USER_IDENTIFY = "user.identify"


class IdentifyUser(msgspec.Struct, kw_only=True, frozen=True):
    """The user a verified sign-in identifier names (experience's email verification code: Logto's
    `CodeVerification.identifyUser`) -> VerifiedUser: `email` (the primary email, case-insensitively) or `phone`
    (exactly). 404 `user.user_not_exist` when no user has it, 401 `user.suspended`."""

    type: str
    value: str


USER_POST_SIGN_IN_ACTION = "user.post_sign_in_action"


class PostSignInAction(msgspec.Struct, kw_only=True, rename="camel"):
    """Experience submits a `SignIn` interaction: before it reports the user, identity runs the tenant's
    PostSignIn action (Logto's `action.postSignIn`) for them and applies the patch it returns
    (`User.Data.Updated`) -> AccountDone. 400 `session.verification_failed` when the script fails (unless its
    config allows that) or returns an invalid result; 422 `user.*_already_in_use` when the patch takes another
    user's identifier. Without an enabled action, nothing happens."""

    user_id: str


USER_VERIFY_TOTP = "user.verify_totp"


class VerifyTotp(msgspec.Struct, kw_only=True, rename="camel"):
    """Experience checks a sign-in's TOTP code against the user's bound TOTP factor: 400
    `session.mfa.invalid_totp_code` when it does not match (or the user has none)."""

    user_id: str
    code: str


class TotpVerified(msgspec.Struct, kw_only=True, rename="camel"):
    user_id: str


# Social sign-in and registration (experience's social verifications): experience runs the provider round trip
# with the connector; identity seals the provider's token set (its vault keys never leave it), finds the user of
# a social identity and applies what the sign-in brings (Logto's synced profile, a linked identity, the token set).

SECRET_SEAL_TOKEN_SET = "secret.seal_token_set"


class ProviderTokens(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """A provider's token set as a social connector returned it (`expiresAt` in seconds since the epoch) ->
    SealedTokenSet."""

    access_token: str
    token_type: str | None = None
    scope: str | None = None
    refresh_token: str | None = None
    id_token: str | None = None
    expires_at: int | None = None


class SealedSecret(msgspec.Struct, kw_only=True, rename="camel"):
    """The vault's envelope (base64 in JSON): only identity can open it."""

    encrypted_dek: bytes
    iv: bytes
    auth_tag: bytes
    ciphertext: bytes


class SealedTokenSet(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """The tokens sealed by identity's vault and Logto's secret metadata (`scope`, `tokenType`, `expiresAt`,
    `hasRefreshToken`); `sealed` is None when identity has no vault key (`SECRET_VAULT_KEK`): nothing is kept."""

    sealed: SealedSecret | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


class SocialIdentity(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """A verified social identity: the connector (instance id) it came through, the connector's target and Logto's
    social user info (`details`, whose `id` is the provider's user id); `tokenSet` when the connector stores
    tokens."""

    connector_id: str
    target: str
    details: dict[str, Any]
    token_set: SealedTokenSet | None = None


USER_IDENTIFY_SOCIAL = "user.identify_social"


class IdentifySocial(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """The user of a social identity (`identities[target].userId == identityId`) -> VerifiedUser. With `related`
    (Logto's `linkSocialIdentity`), the user of the provider's verified `phone`, else `email`, instead. 404
    `user.identity_not_exist` when there is none (without `related`, `data.relatedUser` `{type, value}` names the
    phone or email of a user the identity could be linked to); 401 `user.suspended`."""

    target: str
    identity_id: str
    email: str | None = None
    phone: str | None = None
    related: bool = False


USER_SOCIAL_SIGN_IN = "user.social_sign_in"


class SocialSignIn(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """Experience submits a social sign-in (Logto applies the interaction's profile at submit) -> AccountDone: in
    one transaction identity links `identity` when `link` (422 `user.identity_already_in_use` if another user has
    it), sets the synced `name` / `avatar` (`User.Data.Updated`) and keeps the identity's token set in the vault
    (when its connector still stores tokens)."""

    user_id: str
    identity: SocialIdentity | None = None
    link: bool = False
    name: str | None = None
    avatar: str | None = None


# Enterprise SSO sign-in and registration (experience's `EnterpriseSso` verifications): experience runs the IdP
# round trip (identity's assertion consumer service for SAML); identity finds the user of an SSO identity and keeps
# the identities in `user_sso_identities`.


class SsoIdentity(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """A verified enterprise SSO identity: the connector it came through, the IdP's issuer (an OIDC connector's
    configured issuer, a SAML IdP's entity id), the user's id there and Logto's SSO user info (`detail`);
    `tokenSet`, the IdP's token set sealed by `secret.seal_token_set`, when an OIDC connector stores tokens."""

    sso_connector_id: str
    issuer: str
    identity_id: str
    detail: dict[str, Any]
    token_set: SealedTokenSet | None = None


USER_IDENTIFY_SSO = "user.identify_sso"


class IdentifySso(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """The user of an enterprise SSO identity (Logto's `identifyUserByVerificationRecord` for `EnterpriseSso`) ->
    SsoUser: the user who has the identity (`issuer`, `identityId`), else the user whose primary email is the IdP's
    `email` (case-insensitively; the identity is then to be linked). 404 `user.identity_not_exist` when there is
    neither; 401 `user.suspended`."""

    issuer: str
    identity_id: str
    email: str | None = None


class SsoUser(msgspec.Struct, kw_only=True, rename="camel"):
    user_id: str
    mfa_factors: list[str]
    by_email: bool  # found by email: the identity is not the user's yet


USER_SSO_SIGN_IN = "user.sso_sign_in"


class SsoSignIn(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """Experience submits an enterprise SSO sign-in -> AccountDone: in one transaction identity links `identity` to
    the user when `link` (Logto's auto-link by email; 422 `user.identity_already_in_use` if another user has it), or
    else updates the stored identity's `detail`, sets the synced `name` / `avatar` (`User.Data.Updated`) and keeps
    the identity's token set in the vault (when its connector still stores tokens)."""

    user_id: str
    identity: SsoIdentity
    link: bool = False
    name: str | None = None
    avatar: str | None = None


USER_CREATE = "user.create"


class CreateUser(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """Experience registers a user with the profile its `Register` interaction collected; identity checks the
    identifiers as its `POST /api/users` does (400 `guard.invalid_input` for a malformed one, 422
    `user.username_already_in_use` / `user.email_already_in_use` / `user.phone_already_in_use`), hashes the
    password off the event loop and publishes `User.Created`. A `socialIdentity` is the new user's identity at
    its target (422 `user.identity_already_in_use` if another user has it), its token set kept in the vault; an
    `ssoIdentity` is the new user's enterprise SSO identity (422 `user.identity_already_in_use` if a user has it),
    its token set kept too."""

    username: str | None = None
    primary_email: str | None = None
    primary_phone: str | None = None
    password: str | None = None
    name: str | None = None
    avatar: str | None = None
    social_identity: SocialIdentity | None = None
    sso_identity: SsoIdentity | None = None


class CreatedUser(msgspec.Struct, kw_only=True, rename="camel"):
    user_id: str


USER_CONSUME_BACKUP_CODE = "user.consume_backup_code"


class ConsumeBackupCode(msgspec.Struct, kw_only=True, rename="camel"):
    """Experience's backup-code MFA verification: one unused code of the user's backup codes is marked used;
    400 `session.mfa.invalid_backup_code` when none matches."""

    user_id: str
    code: str


# Logto's Account API (`/api/my-account`, `/api/verifications`), served by experience for the user of an opaque
# access token; identity judges the token and changes the user (`User.Data.Updated` through its outbox).

USER_FROM_ACCESS_TOKEN = "user.from_access_token"


class FromAccessToken(msgspec.Struct, kw_only=True, rename="camel"):
    """The user of an opaque access token, judged as `/oidc/me` judges it: 401 `auth.unauthorized` for an unknown,
    expired or revoked token or a suspended or deleted user; 403 `auth.forbidden` without the `openid` scope."""

    access_token: str


class AccessTokenUser(msgspec.Struct, kw_only=True, rename="camel"):
    user_id: str
    client_id: str
    scopes: list[str]
    user: User


USER_UPDATE_PROFILE = "user.update_profile"


class UpdateProfile(msgspec.Struct, kw_only=True, rename="camel"):
    """The user's own changes: `name`, `avatar`, `username` and `customData` replace the stored values (null
    clears; absent keeps) with the checks of `PATCH /api/users/{id}`; `profile` is merged into the stored one."""

    user_id: str
    name: str | msgspec.UnsetType | None = msgspec.UNSET
    avatar: str | msgspec.UnsetType | None = msgspec.UNSET
    username: str | msgspec.UnsetType | None = msgspec.UNSET
    custom_data: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    profile: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


USER_SET_PASSWORD = "user.set_password"


class SetPassword(msgspec.Struct, kw_only=True, rename="camel"):
    """A new password for the user (hashed off identity's event loop; `User.Data.Updated` with `password`)."""

    user_id: str
    password: str


class PasswordSet(msgspec.Struct, kw_only=True, rename="camel"):
    user_id: str


USER_CHECK_NEW_PASSWORD = "user.check_new_password"


class CheckNewPassword(msgspec.Struct, kw_only=True, rename="camel"):
    """Whether `password` may replace the user's password in a reset (experience's `ForgotPassword`, Logto's
    `PasswordValidator.validatePassword` for an identified user) -> PasswordSet: 422 `user.same_password` when it
    matches the current argon2 digest (checked off identity's event loop); nothing is changed. The password policy
    is experience's to check, as for the Account API."""

    user_id: str
    password: str


# The Account API's security settings (`routes/account/logto-config.ts`, `sessions.ts`, `grants.ts`,
# `mfa-verifications.ts`): identity reads and changes them with the services of the Users API.


class AccountUser(msgspec.Struct, kw_only=True, rename="camel"):
    """Names the signed-in user a read is for."""

    user_id: str


class AccountDone(msgspec.Struct, kw_only=True, rename="camel"):
    user_id: str


class AccountDocument(msgspec.Struct, kw_only=True, rename="camel"):
    """A reply already in Logto's response shape (rendered by identity's Users API renderers)."""

    body: Any


USER_LOGTO_CONFIGS = "user.logto_configs"  # AccountUser -> AccountDocument (Logto's `logtoConfig` response)
USER_UPDATE_LOGTO_CONFIGS = "user.update_logto_configs"


class UpdateLogtoConfigs(msgspec.Struct, kw_only=True, rename="camel"):
    """`mfa` and `passkeySignIn` as `PATCH /api/users/{id}/logto-configs` takes them (400 `guard.invalid_input`)."""

    user_id: str
    mfa: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    passkey_sign_in: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


USER_MFA_VERIFICATIONS = "user.mfa_verifications"  # AccountUser -> AccountDocument (list, no secrets)
USER_BACKUP_CODES = "user.backup_codes"  # AccountUser -> AccountDocument `{codes: [{code, usedAt?}]}`
USER_BIND_TOTP = "user.bind_totp"


class BindTotp(msgspec.Struct, kw_only=True, rename="camel"):
    """Binds a TOTP factor: 422 `user.totp_already_in_use`, 400 `user.totp_secret_invalid`, and with a `code`
    400 `session.mfa.invalid_totp_code` unless it matches the secret."""

    user_id: str
    secret: str
    code: str | None = None


USER_BIND_BACKUP_CODES = "user.bind_backup_codes"


class BindBackupCodes(msgspec.Struct, kw_only=True, rename="camel"):
    user_id: str
    codes: list[str]


USER_DELETE_MFA = "user.delete_mfa"


class DeleteMfa(msgspec.Struct, kw_only=True, rename="camel"):
    """Removes one factor of the user; 400 `verification_record.not_found` for an unknown id."""

    user_id: str
    verification_id: str


USER_SOCIAL_ACCESS_TOKEN = "user.social_access_token"


class SocialAccessToken(msgspec.Struct, kw_only=True, rename="camel"):
    """The provider access token kept for the user's social identity at `target` -> AccountDocument
    `{access_token, scope?, token_type?, expires_in?}`; refreshed first when it has expired and a refresh token
    is kept. 404 `secrets.third_party_token_set.token_not_found`; 401
    `secrets.third_party_token_set.access_token_expired` (expired, no refresh token: the token set is deleted)."""

    user_id: str
    target: str


USER_SSO_ACCESS_TOKEN = "user.sso_access_token"


class SsoAccessToken(msgspec.Struct, kw_only=True, rename="camel"):
    """The IdP access token kept for the user's enterprise SSO identity through `connectorId` -> AccountDocument
    `{access_token, scope?, token_type?, expires_in?}`, with `user.social_access_token`'s refresh, 404 and 401."""

    user_id: str
    connector_id: str


# The Account API's social identities (`POST`/`PUT`/`DELETE /api/my-account/identities`, `PUT
# /api/my-account/identities/{target}/access-token`): experience runs the provider round trip of a social
# verification record and has checked the caller, the account center and the records; identity applies Logto's
# rules on the user and keeps the sealed token set in its vault.

USER_LINK_SOCIAL = "user.link_social"


class LinkSocial(msgspec.Struct, kw_only=True, rename="camel"):
    """Links the verified `identity` to the user -> AccountDone, in one transaction: 422
    `user.identity_already_in_use` when another user has it, 400 `user.identity_already_in_use` when the user has
    an identity at its target already (Logto's `POST /api/my-account/identities` replaces none) unless `replace`
    (its `PUT`: the identity takes the target's place, the old provider account's token set goes with it);
    `User.Data.Updated` with the user as actor; its token set kept in the vault when its connector (still) stores
    tokens."""

    user_id: str
    identity: SocialIdentity
    replace: bool = False


USER_UNLINK_SOCIAL = "user.unlink_social"


class UnlinkSocial(msgspec.Struct, kw_only=True, rename="camel"):
    """Removes the user's identity at `target` -> AccountDone (`User.Data.Updated`, the user as actor): 404
    `user.identity_not_exist` when there is none, 400 `user.last_sign_in_method_required` when the user would have
    no identifier left (username, primary email or phone, another social or an enterprise SSO identity)."""

    user_id: str
    target: str


USER_KEEP_SOCIAL_TOKEN_SET = "user.keep_social_token_set"


class KeepSocialTokenSet(msgspec.Struct, kw_only=True, rename="camel"):
    """Keeps the token set of a verified `identity` for the user's identity at its target (it replaces the kept
    one) -> AccountDocument `{access_token, scope?, token_type?, expires_in?}` of the kept tokens: 422
    `user.identity_not_exists_in_current_user` unless the identity is the user's, 422
    `verification_record.social_verification.token_response_not_found` without a sealed token set (or when its
    connector no longer stores tokens)."""

    user_id: str
    identity: SocialIdentity


SAML_BEGIN = "saml.begin"
SAML_RESULT = "saml.result"


class SamlBegin(msgspec.Struct, kw_only=True, rename="camel"):
    """Starts a SAML sign-in through a social (`kind` `social`) or enterprise SSO (`sso`) connector ->
    SamlStarted. Identity remembers the AuthnRequest; after the IdP posts its Response to the assertion consumer
    service, the browser is sent to `redirectUri` with `state`."""

    kind: str
    connector_id: str
    redirect_uri: str
    state: str


class SamlStarted(msgspec.Struct, kw_only=True, rename="camel"):
    authorization_uri: str
    session_id: str


class SamlResult(msgspec.Struct, kw_only=True, rename="camel"):
    """The verified user of a SAML sign-in (once; the session is gone afterwards) -> AccountDocument with
    Logto's social user info (`id`, `email`, `name`, ..., `rawData`). 404
    `session.connector_validation_session_not_found` when the session is unknown, expired, of another connector
    or not asserted yet."""

    kind: str
    connector_id: str
    session_id: str
