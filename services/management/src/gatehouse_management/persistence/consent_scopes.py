"""SQL for the scopes a third-party application may ask users to consent to."""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.management import (
    application_user_consent_organization_scopes as org_t,
)
from gatehouse_schema.tables.management import (
    application_user_consent_resource_scopes as res_t,
)
from gatehouse_schema.tables.management import (
    application_user_consent_user_scopes as user_t,
)
from gatehouse_schema.tables.management import resources, scopes
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection


class ConsentScopeStore:
    async def add(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        app_id: str,
        *,
        organization_scope_ids: Sequence[str],
        resource_scope_ids: Sequence[str],
        organization_resource_scope_ids: Sequence[str],
        user_scopes: Sequence[str],
    ) -> None:
        """Idempotent: scopes already assigned stay as they are."""
        base = {"tenant_id": tenant_id, "application_id": app_id}
        if organization_scope_ids:
            await conn.execute(
                insert(org_t).on_conflict_do_nothing(),
                [{**base, "organization_scope_id": s} for s in organization_scope_ids],
            )
        rows = [{**base, "scope_id": s, "organization_context": False} for s in resource_scope_ids]
        rows += [{**base, "scope_id": s, "organization_context": True} for s in organization_resource_scope_ids]
        if rows:
            await conn.execute(insert(res_t).on_conflict_do_nothing(), rows)
        if user_scopes:
            await conn.execute(
                insert(user_t).on_conflict_do_nothing(), [{**base, "user_scope": s} for s in user_scopes]
            )

    async def remove(self, conn: AsyncConnection, tenant_id: str, app_id: str, scope_type: str, scope_id: str) -> bool:
        if scope_type == "organization-scopes":
            statement = sa.delete(org_t).where(
                org_t.c.tenant_id == tenant_id,
                org_t.c.application_id == app_id,
                org_t.c.organization_scope_id == scope_id,
            )
        elif scope_type in {"resource-scopes", "organization-resource-scopes"}:
            statement = sa.delete(res_t).where(
                res_t.c.tenant_id == tenant_id,
                res_t.c.application_id == app_id,
                res_t.c.scope_id == scope_id,
                res_t.c.organization_context.is_(scope_type == "organization-resource-scopes"),
            )
        else:
            statement = sa.delete(user_t).where(
                user_t.c.tenant_id == tenant_id, user_t.c.application_id == app_id, user_t.c.user_scope == scope_id
            )
        return bool((await conn.execute(statement)).rowcount)

    async def organization_scope_ids(self, conn: AsyncConnection, tenant_id: str, app_id: str) -> list[str]:
        rows = await conn.execute(
            sa.select(org_t.c.organization_scope_id)
            .where(org_t.c.tenant_id == tenant_id, org_t.c.application_id == app_id)
            .order_by(org_t.c.organization_scope_id)
        )
        return list(rows.scalars())

    async def resource_scopes(
        self, conn: AsyncConnection, tenant_id: str, app_id: str, organization_context: bool
    ) -> list[Any]:
        """Rows of (scope id, name, description, resource id, name, indicator)."""
        rows = await conn.execute(
            sa.select(
                scopes.c.id,
                scopes.c.name,
                scopes.c.description,
                resources.c.id.label("resource_id"),
                resources.c.name.label("resource_name"),
                resources.c.indicator,
            )
            .select_from(
                res_t.join(
                    scopes, sa.and_(scopes.c.tenant_id == res_t.c.tenant_id, scopes.c.id == res_t.c.scope_id)
                ).join(
                    resources,
                    sa.and_(resources.c.tenant_id == scopes.c.tenant_id, resources.c.id == scopes.c.resource_id),
                )
            )
            .where(
                res_t.c.tenant_id == tenant_id,
                res_t.c.application_id == app_id,
                res_t.c.organization_context.is_(organization_context),
            )
            .order_by(resources.c.name, scopes.c.name)
        )
        return list(rows)

    async def user_scopes(self, conn: AsyncConnection, tenant_id: str, app_id: str) -> list[str]:
        rows = await conn.execute(
            sa.select(user_t.c.user_scope)
            .where(user_t.c.tenant_id == tenant_id, user_t.c.application_id == app_id)
            .order_by(user_t.c.user_scope)
        )
        return list(rows.scalars())

    async def existing_resource_scopes(
        self, conn: AsyncConnection, tenant_id: str, ids: Sequence[str]
    ) -> dict[str, str]:
        """scope id -> resource indicator."""
        if not ids:
            return {}
        rows = await conn.execute(
            sa.select(scopes.c.id, resources.c.indicator)
            .join(
                resources, sa.and_(resources.c.tenant_id == scopes.c.tenant_id, resources.c.id == scopes.c.resource_id)
            )
            .where(scopes.c.tenant_id == tenant_id, scopes.c.id.in_(list(ids)))
        )
        return {r.id: r.indicator for r in rows}
