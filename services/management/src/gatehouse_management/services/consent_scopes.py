"""The scopes a third-party application may ask users to consent to (Logto's user consent scopes)."""

from typing import Any

from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.api.applications import Application
from gatehouse_schema.contexts import management_resource_indicator
from gatehouse_schema.events import Actor, ApplicationDataUpdated
from gatehouse_schema.queries.organizations import organization_scopes_by_id
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_management.api.consent_bodies import (
    AssignConsentScopes,
    ConsentScopes,
    ResourceScopes,
    ResourceSummary,
    ScopeSummary,
)
from gatehouse_management.persistence.applications import ApplicationStore
from gatehouse_management.persistence.consent_scopes import ConsentScopeStore


def _group(rows: list[Any]) -> list[ResourceScopes]:
    groups: dict[str, ResourceScopes] = {}
    for row in rows:
        group = groups.setdefault(
            row.resource_id, ResourceScopes(ResourceSummary(row.resource_id, row.resource_name, row.indicator), [])
        )
        group.scopes.append(ScopeSummary(row.id, row.name, row.description))
    return list(groups.values())


class ConsentScopeService:
    def __init__(
        self, engine: AsyncEngine, applications: ApplicationStore, store: ConsentScopeStore, outbox: Outbox
    ) -> None:
        self.engine = engine
        self.applications = applications
        self.store = store
        self.outbox = outbox

    async def _app(self, conn: AsyncConnection, tenant_id: str, app_id: str, *, lock: bool = False) -> Application:
        app = await self.applications.get(conn, tenant_id, app_id, lock=lock)
        if app is None:
            raise NotFound("entity.not_exists_with_id", name="application", id=app_id)
        return app

    async def assign(self, tenant_id: str, app_id: str, body: AssignConsentScopes, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            app = await self._app(conn, tenant_id, app_id, lock=True)
            if not app.is_third_party:
                raise BadRequest("application.third_party_application_only")
            org_scopes = await organization_scopes_by_id(conn, tenant_id, body.organization_scopes)
            resource_ids = [*body.resource_scopes, *body.organization_resource_scopes]
            found = await self.store.existing_resource_scopes(conn, tenant_id, resource_ids)
            if any(s not in org_scopes for s in body.organization_scopes) or any(s not in found for s in resource_ids):
                raise Unprocessable("application.user_consent_scopes_not_found")
            if management_resource_indicator(tenant_id) in found.values():
                raise Unprocessable("application.consent_management_api_scopes_not_allowed")
            await self.store.add(
                conn,
                tenant_id,
                app_id,
                organization_scope_ids=body.organization_scopes,
                resource_scope_ids=body.resource_scopes,
                organization_resource_scope_ids=body.organization_resource_scopes,
                user_scopes=body.user_scopes,
            )
            await self.outbox.append(
                conn, ApplicationDataUpdated(data=app, changed=["userConsentScopes"]), tenant_id=tenant_id, actor=actor
            )

    async def list_scopes(self, tenant_id: str, app_id: str) -> ConsentScopes:
        async with self.engine.connect() as conn:
            await self._app(conn, tenant_id, app_id)
            org_ids = await self.store.organization_scope_ids(conn, tenant_id, app_id)
            org_rows = await organization_scopes_by_id(conn, tenant_id, org_ids)
            return ConsentScopes(
                organization_scopes=[
                    ScopeSummary(r.id, r.name, r.description) for i in org_ids if (r := org_rows.get(i)) is not None
                ],
                resource_scopes=_group(await self.store.resource_scopes(conn, tenant_id, app_id, False)),
                organization_resource_scopes=_group(await self.store.resource_scopes(conn, tenant_id, app_id, True)),
                user_scopes=await self.store.user_scopes(conn, tenant_id, app_id),
            )

    async def remove(self, tenant_id: str, app_id: str, scope_type: str, scope_id: str, actor: Actor | None) -> None:
        async with self.engine.begin() as conn:
            app = await self._app(conn, tenant_id, app_id, lock=True)
            if not await self.store.remove(conn, tenant_id, app_id, scope_type, scope_id):
                raise NotFound("entity.not_exists_with_id", name="scope", id=scope_id)
            await self.outbox.append(
                conn, ApplicationDataUpdated(data=app, changed=["userConsentScopes"]), tenant_id=tenant_id, actor=actor
            )
