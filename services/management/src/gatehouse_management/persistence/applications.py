"""SQL for applications and their secrets over the management schema's tables."""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
import sqlalchemy as sa
from gatehouse_platform.db import CompiledQuery
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.applications import Application, CustomClientMetadata, OidcClientMetadata
from gatehouse_schema.queries.management import application_from_row
from gatehouse_schema.tables.management import application_secrets, applications, applications_roles
from sqlalchemy.ext.asyncio import AsyncConnection


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


row_to_application = application_from_row  # one converter, shared with the organizations context


_COLUMNS = [c for c in applications.c if c.name != "secret"]
_JSON_AS_TEXT = {"oidc_client_metadata", "custom_client_metadata"}


def record_to_application(rec: asyncpg.Record) -> Application:
    """A row of the list query (its metadata columns as JSON text, decoded straight into the Structs)."""
    created_at: datetime = rec["created_at"]
    return Application(
        tenant_id=rec["tenant_id"],
        id=rec["id"],
        name=rec["name"],
        description=rec["description"],
        type=rec["type"],
        oidc_client_metadata=msgspec.json.decode(rec["oidc_client_metadata"], type=OidcClientMetadata),
        custom_client_metadata=msgspec.json.decode(rec["custom_client_metadata"], type=CustomClientMetadata),
        protected_app_metadata=rec["protected_app_metadata"],
        custom_data=rec["custom_data"],
        is_third_party=rec["is_third_party"],
        app_level_access_control_enabled=rec["app_level_access_control_enabled"],
        created_at=int(created_at.timestamp() * 1000),
    )


@dataclass(frozen=True)
class ApplicationFilter:
    types: Sequence[str] = ()
    is_third_party: bool | None = None
    exclude_role_id: str | None = None


@functools.cache
def list_query(*, types: bool, is_third_party: bool, exclude_role: bool, paged: bool) -> CompiledQuery:
    """The list statement of one filter shape, compiled once. Paged, it is one statement for the total and
    the page (one snapshot, one round trip): the total comes from an index-only count, the page from the
    `applications_created` index; an empty page still brings the total (a row of NULLs)."""
    conditions: list[Any] = [applications.c.tenant_id == sa.bindparam("tenant_id", type_=sa.String)]
    if types:
        conditions.append(applications.c.type == sa.any_(sa.bindparam("types", type_=sa.ARRAY(sa.String))))
    if is_third_party:
        conditions.append(applications.c.is_third_party == sa.bindparam("is_third_party", type_=sa.Boolean))
    if exclude_role:
        conditions.append(
            ~sa.exists().where(
                applications_roles.c.tenant_id == applications.c.tenant_id,
                applications_roles.c.application_id == applications.c.id,
                applications_roles.c.role_id == sa.bindparam("exclude_role_id", type_=sa.String),
            )
        )
    columns = [sa.cast(c, sa.Text).label(c.name) if c.name in _JSON_AS_TEXT else c for c in _COLUMNS]
    rows = sa.select(*columns).where(*conditions).order_by(applications.c.created_at.desc(), applications.c.id)
    if not paged:
        return CompiledQuery(rows)
    total = sa.select(sa.func.count().label("total")).select_from(applications).where(*conditions).subquery("total")
    page = rows.limit(sa.bindparam("limit", type_=sa.Integer)).offset(sa.bindparam("offset", type_=sa.Integer))
    page_rows = page.lateral("page")
    return CompiledQuery(sa.select(total.c.total, *page_rows.c).select_from(total.outerjoin(page_rows, sa.true())))


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
        self, conn: asyncpg.Connection, tenant_id: str, where: ApplicationFilter, page: Page | None
    ) -> tuple[int, list[Application]]:
        """Runs on a driver connection (`gatehouse_platform.db.read_connection`): one statement."""
        query = list_query(
            types=bool(where.types),
            is_third_party=where.is_third_party is not None,
            exclude_role=bool(where.exclude_role_id),
            paged=page is not None,
        )
        params: dict[str, Any] = {
            "tenant_id": tenant_id,
            "types": list(where.types),
            "is_third_party": where.is_third_party,
            "exclude_role_id": where.exclude_role_id,
        }
        if page is None:
            rows = await query.fetch(conn, params)
            return len(rows), [record_to_application(r) for r in rows]
        params["limit"], params["offset"] = page.limit, page.offset
        rows = await query.fetch(conn, params)
        total: int = rows[0]["total"]
        return total, [record_to_application(r) for r in rows if r["id"] is not None]

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
