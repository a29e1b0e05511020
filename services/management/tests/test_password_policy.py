"""Logto's password policy checker, rule by rule (`@logto/core-kit`'s `PasswordPolicyChecker` behaviour), and
the breach-corpus range lookup."""

import hashlib
import socket

import pytest
from gatehouse_management.api.sign_in_experience_bodies import (
    CharacterTypesPolicy,
    LengthPolicy,
    PasswordPolicy,
    RejectsPolicy,
)
from gatehouse_management.services.pwned_passwords import RangeApi, Unreachable
from gatehouse_schema.password_policy import (
    Policy,
    UserInfo,
    UserInfoRequired,
    check,
    pwned_range_prefix,
    range_contains,
    repetition_length,
    resolve,
    sequence_length,
    user_info_length,
)

PLAIN = Policy(rejects=RejectsPolicy(pwned=False, repetition_and_sequence=False, user_info=False))


def codes(password: str, policy: Policy = PLAIN, user: UserInfo | None = None, pwned: bool = False) -> list[str]:
    return [issue.code.removeprefix("password_rejected.") for issue in check(password, policy, user, pwned=pwned)]


def test_an_empty_stored_policy_means_logtos_defaults() -> None:
    policy = resolve(PasswordPolicy())
    assert (policy.length.min, policy.length.max, policy.character_types.min) == (8, 256, 1)
    assert policy.rejects == RejectsPolicy(pwned=True, repetition_and_sequence=True, user_info=True, words=[])
    partial = resolve(PasswordPolicy(length=LengthPolicy(min=12)))
    assert (partial.length.min, partial.length.max) == (12, 256)


def test_length_bounds_carry_the_limit() -> None:
    policy = Policy(length=LengthPolicy(min=8, max=10), rejects=PLAIN.rejects)
    too_short = check("abc", policy, None, pwned=False)
    assert [(i.code, i.interpolation) for i in too_short] == [("password_rejected.too_short", {"min": 8})]
    assert codes("abcdefghijk", policy) == ["too_long"]
    assert codes("abcdefgh", policy) == []


def test_character_types_and_unsupported_characters() -> None:
    policy = Policy(character_types=CharacterTypesPolicy(min=3), rejects=PLAIN.rejects)
    assert codes("abcdefgh1", policy) == ["character_types"]
    assert codes("abcdefG1", policy) == []
    assert codes("abcdefG1!", policy) == []
    assert codes("pässwörd1", PLAIN) == ["unsupported_characters"]
    assert codes("pass word1", PLAIN) == ["unsupported_characters"]  # a space is not one of Logto's symbols


def test_repetition_and_sequences_are_found_case_insensitively() -> None:
    assert repetition_length("aAab") == 3 and repetition_length("aab") == 0
    assert sequence_length("12345x") == 5 and sequence_length("cBa") == 3 and sequence_length("qwe") == 3
    assert sequence_length("13") == 0 and sequence_length("1qaz") == 4


def test_restricted_phrases_count_only_beyond_the_tolerance() -> None:
    rules = Policy(rejects=RejectsPolicy(pwned=False, repetition_and_sequence=True, user_info=False))
    assert codes("aaaa1234", rules) == ["restricted.repetition", "restricted.sequence"]
    # 6 restricted characters of 10 do not exceed 10 - 3: accepted
    assert codes("aaa123Xk9!", rules) == []


def test_rejected_words_are_matched_case_insensitively() -> None:
    rules = Policy(rejects=RejectsPolicy(pwned=False, repetition_and_sequence=False, user_info=False, words=["gate"]))
    assert codes("GateGate", rules) == ["restricted.words"]
    assert codes("gateway-is-open", rules) == []


def test_user_information_is_rejected() -> None:
    rules = Policy(rejects=RejectsPolicy(pwned=False, repetition_and_sequence=False, user_info=True))
    user = UserInfo(name="Grace Hopper", username="ghopper", email="grace.h@example.com", phone_number="15551234")
    assert user_info_length("gracehopper!", user) == len("GraceHopper")
    assert user_info_length("grace.h2024", user) == len("grace.h")
    assert codes("ghopper1", rules, user) == ["restricted.user_info"]
    assert codes("155512340", rules, user) == ["restricted.user_info"]
    assert codes("unrelated-secret", rules, user) == []


def test_user_information_is_required_when_the_policy_rejects_it() -> None:
    rules = Policy(rejects=RejectsPolicy(pwned=False, repetition_and_sequence=False, user_info=True))
    with pytest.raises(UserInfoRequired):
        check("something", rules, None, pwned=False)
    assert codes("", rules) == ["too_short", "character_types"]  # Logto's loop never runs for ""


def test_pwned_comes_after_length_and_types_and_only_when_enabled() -> None:
    rules = Policy(rejects=RejectsPolicy(pwned=True, repetition_and_sequence=True, user_info=False))
    assert codes("123", rules, pwned=True) == ["too_short", "pwned", "restricted.sequence"]
    assert codes("correct-horse", PLAIN, pwned=True) == []


def test_range_lookup_uses_the_sha1_prefix_and_matches_the_suffix() -> None:
    digest = hashlib.sha1(b"password", usedforsecurity=False).hexdigest()
    prefix, suffix = pwned_range_prefix("password")
    assert prefix + suffix == digest and len(prefix) == 5
    body = f"0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n{suffix.upper()}:9545824\r\n"
    assert range_contains(body, suffix)
    assert not range_contains("0018A45C4D1DEF81644B54AB7F969B88D65:1", suffix)


async def test_an_unreachable_range_api_is_reported() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(Unreachable):
        await RangeApi(f"http://127.0.0.1:{port}/range/", timeout=2).is_pwned("password")
    assert RangeApi("").enabled is False
