"""Rules of Logto's graceful key rotation, with no SQL and no HTTP.

A tenant's private keys: exactly one `Current` (signs), at most one `Next` (published in the JWKS
at once, signs from its `effective_at`) and at most one `Previous` (published, so tokens it signed
keep verifying). When a `Next` key's time comes it becomes `Current`, the `Current` one becomes
`Previous` and the older `Previous` is dropped. Every replica derives the same key set from the
table and the clock, so none needs to be told when a promotion is due.

Cookie keys are plain secrets, newest first; rotation keeps the two most recent, as Logto does.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from gatehouse_platform.errors import NotFound, Unprocessable


class KeyStatus(StrEnum):
    NEXT = "Next"
    CURRENT = "Current"
    PREVIOUS = "Previous"


# Logto's canonical order for the Management API; the JWKS lists the signing key first.
LIST_ORDER = {KeyStatus.NEXT: 0, KeyStatus.CURRENT: 1, KeyStatus.PREVIOUS: 2}
JWKS_ORDER = {KeyStatus.CURRENT: 0, KeyStatus.NEXT: 1, KeyStatus.PREVIOUS: 2}

COOKIE_KEYS_KEPT = 2


@dataclass(frozen=True)
class KeyState:
    id: str
    algorithm: str  # the JWS alg: ES384, RS256, ...
    status: KeyStatus
    effective_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class CookieKeyState:
    id: str
    created_at: datetime


def ordered(keys: list[KeyState], order: dict[KeyStatus, int] = LIST_ORDER) -> list[KeyState]:
    return sorted(keys, key=lambda k: order[k.status])


def find(keys: list[KeyState], status: KeyStatus) -> KeyState | None:
    return next((k for k in keys if k.status is status), None)


def promotion_due_at(keys: list[KeyState]) -> datetime | None:
    """When the pending `Next` key starts signing (None: nothing pending)."""
    pending = find(keys, KeyStatus.NEXT)
    return pending.effective_at if pending else None


def promoted(keys: list[KeyState], now: datetime) -> list[KeyState]:
    """The key set as it stands at `now`: a due `Next` key is `Current`, the old one `Previous`."""
    pending = find(keys, KeyStatus.NEXT)
    if pending is None or pending.effective_at > now:
        return ordered(keys)
    out = [replace(pending, status=KeyStatus.CURRENT)]
    current = find(keys, KeyStatus.CURRENT)
    if current is not None:
        out.append(replace(current, status=KeyStatus.PREVIOUS))
    return ordered(out)


def rotated(keys: list[KeyState], new_id: str, algorithm: str, now: datetime, grace_seconds: float) -> list[KeyState]:
    """The key set after adding a new key: `Next` for `grace_seconds`, or `Current` at once when 0.

    A second rotation while a `Next` key is pending is refused: the pending key would otherwise be
    dropped after clients had already fetched it, or two keys would compete for the same slot."""
    keys = promoted(keys, now)
    pending = find(keys, KeyStatus.NEXT)
    if pending is not None:
        raise Unprocessable(
            "oidc.invalid_request",
            "A key rotation is already pending: the Next key becomes current at "
            f"{pending.effective_at.isoformat()}. Rotate again after that.",
            data={"nextKeyId": pending.id, "effectiveAt": epoch_ms(pending.effective_at)},
        )
    current = find(keys, KeyStatus.CURRENT)
    if grace_seconds <= 0:
        fresh = KeyState(new_id, algorithm, KeyStatus.CURRENT, now, now)
        demoted = [replace(current, status=KeyStatus.PREVIOUS)] if current else []
        return ordered([fresh, *demoted])
    fresh = KeyState(new_id, algorithm, KeyStatus.NEXT, now + timedelta(seconds=grace_seconds), now)
    return ordered([fresh, *keys])


def after_deletion(keys: list[KeyState], key_id: str) -> list[KeyState]:
    """Only a `Previous` key may go: it signs nothing and tokens it signed may be let expire."""
    if len(keys) <= 1:
        raise Unprocessable("oidc.key_required")
    target = next((k for k in keys if k.id == key_id), None)
    if target is None:
        raise NotFound("oidc.key_not_found", id=key_id)
    if target.status is not KeyStatus.PREVIOUS:
        raise Unprocessable("oidc.only_previous_key_can_be_deleted")
    return ordered([k for k in keys if k.id != key_id])


def cookie_keys_rotated(keys: list[CookieKeyState], new: CookieKeyState) -> list[CookieKeyState]:
    return [new, *newest_first(keys)][:COOKIE_KEYS_KEPT]


def cookie_keys_after_deletion(keys: list[CookieKeyState], key_id: str) -> list[CookieKeyState]:
    if len(keys) <= 1:
        raise Unprocessable("oidc.key_required")
    if not any(k.id == key_id for k in keys):
        raise NotFound("oidc.key_not_found", id=key_id)
    return newest_first([k for k in keys if k.id != key_id])


def newest_first(keys: list[CookieKeyState]) -> list[CookieKeyState]:
    return sorted(keys, key=lambda k: k.created_at, reverse=True)


def key_family(algorithm: str) -> str:
    """Logto's `signingKeyAlgorithm`: the key type, `RSA` or `EC`."""
    return "EC" if algorithm.startswith("ES") else "RSA"


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def epoch_s(moment: datetime) -> int:
    return int(moment.timestamp())
