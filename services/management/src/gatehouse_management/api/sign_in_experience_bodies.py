"""Bodies of the Sign-in experience routes: Logto's `SignInExperiences` row and its JSONB shapes.

Stored settings are decoded with the same Structs, so the document in `management.sign_in_experiences`
and the API speak one shape. Optional keys are `UNSET` (absent), never `null`, as in Logto's JSON."""

from typing import Annotated, Any, Literal

import msgspec
from gatehouse_schema.password_policy import (
    CharacterTypesPolicy,
    LengthPolicy,
    PasswordIssue,
    PasswordPolicy,
    RejectsPolicy,
)
from msgspec import UNSET, Meta, UnsetType

__all__ = ["CharacterTypesPolicy", "LengthPolicy", "PasswordIssue", "PasswordPolicy", "RejectsPolicy"]

HexColor = Annotated[str, Meta(pattern=r"^#[\da-fA-F]{3}([\da-fA-F]{3})?$")]
Identifier = Literal["username", "email", "phone"]
MfaFactor = Literal["Totp", "WebAuthn", "BackupCode", "EmailVerificationCode", "PhoneVerificationCode"]
MfaPolicy = Literal[
    "UserControlled",
    "Mandatory",
    "PromptOnlyAtSignIn",
    "PromptAtSignInAndSignUp",
    "NoPrompt",
    "PromptAtSignInAndSignUpMandatory",
    "PromptOnlyAtSignInMandatory",
]
ForgotPasswordMethod = Literal["EmailVerificationCode", "PhoneVerificationCode"]
PositiveInt = Annotated[int, Meta(ge=1)]


