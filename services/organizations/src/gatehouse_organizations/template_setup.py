"""Components of the organization template (roles and scopes), and the consumer that drops roles' links to the
API resource scopes management deletes."""

from gatehouse_platform.consumer import EventConsumer
from gatehouse_platform.service import ServiceContext

from gatehouse_organizations.events.resource_scopes import (
    CONSUMED_EVENT_TYPES,
    RESOURCE_SCOPES_CONSUMER,
    ResourceScopeLinks,
    consumed_subject,
)
from gatehouse_organizations.persistence.organization_roles import OrganizationRoleStore
from gatehouse_organizations.persistence.organization_scopes import OrganizationScopeStore
from gatehouse_organizations.services.organization_roles import OrganizationRoleService
from gatehouse_organizations.services.organization_scopes import OrganizationScopeService

COMPONENTS: tuple[str, ...] = ("organization_scopes", "organization_roles")


async def setup(ctx: ServiceContext) -> None:
    assert ctx.outbox is not None
    roles, scopes = OrganizationRoleStore(), OrganizationScopeStore()
    ctx.components["organization_scopes"] = OrganizationScopeService(ctx.engine, scopes, ctx.outbox)
    ctx.components["organization_roles"] = OrganizationRoleService(ctx.engine, roles, scopes, ctx.outbox)
    s = ctx.settings
    consumer = EventConsumer(
        js=ctx.js,
        engine=ctx.engine,
        stream=s.events_stream,
        inbox_schema="organizations",
        durable=RESOURCE_SCOPES_CONSUMER,
        filter_subject=consumed_subject(s.subject_prefix),
        handler=ResourceScopeLinks(roles, ctx.outbox),
        subject_prefix=s.subject_prefix,
        max_deliver=s.consumer_max_deliver,
        event_types=CONSUMED_EVENT_TYPES,
    )
    await consumer.ensure()
    ctx.spawn(consumer.run(), RESOURCE_SCOPES_CONSUMER)
