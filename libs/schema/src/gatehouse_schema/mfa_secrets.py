"""New MFA secrets as Logto makes them (otplib's 16-character base32 TOTP secret; ten backup codes of ten
lowercase hex digits): identity binds them from the Management API, experience hands them to the user of
the Account API before they are bound."""

import base64
import secrets

TOTP_SECRET_BYTES = 10  # otplib's default: a 16-character base32 secret
BACKUP_CODE_COUNT = 10
BACKUP_CODE_ALPHABET = "0123456789abcdef"


def generate_totp_secret() -> str:
    return base64.b32encode(secrets.token_bytes(TOTP_SECRET_BYTES)).decode()


def generate_backup_codes() -> list[str]:
    return ["".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(10)) for _ in range(BACKUP_CODE_COUNT)]
