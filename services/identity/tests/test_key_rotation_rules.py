"""The rules of graceful key rotation on their own (no database, no HTTP)."""

from datetime import UTC, datetime, timedelta

import pytest
from gatehouse_identity.keys.rotation import (
    CookieKeyState,
    KeyState,
    KeyStatus,
    after_deletion,
    cookie_keys_after_deletion,
    cookie_keys_rotated,
    promoted,
    rotated,
)
from gatehouse_platform.errors import NotFound, Unprocessable

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NEXT, CURRENT, PREVIOUS = KeyStatus.NEXT, KeyStatus.CURRENT, KeyStatus.PREVIOUS


def key(kid: str, status: KeyStatus, effective_at: datetime = T0) -> KeyState:
    return KeyState(kid, "ES384", status, effective_at, T0)


def statuses(keys: list[KeyState]) -> list[tuple[str, KeyStatus]]:
    return [(k.id, k.status) for k in keys]


def test_rotation_with_grace_adds_a_next_key_effective_after_the_grace_period() -> None:
    keys = rotated([key("a", CURRENT)], "b", "RS256", T0, 3600)

    assert statuses(keys) == [("b", NEXT), ("a", CURRENT)]
    assert keys[0].effective_at == T0 + timedelta(hours=1) and keys[0].algorithm == "RS256"


def test_rotation_without_grace_makes_the_new_key_current_and_drops_the_older_previous() -> None:
    keys = rotated([key("a", PREVIOUS), key("b", CURRENT)], "c", "ES384", T0, 0)

    assert statuses(keys) == [("c", CURRENT), ("b", PREVIOUS)]


def test_staged_rotation_keeps_the_previous_key_until_the_promotion() -> None:
    keys = rotated([key("a", PREVIOUS), key("b", CURRENT)], "c", "ES384", T0, 60)

    assert statuses(keys) == [("c", NEXT), ("b", CURRENT), ("a", PREVIOUS)]


def test_a_next_key_is_promoted_at_its_effective_time_not_before() -> None:
    keys = [key("a", PREVIOUS), key("b", CURRENT), key("c", NEXT, T0 + timedelta(seconds=60))]

    assert statuses(promoted(keys, T0 + timedelta(seconds=59))) == [("c", NEXT), ("b", CURRENT), ("a", PREVIOUS)]
    assert statuses(promoted(keys, T0 + timedelta(seconds=60))) == [("c", CURRENT), ("b", PREVIOUS)]


def test_a_second_rotation_while_a_key_is_pending_is_refused() -> None:
    keys = [key("a", CURRENT), key("b", NEXT, T0 + timedelta(seconds=60))]

    with pytest.raises(Unprocessable) as caught:
        rotated(keys, "c", "ES384", T0, 0)

    assert caught.value.code == "oidc.invalid_request" and caught.value.status == 422
    assert caught.value.data["nextKeyId"] == "b"


def test_rotation_after_the_pending_key_took_over_is_allowed() -> None:
    keys = [key("a", CURRENT), key("b", NEXT, T0 + timedelta(seconds=60))]

    after = rotated(keys, "c", "ES384", T0 + timedelta(seconds=61), 0)

    assert statuses(after) == [("c", CURRENT), ("b", PREVIOUS)]


@pytest.mark.parametrize("status", [CURRENT, NEXT])
def test_only_a_previous_key_can_be_deleted(status: KeyStatus) -> None:
    keys = [key("a", PREVIOUS), key("b", CURRENT), key("c", NEXT, T0 + timedelta(days=1))]
    target = next(k.id for k in keys if k.status is status)

    with pytest.raises(Unprocessable) as caught:
        after_deletion(keys, target)

    assert caught.value.code == "oidc.only_previous_key_can_be_deleted"
    assert statuses(after_deletion(keys, "a")) == [("c", NEXT), ("b", CURRENT)]


def test_deleting_an_unknown_key_is_not_found_and_the_last_key_is_required() -> None:
    with pytest.raises(NotFound) as missing:
        after_deletion([key("a", PREVIOUS), key("b", CURRENT)], "zzz")
    with pytest.raises(Unprocessable) as last:
        after_deletion([key("b", CURRENT)], "b")

    assert missing.value.code == "oidc.key_not_found" and missing.value.message == "Key with ID zzz is not found."
    assert last.value.code == "oidc.key_required"


def test_cookie_rotation_keeps_the_two_newest_keys() -> None:
    old = [CookieKeyState("a", T0), CookieKeyState("b", T0 + timedelta(seconds=1))]

    after = cookie_keys_rotated(old, CookieKeyState("c", T0 + timedelta(seconds=2)))

    assert [k.id for k in after] == ["c", "b"]
    assert [k.id for k in cookie_keys_after_deletion(after, "c")] == ["b"]
