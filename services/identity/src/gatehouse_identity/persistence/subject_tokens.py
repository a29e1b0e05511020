"""SQL for subject tokens: short-lived, single-use tokens a token-exchange grant trades for a user's token."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.identity import subject_tokens
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class SubjectToken:
    id: str
    user_id: str
    context: dict[str, Any]
    creator_id: str | None
    expires_at: datetime


class SubjectTokenStore:
    """Every method runs on the caller's connection (its transaction)."""

    async def insert(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        token_id: str,
        user_id: str,
        context: dict[str, Any],
        creator_id: str | None,
        expires_at: datetime,
    ) -> None:
        await conn.execute(
            sa.insert(subject_tokens).values(
                tenant_id=tenant_id,
                id=token_id,
                user_id=user_id,
                context=context,
                creator_id=creator_id,
                expires_at=expires_at,
            )
        )

    async def consume(self, conn: AsyncConnection, tenant_id: str, token_id: str) -> SubjectToken | None:
        """Marks an unexpired, unused token used and returns it; `None` if it is unknown, expired or spent.
        One statement, so two concurrent exchanges of the same token cannot both succeed."""
        c = subject_tokens.c
        row = (
            await conn.execute(
                sa.update(subject_tokens)
                .where(
                    c.tenant_id == tenant_id,
                    c.id == token_id,
                    c.consumed_at.is_(None),
                    c.expires_at > sa.func.now(),
                )
                .values(consumed_at=sa.func.now())
                .returning(c.id, c.user_id, c.context, c.creator_id, c.expires_at)
            )
        ).one_or_none()
        return None if row is None else SubjectToken(row.id, row.user_id, row.context, row.creator_id, row.expires_at)
