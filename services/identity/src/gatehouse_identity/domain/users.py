"""Rules for users, independent of HTTP and SQL: Logto's identifier formats and the exposed part of
`logto_config`."""

import re
from typing import Any
from urllib.parse import urlsplit

from gatehouse_platform.errors import BadRequest

# Logto's regular expressions (JavaScript's `\w` and `\d` are ASCII-only; so are these).
USERNAME = re.compile(r"[A-Z_a-z][0-9A-Z_a-z]*")
EMAIL = re.compile(r"\S+@\S+\.\S+")
PHONE = re.compile(r"[0-9]+")
URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")

IDENTIFIER_ERRORS = {
    "primary_email": "user.email_already_in_use",
    "primary_phone": "user.phone_already_in_use",
    "username": "user.username_already_in_use",
}


def check_username(value: str) -> None:
    if not USERNAME.fullmatch(value):
        raise BadRequest(
            "guard.invalid_input",
            "The request body is invalid: `username` must start with a letter or an underscore and contain "
            "only letters, digits and underscores.",
        )


def check_email(value: str) -> None:
    if not EMAIL.fullmatch(value):
        raise BadRequest("user.invalid_email")


def check_phone(value: str) -> None:
    if not PHONE.fullmatch(value):
        raise BadRequest("user.invalid_phone")


def check_avatar(value: str) -> None:
    """A URL as WHATWG's parser (behind Logto's `z.string().url()`) takes it: a scheme, and a host for web URLs."""
    parts = urlsplit(value)
    if (
        not parts.scheme
        or not URL_SCHEME.fullmatch(parts.scheme)
        or (parts.scheme.lower() in {"http", "https", "ftp", "ws", "wss"} and not parts.hostname)
        or any(c.isspace() for c in value)
    ):
        raise BadRequest("guard.invalid_input", "The request body is invalid: `avatar` must be a URL.")


def check_identifiers(username: str | None, email: str | None, phone: str | None) -> None:
    """Formats of the identifiers given (`None` and `""` are not checked: they clear the field)."""
    if username:
        check_username(username)
    if email:
        check_email(email)
    if phone:
        check_phone(phone)


def _section(config: dict[str, Any], key: str) -> dict[str, Any]:
    value = config.get(key)
    return value if isinstance(value, dict) else {}


def exposed_logto_config(config: dict[str, Any]) -> dict[str, Any]:
    """The MFA and passkey sign-in states of a stored `logto_config`, with Logto's defaults."""
    mfa, passkey = _section(config, "mfa"), _section(config, "passkeySignIn")
    exposed_mfa: dict[str, Any] = {
        "skipped": bool(mfa.get("skipped", False)),
        "skipMfaOnSignIn": bool(mfa.get("skipMfaOnSignIn", False)),
    }
    if isinstance(mfa.get("enabled"), bool):
        exposed_mfa["enabled"] = mfa["enabled"]
    return {"mfa": exposed_mfa, "passkeySignIn": {"skipped": bool(passkey.get("skipped", False))}}


def merge_logto_config(config: dict[str, Any], patch: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`patch` (`{mfa?: {...}, passkeySignIn?: {...}}`) merged into the stored config, key by key."""
    return {**config, **{key: {**_section(config, key), **values} for key, values in patch.items()}}
