"""Consumes management's deletions of API resource scopes to drop organization roles' links to them.

Runs as the durable consumer `organizations-resource-scopes`. `organization_role_resource_scope_relations`
holds management.scopes ids without a foreign key, so a deleted scope's links are removed here: on
`Scope.Deleted` the links to that scope; on `Resource.Deleted` (whose payload names the resource only, its
scopes already gone with it) every link to a scope that no longer exists. Both are idempotent. Each event is
handled in one transaction with its inbox row, and each role that lost links is announced as
`OrganizationRole.Scopes.Updated`.
"""

from gatehouse_platform.outbox import Outbox
from gatehouse_schema.events import (
    SYSTEM_ACTOR,
    CloudEvent,
    OrganizationRoleScopesUpdated,
    ResourceDeleted,
    ScopeDeleted,
)
from gatehouse_schema.queries.management import existing_scope_ids
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_organizations.persistence.organization_roles import OrganizationRoleStore

RESOURCE_SCOPES_CONSUMER = "organizations-resource-scopes"
CONSUMED_TYPES = (ScopeDeleted, ResourceDeleted)
CONSUMED_EVENT_TYPES = frozenset(t.event_type for t in CONSUMED_TYPES)


def consumed_subject(prefix: str) -> str:
    """Management's `*.Deleted` events (the consumer handles `CONSUMED_EVENT_TYPES` and acknowledges the others)."""
    return f"{prefix}.evt.*.management.*.Deleted"


class ResourceScopeLinks:
    """The consumer's handler; runs inside the transaction that records the event in the inbox."""

    def __init__(self, roles: OrganizationRoleStore, outbox: Outbox) -> None:
        self.roles = roles
        self.outbox = outbox

    async def __call__(self, conn: AsyncConnection, event: CloudEvent) -> None:
        tenant_id = event.tenantid
        if event.type == ScopeDeleted.event_type:
            gone = [event.decode_data(ScopeDeleted).data.id]
        elif event.type == ResourceDeleted.event_type:
            linked = await self.roles.linked_resource_scope_ids(conn, tenant_id)
            still = await existing_scope_ids(conn, tenant_id, linked)
            gone = [s for s in linked if s not in still]
        else:
            return
        for role_id, scope_ids in sorted((await self.roles.unlink_resource_scopes(conn, tenant_id, gone)).items()):
            update = OrganizationRoleScopesUpdated(
                organization_role_id=role_id, removed_resource_scope_ids=sorted(scope_ids)
            )
            await self.outbox.append(conn, update, tenant_id=tenant_id, actor=SYSTEM_ACTOR)
