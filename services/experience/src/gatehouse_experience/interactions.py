"""The experience interactions table: one row per OIDC interaction being signed in, with its verification
records (what the user proved), the profile a registration collects and the user it identified."""

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from gatehouse_platform.errors import NotFound
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.rpc.identity import INTERACTION_GET, InteractionDetails, InteractionGet
from gatehouse_schema.tables.experience import interactions
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


@dataclass
class Interaction:
    id: str
    interaction_event: str
    user_id: str | None
    verifications: list[dict[str, Any]] = field(default_factory=list)
    # Logto's interaction profile (camelCase keys); a registration's `password` stays here, in plain text,
    # only until `user.create` hashes it and the profile is cleared
    profile: dict[str, Any] = field(default_factory=dict)

    def verification(self, verification_id: str) -> dict[str, Any] | None:
        return next((v for v in self.verifications if v.get("id") == verification_id), None)

    def record_of_type(self, verification_id: str | None, record_type: str) -> dict[str, Any]:
        """Logto's `getVerificationRecordByTypeAndId`: 404 `session.verification_session_not_found` unless the id
        names a record of that type."""
        record = self.verification(verification_id) if verification_id else None
        if record is None or record.get("type") != record_type:
            raise NotFound("session.verification_session_not_found")
        return record


class InteractionStore:
    async def start(self, conn: AsyncConnection, tenant_id: str, uid: str, event: str) -> None:
        """A new experience interaction for the OIDC interaction `uid`; an earlier one is replaced."""
        values: dict[str, Any] = {
            "interaction_event": event,
            "user_id": None,
            "verifications": [],
            "profile": {},
            "updated_at": sa.func.now(),
        }
        await conn.execute(
            insert(interactions)
            .values(tenant_id=tenant_id, id=uid, created_at=sa.func.now(), **values)
            .on_conflict_do_update(index_elements=[interactions.c.tenant_id, interactions.c.id], set_=values)
        )

    async def get(self, conn: AsyncConnection, tenant_id: str, uid: str, *, lock: bool = False) -> Interaction | None:
        query = sa.select(
            interactions.c.id,
            interactions.c.interaction_event,
            interactions.c.user_id,
            interactions.c.verifications,
            interactions.c.profile,
        ).where(interactions.c.tenant_id == tenant_id, interactions.c.id == uid)
        row = (await conn.execute(query.with_for_update() if lock else query)).one_or_none()
        if row is None:
            return None
        return Interaction(
            row.id, row.interaction_event, row.user_id, list(row.verifications or []), dict(row.profile or {})
        )

    async def save(self, conn: AsyncConnection, tenant_id: str, interaction: Interaction) -> None:
        await conn.execute(
            sa.update(interactions)
            .where(interactions.c.tenant_id == tenant_id, interactions.c.id == interaction.id)
            .values(
                interaction_event=interaction.interaction_event,
                user_id=interaction.user_id,
                verifications=interaction.verifications,
                profile=interaction.profile,
                updated_at=sa.func.now(),
            )
        )

    async def delete(self, conn: AsyncConnection, tenant_id: str, uid: str) -> None:
        await conn.execute(
            sa.delete(interactions).where(interactions.c.tenant_id == tenant_id, interactions.c.id == uid)
        )


class InteractionAccess:
    """What each Experience API use case starts from: the OIDC interaction of the browser's `_interaction`
    cookie (identity's, over RPC) and the Experience API's state stored for it."""

    engine: AsyncEngine
    rpc: RpcClient
    store: InteractionStore

    async def _details(self, cookie: str | None) -> InteractionDetails:
        """404 `session.not_found` without a cookie."""
        if not cookie:
            raise NotFound("session.not_found")
        return await self.rpc.call("identity", INTERACTION_GET, InteractionGet(cookie=cookie), InteractionDetails)

    async def _uid(self, cookie: str | None) -> str:
        return (await self._details(cookie)).uid

    async def _interaction(self, tenant_id: str, uid: str, *, lock: bool = False) -> Interaction:
        """404 `session.interaction_not_found` when the Experience API has not started one."""
        async with self.engine.connect() as conn:
            interaction = await self.store.get(conn, tenant_id, uid, lock=lock)
        if interaction is None:
            raise NotFound("session.interaction_not_found")
        return interaction

    async def _put_record(self, tenant_id: str, uid: str, record: dict[str, Any]) -> None:
        """Adds a verification record, replacing the interaction's earlier one of its type (one record per type,
        as Logto's verification records map)."""
        async with self.engine.begin() as conn:
            interaction = await self.store.get(conn, tenant_id, uid, lock=True)
            if interaction is None:
                raise NotFound("session.interaction_not_found")
            kept = [v for v in interaction.verifications if v.get("type") != record.get("type")]
            interaction.verifications = [*kept, record]
            await self.store.save(conn, tenant_id, interaction)
