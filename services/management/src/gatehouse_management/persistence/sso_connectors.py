"""SQL for the tenant's enterprise SSO connectors (Logto's `sso_connectors`) and the SP signing keys of the SAML
ones (`saml_sso_connector_signing_keys`)."""

from typing import Any

import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.tables.management import saml_sso_connector_signing_keys, sso_connectors
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_management.persistence.paging import fetch_page

t = sso_connectors
k = saml_sso_connector_signing_keys


class SsoConnectorStore:
    async def lock(self, conn: AsyncConnection, tenant_id: str) -> None:
        """Holds the tenant's connector names until the transaction ends: a write checks that its name is free."""
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("sso_connectors:" + tenant_id))))

    async def page(self, conn: AsyncConnection, tenant_id: str, page: Page | None) -> tuple[int, list[Any]]:
        where = [t.c.tenant_id == tenant_id]
        query = sa.select(t).where(*where).order_by(t.c.created_at, t.c.id)
        return await fetch_page(conn, query, t, where, page, lambda row: row)

    async def get(self, conn: AsyncConnection, tenant_id: str, id: str, *, lock: bool = False) -> Any | None:
        """The connector; `lock` holds its row (its config and signing keys) until the transaction ends."""
        query = sa.select(t).where(t.c.tenant_id == tenant_id, t.c.id == id)
        return (await conn.execute(query.with_for_update() if lock else query)).one_or_none()

    async def named(self, conn: AsyncConnection, tenant_id: str, connector_name: str) -> Any | None:
        query = sa.select(t.c.id).where(t.c.tenant_id == tenant_id, t.c.connector_name == connector_name)
        return (await conn.execute(query)).one_or_none()

    async def insert(self, conn: AsyncConnection, tenant_id: str, values: dict[str, Any]) -> Any:
        return (await conn.execute(sa.insert(t).values(tenant_id=tenant_id, **values).returning(t))).one()

    async def update(self, conn: AsyncConnection, tenant_id: str, id: str, values: dict[str, Any]) -> Any:
        statement = sa.update(t).where(t.c.tenant_id == tenant_id, t.c.id == id).values(**values).returning(t)
        return (await conn.execute(statement)).one()

    async def delete(self, conn: AsyncConnection, tenant_id: str, id: str) -> Any | None:
        """Deletes the connector and (foreign key) its signing keys."""
        statement = sa.delete(t).where(t.c.tenant_id == tenant_id, t.c.id == id).returning(t)
        return (await conn.execute(statement)).one_or_none()


class SamlSigningKeyStore:
    """A connector's keys; callers hold the connector's row lock, so at most one key is active at any time."""

    def _of(self, tenant_id: str, connector_id: str) -> list[Any]:
        return [k.c.tenant_id == tenant_id, k.c.sso_connector_id == connector_id]

    async def all(self, conn: AsyncConnection, tenant_id: str, connector_id: str) -> list[Any]:
        query = sa.select(k).where(*self._of(tenant_id, connector_id)).order_by(k.c.created_at, k.c.id)
        return list(await conn.execute(query))

    async def get(self, conn: AsyncConnection, tenant_id: str, connector_id: str, id: str) -> Any | None:
        query = sa.select(k).where(*self._of(tenant_id, connector_id), k.c.id == id)
        return (await conn.execute(query)).one_or_none()

    async def has_active(self, conn: AsyncConnection, tenant_id: str, connector_id: str) -> bool:
        query = sa.select(k.c.id).where(*self._of(tenant_id, connector_id), k.c.active)
        return (await conn.execute(query)).first() is not None

    async def deactivate_all(self, conn: AsyncConnection, tenant_id: str, connector_id: str) -> None:
        statement = sa.update(k).where(*self._of(tenant_id, connector_id), k.c.active).values(active=False)
        await conn.execute(statement)

    async def insert(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        connector_id: str,
        values: dict[str, Any],
    ) -> Any:
        statement = sa.insert(k).values(tenant_id=tenant_id, sso_connector_id=connector_id, **values).returning(k)
        return (await conn.execute(statement)).one()

    async def set_active(self, conn: AsyncConnection, tenant_id: str, connector_id: str, id: str, active: bool) -> Any:
        statement = (
            sa.update(k).where(*self._of(tenant_id, connector_id), k.c.id == id).values(active=active).returning(k)
        )
        return (await conn.execute(statement)).one()

    async def delete(self, conn: AsyncConnection, tenant_id: str, connector_id: str, id: str) -> None:
        await conn.execute(sa.delete(k).where(*self._of(tenant_id, connector_id), k.c.id == id))
