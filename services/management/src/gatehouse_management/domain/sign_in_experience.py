"""Logto's sign-in experience rules (`libraries/sign-in-experience`: sign-up, sign-in, MFA, email blocklist;
`routes/sign-in-experience`: adaptive MFA, forgot-password methods, the features an open-source build refuses).

A rule that needs an Email or Sms connector is decided by the types of the tenant's connectors (`connector_types`),
as Logto's `getLogtoConnectors` does: Gatehouse ships an Email factory (SMTP) and no SMS one, so a phone method is
always refused as Logto refuses it for a tenant without an SMS connector."""

import re
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

from gatehouse_platform.errors import BadRequest, GatehouseError, Unprocessable

from gatehouse_management.api.sign_in_experience_bodies import (
    CustomUiCsp,
    EmailBlocklistPolicy,
    Mfa,
    SignIn,
    SignUp,
    Toggle,
)

NON_SKIPPABLE_MFA_POLICIES = {"PromptAtSignInAndSignUpMandatory", "PromptOnlyAtSignInMandatory"}
# an email address or an `@domain`; `*` wildcards as Logto documents them (`foo*@example.com`, `@*.example.com`)
EMAIL_OR_DOMAIN = re.compile(r"^([^\s@]+@|@)[^\s@]+\.[^\s@]+$")
EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")


def _rule(code: str, **params: Any) -> GatehouseError:
    return BadRequest(f"sign_in_experiences.{code}", **params)


def _no_connector(kind: str) -> GatehouseError:
    return _rule("enabled_connector_not_found", type=kind)


def invalid_input(details: str) -> GatehouseError:
    return BadRequest("request.invalid_input", details=details)


def check_url(value: str | None, field: str) -> None:
    """Logto's `string().url()` (or `''`, or null): an absolute URL."""
    if not value:
        return
    parts = urlsplit(value)
    if not parts.scheme or not (parts.netloc or parts.path) or any(c.isspace() for c in value):
        raise BadRequest("guard.invalid_input", f"The request body is invalid: `{field}` must be a URL.")


def check_email(value: str | None, field: str) -> None:
    if value and not EMAIL.match(value):
        raise BadRequest("guard.invalid_input", f"The request body is invalid: `{field}` must be an email address.")


def validate_sign_up(sign_up: SignUp, connector_types: Collection[str] = ()) -> None:
    primary = sign_up.identifiers
    secondary = [s.identifier for s in sign_up.secondary_identifiers or []]
    if secondary and not primary:
        raise _rule("missing_sign_up_identifiers")
    if len(set(primary)) != len(primary) or len(set(secondary)) != len(secondary):
        raise _rule("duplicated_sign_up_identifiers")
    for identifier in secondary:
        clash = {"email", "phone"} if identifier == "emailOrPhone" else {identifier}
        if clash & set(primary):
            raise _rule("duplicated_sign_up_identifiers")
    if any(i != "username" for i in [*primary, *secondary]) and not sign_up.verify:
        raise _rule("passwordless_requires_verify")
    for item in sign_up.secondary_identifiers or []:
        if item.identifier != "username" and not item.verify:
            raise _rule("passwordless_requires_verify")
    wanted = {*primary, *secondary}
    if wanted & {"email", "emailOrPhone"} and "Email" not in connector_types:
        raise _no_connector("Email")
    if wanted & {"phone", "emailOrPhone"} and "Sms" not in connector_types:
        raise _no_connector("Sms")


def validate_sign_in(sign_in: SignIn, sign_up: SignUp, mfa: Mfa, connector_types: Collection[str] = ()) -> None:
    methods = sign_in.methods
    if any(m.verification_code and m.identifier == "email" for m in methods) and "Email" not in connector_types:
        raise _no_connector("Email")
    if any(m.verification_code and m.identifier == "phone" for m in methods) and "Sms" not in connector_types:
        raise _no_connector("Sms")
    if not all(m.password or m.verification_code for m in methods):
        raise _rule("at_least_one_authentication_factor")
    offered = {m.identifier for m in methods}
    if any(identifier not in offered for identifier in sign_up.identifiers):
        raise _rule("miss_sign_up_identifier_in_sign_in")
    if sign_up.password and not all(m.password for m in methods):
        raise _rule("password_sign_in_must_be_enabled")
    if sign_up.verify and not sign_up.password:
        if not all(m.verification_code or m.identifier == "username" for m in methods):
            raise _rule("code_sign_in_must_be_enabled")
    for kind, factor in (("email", "EmailVerificationCode"), ("phone", "PhoneVerificationCode")):
        if factor in mfa.factors and any(m.identifier == kind and m.verification_code for m in methods):
            raise _rule(f"{kind}_verification_code_cannot_be_used_for_sign_in")


