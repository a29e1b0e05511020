"""SQL for applications and their secrets over the management schema's tables."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.applications import Application, CustomClientMetadata, OidcClientMetadata
from gatehouse_schema.tables.management import application_secrets, applications, applications_roles
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_management.persistence.paging import fetch_page


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def row_to_application(row: Any) -> Application:
    return Application(
        tenant_id=row.tenant_id,
        id=row.id,
        name=row.name,
        description=row.description,
        type=row.type,
        oidc_client_metadata=msgspec.convert(row.oidc_client_metadata, OidcClientMetadata),
        custom_client_metadata=msgspec.convert(row.custom_client_metadata, CustomClientMetadata),
        protected_app_metadata=row.protected_app_metadata,
        custom_data=row.custom_data,
        is_third_party=row.is_third_party,
        app_level_access_control_enabled=row.app_level_access_control_enabled,
        created_at=_ms(row.created_at) or 0,
    )


_COLUMNS = [c for c in applications.c if c.name != "secret"]


@dataclass(frozen=True)
class ApplicationFilter:
    types: Sequence[str] = ()
    is_third_party: bool | None = None
    exclude_role_id: str | None = None


class SecretRow(msgspec.Struct, rename="camel"):
    tenant_id: str
    application_id: str
    name: str
    value: str
    created_at: int
    expires_at: int | None


class ApplicationStore:
    """Applications of one tenant; every method runs on the caller's connection (its transaction)."""

    async def insert(self, conn: AsyncConnection, values: dict[str, Any]) -> Application:
        row = (await conn.execute(sa.insert(applications).values(**values).returning(*_COLUMNS))).one()
        return row_to_application(row)

    async def get(
        self, conn: AsyncConnection, tenant_id: str, app_id: str, *, lock: bool = False
    ) -> Application | None:
        query = sa.select(*_COLUMNS).where(applications.c.tenant_id == tenant_id, applications.c.id == app_id)
        if lock:
            query = query.with_for_update()
        row = (await conn.execute(query)).one_or_none()
        return None if row is None else row_to_application(row)

    async def search(
        self, conn: AsyncConnection, tenant_id: str, where: ApplicationFilter, page: Page | None
    ) -> tuple[int, list[Application]]:
        conditions = [applications.c.tenant_id == tenant_id]
        if where.types:
            conditions.append(applications.c.type.in_(list(where.types)))
        if where.is_third_party is not None:
            conditions.append(applications.c.is_third_party.is_(where.is_third_party))
        if where.exclude_role_id:
            conditions.append(
                ~sa.exists().where(
                    applications_roles.c.tenant_id == applications.c.tenant_id,
                    applications_roles.c.application_id == applications.c.id,
                    applications_roles.c.role_id == where.exclude_role_id,
                )
            )
        query = sa.select(*_COLUMNS).where(*conditions).order_by(applications.c.created_at.desc(), applications.c.id)
        return await fetch_page(conn, query, applications, conditions, page, row_to_application)

    async def update(self, conn: AsyncConnection, tenant_id: str, app_id: str, values: dict[str, Any]) -> Application:
        row = (
            await conn.execute(
                sa.update(applications)
                .where(applications.c.tenant_id == tenant_id, applications.c.id == app_id)
                .values(**values)
                .returning(*_COLUMNS)
            )
        ).one()
        return row_to_application(row)

    async def delete(self, conn: AsyncConnection, tenant_id: str, app_id: str) -> None:
        await conn.execute(
            sa.delete(applications).where(applications.c.tenant_id == tenant_id, applications.c.id == app_id)
        )

    async def insert_secret(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        app_id: str,
        name: str,
        value: str,
        expires_at: datetime | None,
    ) -> None:
        await conn.execute(
            sa.insert(application_secrets).values(
                tenant_id=tenant_id, application_id=app_id, name=name, value=value, expires_at=expires_at
            )
        )

    async def list_secrets(self, conn: AsyncConnection, tenant_id: str, app_id: str) -> list[SecretRow]:
        rows = await conn.execute(
            sa.select(application_secrets)
            .where(application_secrets.c.tenant_id == tenant_id, application_secrets.c.application_id == app_id)
            .order_by(application_secrets.c.created_at)
        )
        return [
            SecretRow(r.tenant_id, r.application_id, r.name, r.value, _ms(r.created_at) or 0, _ms(r.expires_at))
            for r in rows
        ]
