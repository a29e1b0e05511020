"""SQL for custom phrases: one translation document per tenant and language tag."""

from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.management import custom_phrases
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

t = custom_phrases


class CustomPhraseStore:
    async def list(self, conn: AsyncConnection, tenant_id: str) -> list[Any]:
        return list(await conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id).order_by(t.c.language_tag)))

    async def get(self, conn: AsyncConnection, tenant_id: str, language_tag: str) -> Any | None:
        query = sa.select(t).where(t.c.tenant_id == tenant_id, t.c.language_tag == language_tag)
        return (await conn.execute(query)).one_or_none()

    async def exists(self, conn: AsyncConnection, tenant_id: str, language_tag: str) -> bool:
        return await self.get(conn, tenant_id, language_tag) is not None

    async def upsert(
        self, conn: AsyncConnection, tenant_id: str, language_tag: str, new_id: str, translation: dict[str, Any]
    ) -> Any:
        """Inserts with `new_id`, or replaces the translation of the existing row (which keeps its id)."""
        statement = insert(t).values(tenant_id=tenant_id, language_tag=language_tag, id=new_id, translation=translation)
        statement = statement.on_conflict_do_update(
            index_elements=[t.c.tenant_id, t.c.language_tag], set_={"translation": statement.excluded.translation}
        )
        return (await conn.execute(statement.returning(t))).one()

    async def delete(self, conn: AsyncConnection, tenant_id: str, language_tag: str) -> bool:
        result = await conn.execute(sa.delete(t).where(t.c.tenant_id == tenant_id, t.c.language_tag == language_tag))
        return bool(result.rowcount)
