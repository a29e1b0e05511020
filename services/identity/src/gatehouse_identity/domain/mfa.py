"""MFA factors as Logto stores them in `users.mfa_verifications`, and its rules for binding them from
the Management API: one TOTP per user, one usable set of backup codes, never backup codes alone.
WebAuthn credentials are bound only by the user's own sign-in flow, so they are listed and deleted
here but never created."""

import base64
import hashlib
import hmac
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import segno
from gatehouse_platform.errors import Unprocessable
from gatehouse_schema.mfa_secrets import BACKUP_CODE_COUNT

TOTP = "Totp"
BACKUP_CODE = "BackupCode"
WEBAUTHN = "WebAuthn"

BACKUP_CODE_FORMAT = re.compile(r"[0-9a-fA-F]{10}")
# RFC 4648 base32, padded or not, as Logto's `validateTotpSecret` accepts it
BASE32 = re.compile(r"(?:[2-7A-Z]{8})*(?:[2-7A-Z]{2}={6}|[2-7A-Z]{4}={4}|[2-7A-Z]{5}={3}|[2-7A-Z]{7}=)?")


def now_iso() -> str:
    """JavaScript's `Date.prototype.toISOString()`: UTC, milliseconds, `Z`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def valid_totp_secret(secret: str) -> bool:
    return 16 <= len(secret) <= 32 and BASE32.fullmatch(secret) is not None


def totp_code(secret: str, counter: int, digits: int = 6) -> str:
    """RFC 6238 / 4226: HMAC-SHA1 of the time step, dynamically truncated (otplib's defaults, as Logto)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp_matches(secret: str, code: str, at: float | None = None, window: int = 1, step: int = 30) -> bool:
    """Whether `code` is the secret's code of the current 30 s step or of `window` steps either side."""
    if not code.isdigit() or len(code) != 6:
        return False
    counter = int((time.time() if at is None else at) // step)
    return any(hmac.compare_digest(totp_code(secret, counter + drift), code) for drift in range(-window, window + 1))


def valid_backup_codes(codes: list[str]) -> bool:
    return len(codes) == BACKUP_CODE_COUNT and all(BACKUP_CODE_FORMAT.fullmatch(code) for code in codes)


def display_name(name: str | None, username: str | None, email: str | None, phone: str | None) -> str:
    """Whom an authenticator app shows the TOTP entry for (Logto's `getUserDisplayName`)."""
    return name or email or (f"+{phone}" if phone else None) or username or "Unnamed User"


def totp_key_uri(account: str, service: str, secret: str) -> str:
    """The `otpauth://` URI authenticator apps scan, as otplib's `keyuri` writes it."""
    label = f"{quote(service, safe='')}:{quote(account, safe='')}"
    return f"otpauth://totp/{label}?secret={secret}&period=30&digits=6&algorithm=SHA1&issuer={quote(service, safe='')}"


def qr_data_url(text: str) -> str:
    """A PNG data URL of the QR code of `text` (what Logto's `qrcode.toDataURL` returns)."""
    return str(segno.make(text, error="m").png_data_uri(scale=4, border=4))


def check_totp_can_bind(factors: list[dict[str, Any]]) -> None:
    if any(f.get("type") == TOTP for f in factors):
        raise Unprocessable("user.totp_already_in_use")


def check_backup_codes_can_bind(factors: list[dict[str, Any]]) -> None:
    for factor in factors:
        if factor.get("type") == BACKUP_CODE and not all(c.get("usedAt") for c in factor.get("codes", [])):
            raise Unprocessable("user.backup_code_already_in_use")
    if not any(f.get("type") != BACKUP_CODE for f in factors):
        raise Unprocessable("session.mfa.backup_code_can_not_be_alone")


def new_totp(factor_id: str, secret: str) -> dict[str, Any]:
    return {"id": factor_id, "createdAt": now_iso(), "type": TOTP, "key": secret}


def new_backup_codes(factor_id: str, codes: list[str]) -> dict[str, Any]:
    return {"id": factor_id, "createdAt": now_iso(), "type": BACKUP_CODE, "codes": [{"code": c} for c in codes]}


def exposed(factor: dict[str, Any]) -> dict[str, Any]:
    """A stored factor as the Management API lists it: never the TOTP key or the backup codes themselves."""
    out: dict[str, Any] = {"id": factor["id"], "createdAt": factor["createdAt"], "type": factor["type"]}
    if factor.get("lastUsedAt"):
        out["lastUsedAt"] = factor["lastUsedAt"]
    if factor["type"] == WEBAUTHN:
        out.update({k: factor[k] for k in ("agent", "name") if factor.get(k) is not None})
    elif factor["type"] == BACKUP_CODE:
        out["remainCodes"] = sum(1 for c in factor.get("codes", []) if not c.get("usedAt"))
    return out
