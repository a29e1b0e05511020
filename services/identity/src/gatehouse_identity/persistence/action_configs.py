"""SQL for Logto's Actions configs: one `identity.oidc_configs` row per action type, keyed by the type
(`action.postFirstFactorVerification`, `action.postSignIn`), the value stored as given."""

from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.identity import oidc_configs
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

POST_FIRST_FACTOR_VERIFICATION = "action.postFirstFactorVerification"
POST_SIGN_IN = "action.postSignIn"
ACTION_TYPES = (POST_FIRST_FACTOR_VERIFICATION, POST_SIGN_IN)  # Logto's listing order


class ActionConfigStore:
    async def get(
        self, conn: AsyncConnection, tenant_id: str, key: str, *, lock: bool = False
    ) -> dict[str, Any] | None:
        query = sa.select(oidc_configs.c.value).where(oidc_configs.c.tenant_id == tenant_id, oidc_configs.c.key == key)
        if lock:
            query = query.with_for_update()
        value = (await conn.execute(query)).scalar_one_or_none()
        return None if value is None else dict(value)

    async def all(self, conn: AsyncConnection, tenant_id: str) -> dict[str, dict[str, Any]]:
        query = sa.select(oidc_configs.c.key, oidc_configs.c.value).where(
            oidc_configs.c.tenant_id == tenant_id, oidc_configs.c.key.in_(ACTION_TYPES)
        )
        return {row.key: dict(row.value) for row in await conn.execute(query)}

    async def put(self, conn: AsyncConnection, tenant_id: str, key: str, value: dict[str, Any]) -> bool:
        """Stores `value` whole; True when there was none before."""
        statement = insert(oidc_configs).values(tenant_id=tenant_id, key=key, value=value, updated_at=sa.func.now())
        statement = statement.on_conflict_do_update(
            index_elements=[oidc_configs.c.tenant_id, oidc_configs.c.key],
            set_={"value": statement.excluded.value, "updated_at": sa.func.now()},
        )
        inserted: bool = (await conn.execute(statement.returning(sa.literal_column("xmax = 0")))).scalar_one()
        return bool(inserted)

    async def delete(self, conn: AsyncConnection, tenant_id: str, key: str) -> bool:
        result = await conn.execute(
            sa.delete(oidc_configs).where(oidc_configs.c.tenant_id == tenant_id, oidc_configs.c.key == key)
        )
        return bool(result.rowcount)
