"""SQL for users' linked identities: social identities live in `users.identities` (jsonb, keyed by
connector target), enterprise SSO identities in `user_sso_identities`."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.identity import user_sso_identities, users
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class SsoIdentity:
    tenant_id: str
    id: str
    user_id: str
    issuer: str
    identity_id: str
    detail: dict[str, Any]
    sso_connector_id: str
    created_at: datetime
    updated_at: datetime


def _sso(row: Any) -> SsoIdentity:
    return SsoIdentity(
        tenant_id=row.tenant_id,
        id=row.id,
        user_id=row.user_id,
        issuer=row.issuer,
        identity_id=row.identity_id,
        detail=row.detail,
        sso_connector_id=row.sso_connector_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class UserIdentityStore:
    """Every method runs on the caller's connection (its transaction)."""

    async def lock_social_identity(self, conn: AsyncConnection, tenant_id: str, target: str, identity_id: str) -> None:
        """Serialises links of one social identity, so two users cannot both win the uniqueness check."""
        key = f"identity:{tenant_id}:{target}:{identity_id}"
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})

    async def social_identity_owner(
        self, conn: AsyncConnection, tenant_id: str, target: str, identity_id: str, except_user: str
    ) -> str | None:
        """Another user already linked to `identity_id` at `target` (served by the GIN index on identities)."""
        query = sa.select(users.c.id).where(
            users.c.tenant_id == tenant_id,
            users.c.identities.contains({target: {"userId": identity_id}}),
            users.c.id != except_user,
        )
        return (await conn.execute(query.limit(1))).scalar_one_or_none()

    async def social_identity_user(
        self, conn: AsyncConnection, tenant_id: str, target: str, identity_id: str
    ) -> str | None:
        """The user linked to `identity_id` at `target` (Logto's `findUserByIdentity`)."""
        query = sa.select(users.c.id).where(
            users.c.tenant_id == tenant_id, users.c.identities.contains({target: {"userId": identity_id}})
        )
        return (await conn.execute(query.limit(1))).scalar_one_or_none()

    async def sso_identities(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, connector_id: str | None = None
    ) -> list[SsoIdentity]:
        query = sa.select(user_sso_identities).where(
            user_sso_identities.c.tenant_id == tenant_id, user_sso_identities.c.user_id == user_id
        )
        if connector_id is not None:
            query = query.where(user_sso_identities.c.sso_connector_id == connector_id)
        rows = await conn.execute(query.order_by(user_sso_identities.c.created_at, user_sso_identities.c.id))
        return [_sso(r) for r in rows]

    async def lock_sso_identity(self, conn: AsyncConnection, tenant_id: str, issuer: str, identity_id: str) -> None:
        """Serialises links of one enterprise SSO identity (the unique index would refuse the loser anyway)."""
        key = f"sso-identity:{tenant_id}:{issuer}:{identity_id}"
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})

    async def sso_identity_user(
        self, conn: AsyncConnection, tenant_id: str, issuer: str, identity_id: str
    ) -> str | None:
        """The user with the identity `identity_id` of `issuer` (Logto's `findUserSsoIdentityBySsoIdentityId`)."""
        t = user_sso_identities
        query = sa.select(t.c.user_id).where(
            t.c.tenant_id == tenant_id, t.c.issuer == issuer, t.c.identity_id == identity_id
        )
        return (await conn.execute(query)).scalar_one_or_none()

    async def insert_sso_identity(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        id: str,
        *,
        user_id: str,
        sso_connector_id: str,
        issuer: str,
        identity_id: str,
        detail: dict[str, Any],
    ) -> None:
        await conn.execute(
            sa.insert(user_sso_identities).values(
                tenant_id=tenant_id,
                id=id,
                user_id=user_id,
                sso_connector_id=sso_connector_id,
                issuer=issuer,
                identity_id=identity_id,
                detail=detail,
            )
        )

    async def update_sso_identity_detail(
        self, conn: AsyncConnection, tenant_id: str, issuer: str, identity_id: str, detail: dict[str, Any]
    ) -> bool:
        """Logto's `updateUserSsoIdentityDetailByIdentityId`: the IdP's latest user info."""
        t = user_sso_identities
        result = await conn.execute(
            sa.update(t)
            .where(t.c.tenant_id == tenant_id, t.c.issuer == issuer, t.c.identity_id == identity_id)
            .values(detail=detail, updated_at=sa.func.now())
        )
        return bool(result.rowcount)