def validate_mfa(mfa: Mfa, sign_in: SignIn) -> None:
    if len(set(mfa.factors)) != len(mfa.factors):
        raise _rule("duplicated_mfa_factors")
    if "BackupCode" in mfa.factors and len(mfa.factors) == 1:
        raise _rule("backup_code_cannot_be_enabled_alone")
    for kind, factor in (("email", "EmailVerificationCode"), ("phone", "PhoneVerificationCode")):
        if factor in mfa.factors and any(m.identifier == kind and m.verification_code for m in sign_in.methods):
            raise _rule(f"{kind}_verification_code_cannot_be_used_for_mfa")


def mfa_enabled(mfa: Mfa) -> bool:
    return len(mfa.factors) > 0


def validate_adaptive_mfa(adaptive: Toggle | None, new_mfa: Mfa | None, current_mfa: Mfa, current: Toggle) -> None:
    """Adaptive MFA needs MFA and a non-skippable prompt; without it the prompt must be skippable (422s)."""
    effective = new_mfa or current_mfa
    non_skippable = effective.policy in NON_SKIPPABLE_MFA_POLICIES
    if adaptive is not None and adaptive.enabled is True:
        if not mfa_enabled(effective):
            raise Unprocessable("sign_in_experiences.adaptive_mfa_requires_mfa")
        if not non_skippable:
            raise Unprocessable("sign_in_experiences.adaptive_mfa_requires_non_skippable_policy")
    if adaptive is not None and adaptive.enabled is False and non_skippable:
        raise Unprocessable("sign_in_experiences.non_adaptive_mfa_requires_skippable_policy")
    if adaptive is None and new_mfa is not None and mfa_enabled(new_mfa):
        if current.enabled is True and not non_skippable:
            raise Unprocessable("sign_in_experiences.adaptive_mfa_requires_non_skippable_policy")
        if current.enabled is not True and non_skippable:
            raise Unprocessable("sign_in_experiences.non_adaptive_mfa_requires_skippable_policy")


def validate_forgot_password_methods(methods: list[str], connector_types: Collection[str] = ()) -> None:
    """Each method needs its connector (email, SMS): the first method without one is refused."""
    for item in methods:
        kind = "Email" if item == "EmailVerificationCode" else "Sms"
        if kind not in connector_types:
            raise _rule("forgot_password_method_requires_connector", method=kind.lower())


def normalize_custom_ui_csp(csp: CustomUiCsp) -> CustomUiCsp:
    """Blank sources dropped; any source left is refused: custom UI CSP is a Logto Cloud feature."""
    script = [s.strip() for s in csp.script_src or [] if s.strip()]
    connect = [s.strip() for s in csp.connect_src or [] if s.strip()]
    if script or connect:
        raise invalid_input("Custom UI CSP configuration is not available")
    return CustomUiCsp()


def _checked_list(items: list[str], code: str) -> list[str]:
    unique = list(dict.fromkeys(items))
    invalid = [item for item in unique if not EMAIL_OR_DOMAIN.match(item)]
    if invalid:
        raise BadRequest(f"sign_in_experiences.{code}", data={"items": invalid}, items=", ".join(invalid))
    return unique


def parse_email_blocklist_policy(policy: EmailBlocklistPolicy) -> EmailBlocklistPolicy:
    """Logto's `parseEmailBlocklistPolicy`: custom lists deduplicated and checked; disposable-address
    detection refused (it needs Logto Cloud's service)."""
    if policy.block_disposable_addresses is True:
        raise invalid_input("Disposable email domain validation is not supported in this environment")
    if isinstance(policy.custom_blocklist, list):
        policy.custom_blocklist = _checked_list(policy.custom_blocklist, "invalid_custom_email_blocklist_format")
    if isinstance(policy.custom_allowlist, list):
        policy.custom_allowlist = _checked_list(policy.custom_allowlist, "invalid_custom_email_allowlist_format")
    return policy
