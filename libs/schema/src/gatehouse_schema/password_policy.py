"""Logto's password policy checker (`@logto/core-kit`'s `PasswordPolicyChecker`), as pure functions, and the
policy's shapes as the sign-in experience stores them (`passwordPolicy`, camelCase).

Management checks passwords with it (`POST /api/sign-in-exp/default/check-password`), experience when a
registration sets a password (`POST /api/experience/profile`). Issues come in Logto's order: length, character
types, `pwned`, then the restricted-phrase codes (repetition, sequence, words, user info) in the order they were
first found. A restricted phrase only counts when the restricted characters exceed all but 3 of the password
(`restrictedPhrasesTolerance`).
"""

import hashlib
import re
from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType


class _Complete(msgspec.Struct, kw_only=True, rename="camel"):
    """Defaults are written out: a policy part reads back complete."""


class _Shape(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    pass


class LengthPolicy(_Complete):
    min: Annotated[int, Meta(ge=1)] = 8
    max: Annotated[int, Meta(ge=1)] = 256


class CharacterTypesPolicy(_Complete):
    min: Annotated[int, Meta(ge=1, le=4)] = 1


class RejectsPolicy(_Complete):
    pwned: bool = True
    repetition_and_sequence: bool = True
    user_info: bool = True
    words: list[str] = msgspec.field(default_factory=list)


class PasswordPolicy(_Shape):
    """Logto's partial policy: a part given is completed with its defaults, a part absent means defaults."""

    length: LengthPolicy | UnsetType = UNSET
    character_types: CharacterTypesPolicy | UnsetType = UNSET
    rejects: RejectsPolicy | UnsetType = UNSET


class PasswordIssue(_Shape):
    code: str
    interpolation: dict[str, Any] | UnsetType = UNSET


SYMBOLS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
SEQUENCES = (
    "0123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz",
    "2wsx",
    "3edc",
    "4rfv",
    "5tgb",
    "6yhn",
    "7ujm",
    "8ik",
    "9ol",
)
REPETITION_AND_SEQUENCE_THRESHOLD = 3
RESTRICTED_PHRASES_TOLERANCE = 3


class UserInfoRequired(TypeError):
    """The policy rejects user information but no user was given (Logto's checker throws a TypeError)."""

    def __init__(self) -> None:
        super().__init__("User information data is required to check user information.")


@dataclass(frozen=True)
class Policy:
    length: LengthPolicy = field(default_factory=LengthPolicy)
    character_types: CharacterTypesPolicy = field(default_factory=CharacterTypesPolicy)
    rejects: RejectsPolicy = field(default_factory=RejectsPolicy)


@dataclass(frozen=True)
class UserInfo:
    name: str | None = None
    username: str | None = None
    email: str | None = None
    phone_number: str | None = None


def resolve(stored: PasswordPolicy) -> Policy:
    """The effective policy: Logto's defaults for every part the tenant left out."""
    return Policy(
        length=stored.length or LengthPolicy(),
        character_types=stored.character_types or CharacterTypesPolicy(),
        rejects=stored.rejects or RejectsPolicy(),
    )


def _utf16_length(password: str) -> int:
    return len(password.encode("utf-16-le")) // 2  # JavaScript's `length`


def _character_types(password: str) -> set[str] | None:
    """The character types used, or None when a character is none of them (unsupported)."""
    found: set[str] = set()
    for char in password:
        if "a" <= char <= "z":
            found.add("lowercase")
        elif "A" <= char <= "Z":
            found.add("uppercase")
        elif "0" <= char <= "9":
            found.add("digits")
        elif char in SYMBOLS:
            found.add("symbols")
        else:
            return None
    return found


def fast_check(password: str, policy: Policy) -> list[PasswordIssue]:
    """Length and character types only (Logto's `fastCheck`)."""
    issues: list[PasswordIssue] = []
    length = _utf16_length(password)
    if length < policy.length.min:
        issues.append(PasswordIssue(code="password_rejected.too_short", interpolation={"min": policy.length.min}))
    elif length > policy.length.max:
        issues.append(PasswordIssue(code="password_rejected.too_long", interpolation={"max": policy.length.max}))
    types = _character_types(password)
    if types is None:
        issues.append(PasswordIssue(code="password_rejected.unsupported_characters"))
    elif len(types) < policy.character_types.min:
        issues.append(
            PasswordIssue(code="password_rejected.character_types", interpolation={"min": policy.character_types.min})
        )
    return issues


def repetition_length(text: str) -> int:
    first = text[:1].lower()
    length = 0
    for char in text:
        if char.lower() != first:
            break
        length += 1
    return length if length >= REPETITION_AND_SEQUENCE_THRESHOLD else 0


def _is_sequential(value: str) -> bool:
    lowered = value.lower()
    return any(lowered in seq or lowered in seq[::-1] for seq in SEQUENCES)


def sequence_length(text: str) -> int:
    value = ""
    for char in text:
        if value and not _is_sequential(value + char):
            break
        value += char
    return len(value) if len(value) >= REPETITION_AND_SEQUENCE_THRESHOLD else 0


def word_length(text: str, words: list[str]) -> int:
    lowered = text.lower()
    return max((len(w) for w in words if lowered.startswith(w.lower())), default=0)


def user_info_length(text: str, user: UserInfo) -> int:
    """The longest piece of the user's information the text starts with (case-insensitive)."""
    lowered = text.lower()
    candidates: list[str] = []
    if user.name:
        if lowered.startswith(user.name.lower()):
            candidates.append(user.name)
        else:
            candidates += [re.sub(r"\s+", "", user.name), *user.name.split(" ")]
    if user.username:
        candidates.append(user.username)
    if user.email:
        candidates.append(user.email.split("@")[0])
    matched = [len(c) for c in candidates if lowered.startswith(c.lower())]
    if user.phone_number and lowered.startswith(user.phone_number):
        matched.append(len(user.phone_number))
    return max(matched, default=0)


def restricted_issues(password: str, policy: Policy, user: UserInfo | None) -> list[PasswordIssue]:
    """Repetition, sequences, the tenant's words and the user's information (Logto's second pass)."""
    rejects = policy.rejects
    if rejects.user_info and user is None and password:  # Logto throws inside its loop: never for ""
        raise UserInfoRequired
    marked = [False] * len(password)
    codes: dict[str, None] = {}  # insertion-ordered set

    def mark(start: int, length: int, code: str) -> None:
        if length > 0:
            marked[start : start + length] = [True] * length
            codes.setdefault(code)

    for i in range(len(password)):
        rest = password[i:]
        if rejects.repetition_and_sequence:
            mark(i, repetition_length(rest), "restricted.repetition")
            mark(i, sequence_length(rest), "restricted.sequence")
        if rejects.words:
            mark(i, word_length(rest, rejects.words), "restricted.words")
        if rejects.user_info and user is not None:
            mark(i, user_info_length(rest, user), "restricted.user_info")
    if sum(marked) > max(1, len(password) - RESTRICTED_PHRASES_TOLERANCE):
        return [PasswordIssue(code=f"password_rejected.{code}") for code in codes]
    return []


def pwned_range_prefix(password: str) -> tuple[str, str]:
    """The SHA-1 of the password split for the k-anonymity range query: (5-character prefix, suffix)."""
    digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest()
    return digest[:5], digest[5:]


def range_contains(body: str, suffix: str) -> bool:
    """Whether a range answer (`SUFFIX:COUNT` lines) lists the suffix (Logto compares case-insensitively)."""
    return any(line.lower().startswith(suffix.lower()) for line in body.split("\n"))


def check(password: str, policy: Policy, user: UserInfo | None, *, pwned: bool) -> list[PasswordIssue]:
    """Every issue, given whether the password was found in the breach corpus (only asked when enabled)."""
    issues = fast_check(password, policy)
    if policy.rejects.pwned and pwned:
        issues.append(PasswordIssue(code="password_rejected.pwned"))
    return issues + restricted_issues(password, policy, user)
