"""Verification records of Logto's Account API (`POST /api/verifications/*`): the signed-in user proves who they
are, and a sensitive change (`POST /api/my-account/password`) names the record in its `logto-verification-id`
header. A record is the user's, and lives ten minutes (Logto's `verification_records` expiry); the password is
checked by identity (`user.verify_password` with a `userId` identifier), so no digest reaches experience."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from gatehouse_platform.errors import Unauthorized
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.ids import generate_id
from gatehouse_schema.rpc.identity import USER_VERIFY_PASSWORD, PasswordIdentifier, VerifiedUser, VerifyPassword
from gatehouse_schema.tables.experience import verification_records as t
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

EXPIRES_IN = timedelta(minutes=10)
PASSWORD = "Password"  # Logto's `VerificationType.Password`


@dataclass(frozen=True)
class CreatedRecord:
    id: str
    expires_at: datetime


class VerificationRecordStore(Protocol):
    async def insert(self, conn: AsyncConnection, tenant_id: str, record: CreatedRecord, user_id: str) -> None: ...

    async def is_verified(self, conn: AsyncConnection, tenant_id: str, user_id: str, record_id: str) -> bool: ...


class SqlVerificationRecords:
    async def insert(self, conn: AsyncConnection, tenant_id: str, record: CreatedRecord, user_id: str) -> None:
        await conn.execute(
            sa.insert(t).values(
                tenant_id=tenant_id,
                id=record.id,
                user_id=user_id,
                type=PASSWORD,
                verified=True,
                created_at=sa.func.now(),
                expires_at=record.expires_at,
            )
        )
        # expired records serve nobody: dropping them here keeps the table small without a sweeper
        await conn.execute(sa.delete(t).where(t.c.tenant_id == tenant_id, t.c.expires_at <= sa.func.now()))

    async def is_verified(self, conn: AsyncConnection, tenant_id: str, user_id: str, record_id: str) -> bool:
        query = sa.select(t.c.verified).where(
            t.c.tenant_id == tenant_id,
            t.c.id == record_id,
            t.c.user_id == user_id,
            t.c.expires_at > sa.func.now(),
        )
        return bool((await conn.execute(query)).scalar_one_or_none())


class Verifications:
    def __init__(self, engine: AsyncEngine, rpc: RpcClient, store: VerificationRecordStore) -> None:
        self.engine = engine
        self.rpc = rpc
        self.store = store

    async def by_password(self, tenant_id: str, user_id: str, password: str) -> CreatedRecord:
        """422 `session.invalid_credentials` for a wrong password (identity's answer), else a verified record."""
        request = VerifyPassword(identifier=PasswordIdentifier(type="userId", value=user_id), password=password)
        await self.rpc.call("identity", USER_VERIFY_PASSWORD, request, VerifiedUser)
        record = CreatedRecord(id=generate_id(), expires_at=datetime.now(UTC) + EXPIRES_IN)
        async with self.engine.begin() as conn:
            await self.store.insert(conn, tenant_id, record, user_id)
        return record

    async def identity_verified(self, tenant_id: str, user_id: str, record_id: str | None) -> bool:
        """Whether `record_id` names a verified, unexpired record of this user (Logto's `identityVerified`)."""
        if not record_id:
            return False
        async with self.engine.connect() as conn:
            return await self.store.is_verified(conn, tenant_id, user_id, record_id)

    async def require_identity_verified(self, tenant_id: str, user_id: str, record_id: str | None) -> None:
        """401 `verification_record.permission_denied` unless `identity_verified`."""
        if not await self.identity_verified(tenant_id, user_id, record_id):
            raise Unauthorized("verification_record.permission_denied")