class _Shape(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    pass


class _Complete(msgspec.Struct, kw_only=True, rename="camel"):
    """Defaults are written out: a policy part reads back complete."""


class Color(_Shape):
    primary_color: HexColor
    is_dark_mode_enabled: bool
    dark_primary_color: HexColor


class Branding(_Shape):
    logo_url: str | UnsetType = UNSET
    dark_logo_url: str | UnsetType = UNSET
    favicon: str | UnsetType = UNSET
    dark_favicon: str | UnsetType = UNSET


class LanguageInfo(_Shape):
    auto_detect: bool
    fallback_language: str


class SignInMethod(_Shape):
    identifier: Identifier
    password: bool
    verification_code: bool
    is_password_primary: bool


class SignIn(_Shape):
    methods: list[SignInMethod]


class SecondaryIdentifier(_Shape):
    identifier: Literal["username", "email", "phone", "emailOrPhone"]
    verify: bool | UnsetType = UNSET


class SignUp(_Shape):
    identifiers: list[Identifier]
    password: bool
    verify: bool
    secondary_identifiers: list[SecondaryIdentifier] | UnsetType = UNSET


class SocialSignIn(_Shape):
    automatic_account_linking: bool | UnsetType = UNSET
    skip_required_identifiers: bool | UnsetType = UNSET


class CustomUiAssets(_Shape):
    id: str
    created_at: float


class CustomUiCsp(_Shape):
    script_src: list[str] | UnsetType = UNSET
    connect_src: list[str] | UnsetType = UNSET


class Mfa(_Shape):
    factors: list[MfaFactor]
    policy: MfaPolicy
    organization_required_mfa_policy: Literal["NoPrompt", "Mandatory"] | UnsetType = UNSET


class Toggle(_Shape):
    enabled: bool | UnsetType = UNSET


class SentinelPolicy(_Shape):
    max_attempts: PositiveInt | UnsetType = UNSET
    lockout_duration: PositiveInt | UnsetType = UNSET


class EmailBlocklistPolicy(_Shape):
    block_disposable_addresses: bool | UnsetType = UNSET
    block_subaddressing: bool | UnsetType = UNSET
    custom_allowlist: list[str] | UnsetType = UNSET
    custom_blocklist: list[str] | UnsetType = UNSET


class VerificationCodePolicy(_Shape):
    expiration_duration: PositiveInt | UnsetType = UNSET
    max_retry_attempts: PositiveInt | UnsetType = UNSET


class PasskeySignIn(_Shape):
    enabled: bool | UnsetType = UNSET
    show_passkey_button: bool | UnsetType = UNSET
    allow_autofill: bool | UnsetType = UNSET


class SignUpProfileField(_Shape):
    name: str


class PasswordExpiration(_Shape):
    enabled: bool | UnsetType = UNSET
    valid_period_days: PositiveInt | UnsetType = UNSET
    enabled_at: int | UnsetType = UNSET


class SignInExperienceSettings(_Shape):
    """Every field of Logto's sign-in experience but `tenantId` and `id`: the stored document."""

    color: Color
    branding: Branding
    hide_logto_branding: bool
    language_info: LanguageInfo
    terms_of_use_url: str | None
    privacy_policy_url: str | None
    agree_to_terms_policy: Literal["Automatic", "ManualRegistrationOnly", "Manual"]
    sign_in: SignIn
    sign_up: SignUp
    social_sign_in: SocialSignIn
    social_sign_in_connector_targets: list[str]
    sign_in_mode: Literal["SignIn", "Register", "SignInAndRegister"]
    custom_css: str | None
    custom_content: dict[str, str]
    custom_ui_assets: CustomUiAssets | None
    custom_ui_csp: CustomUiCsp
    password_policy: PasswordPolicy
    mfa: Mfa
    adaptive_mfa: Toggle
    single_sign_on_enabled: bool
    support_email: str | None
    support_website_url: str | None
    unknown_session_redirect_url: str | None
    captcha_policy: Toggle
    sentinel_policy: SentinelPolicy
    email_blocklist_policy: EmailBlocklistPolicy
    verification_code_policy: VerificationCodePolicy
    forgot_password_methods: list[ForgotPasswordMethod] | None
    passkey_sign_in: PasskeySignIn
    sign_up_profile_fields: list[SignUpProfileField] | None
    password_expiration: PasswordExpiration
    username_policy: dict[str, Any]


class SignInExperience(SignInExperienceSettings, kw_only=True):
    tenant_id: str
    id: str


# `null`, a URL, or "" (stored as null); checked by the service, as Logto's `string().url().or(literal(''))`
OptionalText = str | None | UnsetType


class UpdateSignInExperience(_Shape):
    """`PATCH /api/sign-in-exp`: every field optional; a field given replaces the stored one whole."""

    tenant_id: Annotated[str, Meta(max_length=21)] | UnsetType = UNSET  # accepted, never written (as Logto)
    color: Color | UnsetType = UNSET
    branding: Branding | UnsetType = UNSET
    hide_logto_branding: bool | UnsetType = UNSET
    language_info: LanguageInfo | UnsetType = UNSET
    agree_to_terms_policy: Literal["Automatic", "ManualRegistrationOnly", "Manual"] | UnsetType = UNSET
    sign_in: SignIn | UnsetType = UNSET
    sign_up: SignUp | UnsetType = UNSET
    social_sign_in: SocialSignIn | UnsetType = UNSET
    social_sign_in_connector_targets: list[str] | UnsetType = UNSET
    sign_in_mode: Literal["SignIn", "Register", "SignInAndRegister"] | UnsetType = UNSET
    custom_css: str | UnsetType | None = UNSET
    custom_content: dict[str, str] | UnsetType = UNSET
    custom_ui_assets: CustomUiAssets | UnsetType | None = UNSET
    custom_ui_csp: CustomUiCsp | UnsetType = UNSET
    password_policy: PasswordPolicy | UnsetType = UNSET
    mfa: Mfa | UnsetType = UNSET
    adaptive_mfa: Toggle | UnsetType = UNSET
    single_sign_on_enabled: bool | UnsetType = UNSET
    captcha_policy: Toggle | UnsetType = UNSET
    sentinel_policy: SentinelPolicy | UnsetType = UNSET
    email_blocklist_policy: EmailBlocklistPolicy | UnsetType = UNSET
    forgot_password_methods: list[ForgotPasswordMethod] | UnsetType | None = UNSET
    passkey_sign_in: PasskeySignIn | UnsetType = UNSET
    sign_up_profile_fields: list[SignUpProfileField] | UnsetType | None = UNSET
    username_policy: dict[str, Any] | UnsetType = UNSET
    terms_of_use_url: Annotated[str, Meta(max_length=2048)] | UnsetType | None = UNSET
    privacy_policy_url: Annotated[str, Meta(max_length=2048)] | UnsetType | None = UNSET
    support_email: OptionalText = UNSET
    support_website_url: OptionalText = UNSET
    unknown_session_redirect_url: OptionalText = UNSET
    password_expiration: PasswordExpiration | UnsetType = UNSET
    verification_code_policy: VerificationCodePolicy | UnsetType = UNSET


class CheckPassword(_Shape):
    password: str
    user_id: str | UnsetType = UNSET


class PasswordAccepted(_Complete):
    result: Literal[True] = True


class PasswordRejected(_Complete):
    result: Literal[False] = False
    issues: list[PasswordIssue] = msgspec.field(default_factory=list)


class CaseConflict(_Shape):
    username_lower: str
    user_ids: list[str]


class CaseConflicts(_Shape):
    total_conflicts: int
    samples: list[CaseConflict]
