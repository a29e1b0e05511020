"""Verification records of Logto's Account API (`POST /api/verifications/*`): the signed-in user proves who they
are, and a sensitive change (`POST /api/my-account/password`) names the record in its `logto-verification-id`
header. A record is the user's, and lives ten minutes (Logto's `verification_records` expiry); the password is
checked by identity (`user.verify_password` with a `userId` identifier), so no digest reaches experience.

A `Social` record proves that the user owns a social account (Logto's new identifier verification): `POST
/api/verifications/social` starts the provider round trip of a social connector (the record keeps the connector
session), `POST /api/verifications/social/verify` finishes it with the browser's `connectorData` (the record keeps
the provider's user info and the token set identity sealed), as the Experience API's social verification does
(`social.py`). Such a record never verifies the user's identity: only a `Password` record does. Logto keeps a
social record without its user; Gatehouse keeps its creator and no other user can use it.

Logto's rules, in its order: an empty `state` or `redirectUri` is 400 `session.insufficient_info`; an unknown
connector 404 `entity.not_found`, one that is not social 400 `connector.unexpected_type`; an unknown, expired,
other user's or other type's record 400 `verification_record.not_found`, and so is an unverified one where a
verified one is needed."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import msgspec
import sqlalchemy as sa
from gatehouse_connectors import ConnectorFactory
from gatehouse_platform.errors import BadRequest, NotFound, Unauthorized
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.ids import generate_id
from gatehouse_schema.queries.management import ConnectorRecord
from gatehouse_schema.rpc.identity import (
    USER_VERIFY_PASSWORD,
    PasswordIdentifier,
    SealedTokenSet,
    SocialIdentity,
    VerifiedUser,
    VerifyPassword,
)
from gatehouse_schema.tables.experience import verification_records as t
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_experience.social import SOCIAL, begin_round_trip, connector_of, connector_target, finish_round_trip

EXPIRES_IN = timedelta(minutes=10)
PASSWORD = "Password"  # Logto's `VerificationType.Password`
IDENTITY_TYPES = (PASSWORD,)  # the records that verify the user's identity (`logto-verification-id`)


@dataclass(frozen=True)
class CreatedRecord:
    id: str
    expires_at: datetime


@dataclass(frozen=True)
class StoredRecord:
    id: str
    type: str
    verified: bool
    data: dict[str, Any]


class VerificationRecordStore(Protocol):
    async def insert(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        record: CreatedRecord,
        user_id: str,
        *,
        type: str = PASSWORD,
        verified: bool = True,
        data: dict[str, Any] | None = None,
    ) -> None: ...

    async def is_verified(self, conn: AsyncConnection, tenant_id: str, user_id: str, record_id: str) -> bool: ...

    async def find(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, record_id: str, type: str, *, lock: bool = False
    ) -> StoredRecord | None: ...

    async def update(
        self, conn: AsyncConnection, tenant_id: str, record_id: str, verified: bool, data: dict[str, Any]
    ) -> None: ...


class SqlVerificationRecords:
    async def insert(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        record: CreatedRecord,
        user_id: str,
        *,
        type: str = PASSWORD,
        verified: bool = True,
        data: dict[str, Any] | None = None,
    ) -> None:
        await conn.execute(
            sa.insert(t).values(
                tenant_id=tenant_id,
                id=record.id,
                user_id=user_id,
                type=type,
                verified=verified,
                data=data or {},
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
            t.c.type.in_(IDENTITY_TYPES),
            t.c.expires_at > sa.func.now(),
        )
        return bool((await conn.execute(query)).scalar_one_or_none())

    async def find(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, record_id: str, type: str, *, lock: bool = False
    ) -> StoredRecord | None:
        query = sa.select(t.c.id, t.c.type, t.c.verified, t.c.data).where(
            t.c.tenant_id == tenant_id,
            t.c.id == record_id,
            t.c.user_id == user_id,
            t.c.type == type,
            t.c.expires_at > sa.func.now(),
        )
        row = (await conn.execute(query.with_for_update() if lock else query)).one_or_none()
        return None if row is None else StoredRecord(id=row.id, type=row.type, verified=row.verified, data=row.data)

    async def update(
        self, conn: AsyncConnection, tenant_id: str, record_id: str, verified: bool, data: dict[str, Any]
    ) -> None:
        await conn.execute(
            sa.update(t).where(t.c.tenant_id == tenant_id, t.c.id == record_id).values(verified=verified, data=data)
        )


def _record_not_found() -> BadRequest:
    return BadRequest("verification_record.not_found")


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
        """Whether `record_id` names a verified, unexpired identity record of this user (Logto's
        `identityVerified`)."""
        if not record_id:
            return False
        async with self.engine.connect() as conn:
            return await self.store.is_verified(conn, tenant_id, user_id, record_id)

    async def require_identity_verified(self, tenant_id: str, user_id: str, record_id: str | None) -> None:
        """401 `verification_record.permission_denied` unless `identity_verified`."""
        if not await self.identity_verified(tenant_id, user_id, record_id):
            raise Unauthorized("verification_record.permission_denied")

    # social records (`POST /api/verifications/social`, `.../verify`)

    async def _social_connector(self, tenant_id: str, connector_id: str) -> tuple[ConnectorRecord, ConnectorFactory]:
        """Logto's `SocialVerification.getConnectorData`: 404 `entity.not_found`, 400 `connector.unexpected_type`."""
        async with self.engine.connect() as conn:
            found = await connector_of(conn, tenant_id, connector_id)
        if found is None:
            raise NotFound("entity.not_found")
        if found[1].metadata.type != SOCIAL:
            raise BadRequest("connector.unexpected_type")
        return found

    async def _social_record(self, tenant_id: str, user_id: str, record_id: str) -> StoredRecord:
        async with self.engine.connect() as conn:
            found = await self.store.find(conn, tenant_id, user_id, record_id, SOCIAL)
        if found is None:
            raise _record_not_found()
        return found

    async def by_social(
        self, tenant_id: str, user_id: str, connector_id: str, state: str, redirect_uri: str, scope: str | None
    ) -> tuple[CreatedRecord, str]:
        """A new, unverified `Social` record and the provider's authorization URI."""
        if not state or not redirect_uri:
            raise BadRequest("session.insufficient_info")
        connector, factory = await self._social_connector(tenant_id, connector_id)
        uri, session = await begin_round_trip(self.rpc, connector, factory, state, redirect_uri, scope)
        record = CreatedRecord(id=generate_id(), expires_at=datetime.now(UTC) + EXPIRES_IN)
        data = {"connectorId": connector_id, "connectorSession": session}
        async with self.engine.begin() as conn:
            await self.store.insert(conn, tenant_id, record, user_id, type=SOCIAL, verified=False, data=data)
        return record, uri

    async def verify_social(self, tenant_id: str, user_id: str, record_id: str, connector_data: dict[str, Any]) -> None:
        """The provider's round trip for the browser's `connector_data`, outside any transaction; the record then
        keeps the social user info (and the sealed token set), verified."""
        found = await self._social_record(tenant_id, user_id, record_id)
        connector, factory = await self._social_connector(tenant_id, str(found.data.get("connectorId")))
        session = found.data.get("connectorSession") or {}
        user_info, token_set = await finish_round_trip(self.rpc, connector, factory, session, connector_data)
        async with self.engine.begin() as conn:
            current = await self.store.find(conn, tenant_id, user_id, record_id, SOCIAL, lock=True)
            if current is None:
                raise _record_not_found()
            data = {k: v for k, v in current.data.items() if k not in ("socialUserInfo", "tokenSet")}
            data["socialUserInfo"] = user_info
            if token_set is not None:
                data["tokenSet"] = token_set
            await self.store.update(conn, tenant_id, record_id, True, data)

    async def verified_social(self, tenant_id: str, user_id: str, record_id: str) -> SocialIdentity:
        """The social identity a verified `Social` record of this user proves (Logto's `toUserProfile`), with its
        connector's current target and the sealed token set."""
        found = await self._social_record(tenant_id, user_id, record_id)
        info = found.data.get("socialUserInfo")
        if not found.verified or not isinstance(info, dict):
            raise _record_not_found()
        connector, factory = await self._social_connector(tenant_id, str(found.data.get("connectorId")))
        token_set = found.data.get("tokenSet")
        return SocialIdentity(
            connector_id=connector.id,
            target=connector_target(connector, factory),
            details=info,
            token_set=None if token_set is None else msgspec.convert(token_set, SealedTokenSet),
        )
