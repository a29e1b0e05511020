"""A user's MFA factors from the Management API: list, bind TOTP or backup codes, delete any factor.
Each command is one transaction on the user's row (locked), with `User.Data.Updated`."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.events import Actor
from gatehouse_schema.ids import generate_id
from gatehouse_schema.mfa_secrets import generate_backup_codes, generate_totp_secret
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.domain import mfa
from gatehouse_identity.persistence.users import UserStore
from gatehouse_identity.services.user_records import update_user_data, user_record

CHANGED = ["mfaVerifications"]


@dataclass(frozen=True)
class BoundTotp:
    secret: str
    key_uri: str


class UserMfaService:
    def __init__(
        self, engine: AsyncEngine, users: UserStore, outbox: Outbox, new_id: Callable[[], str] = generate_id
    ) -> None:
        self.engine = engine
        self.users = users
        self.outbox = outbox
        self.new_id = new_id

    async def factors(self, tenant_id: str, user_id: str) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            record = await user_record(self.users, conn, tenant_id, user_id)
        return [mfa.exposed(f) for f in record.mfa_verifications]

    async def bind_totp(
        self, tenant_id: str, user_id: str, secret: str | None, service: str, actor: Actor | None
    ) -> BoundTotp:
        """Binds `secret`, or a new one when absent; the URI is what the QR code shows an authenticator app."""
        async with self.engine.begin() as conn:
            record = await user_record(self.users, conn, tenant_id, user_id, lock=True)
            mfa.check_totp_can_bind(record.mfa_verifications)
            if secret is not None and not mfa.valid_totp_secret(secret):
                raise Unprocessable("user.totp_secret_invalid")
            secret = secret or generate_totp_secret()
            factors = [*record.mfa_verifications, mfa.new_totp(self.new_id(), secret)]
            await update_user_data(
                self.users, self.outbox, conn, tenant_id, user_id, {"mfa_verifications": factors}, CHANGED, actor
            )
        u = record.user
        account = mfa.display_name(u.name, u.username, u.primary_email, u.primary_phone)
        return BoundTotp(secret, mfa.totp_key_uri(account, service, secret))

    async def bind_backup_codes(
        self, tenant_id: str, user_id: str, codes: list[str] | None, actor: Actor | None
    ) -> list[str]:
        async with self.engine.begin() as conn:
            record = await user_record(self.users, conn, tenant_id, user_id, lock=True)
            mfa.check_backup_codes_can_bind(record.mfa_verifications)
            if codes is not None and not mfa.valid_backup_codes(codes):
                raise Unprocessable("user.wrong_backup_code_format")
            codes = codes if codes is not None else generate_backup_codes()
            factors = [*record.mfa_verifications, mfa.new_backup_codes(self.new_id(), codes)]
            await update_user_data(
                self.users, self.outbox, conn, tenant_id, user_id, {"mfa_verifications": factors}, CHANGED, actor
            )
        return codes

    async def consume_backup_code(self, tenant_id: str, user_id: str, code: str) -> None:
        """Marks one unused backup code of the user as used (`usedAt`), as a sign-in's MFA verification does;
        400 `session.mfa.invalid_backup_code` when none matches."""
        async with self.engine.begin() as conn:
            record = await self.users.record(conn, tenant_id, user_id, lock=True)
            factors = [dict(f) for f in (record.mfa_verifications if record is not None else [])]
            for factor in factors:
                if factor.get("type") != mfa.BACKUP_CODE:
                    continue
                codes = [dict(c) for c in factor.get("codes") or []]
                match = next((c for c in codes if c.get("code") == code and not c.get("usedAt")), None)
                if match is not None:
                    match["usedAt"] = mfa.now_iso()
                    factor["codes"] = codes
                    await update_user_data(
                        self.users, self.outbox, conn, tenant_id, user_id, {"mfa_verifications": factors}, CHANGED, None
                    )
                    return
        raise BadRequest("session.mfa.invalid_backup_code")

    async def delete(self, tenant_id: str, user_id: str, factor_id: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            record = await user_record(self.users, conn, tenant_id, user_id, lock=True)
            remaining = [f for f in record.mfa_verifications if f.get("id") != factor_id]
            if len(remaining) == len(record.mfa_verifications):
                raise NotFound("entity.not_found")
            await update_user_data(
                self.users, self.outbox, conn, tenant_id, user_id, {"mfa_verifications": remaining}, CHANGED, actor
            )
