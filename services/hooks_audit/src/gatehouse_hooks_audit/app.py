"""Wires the hooks_audit service: the audit-log consumer and the logs routes."""

from gatehouse_platform.config import load_settings
from gatehouse_platform.consumer import EventConsumer
from gatehouse_platform.guards import management_api_guard
from gatehouse_platform.service import ServiceContext, create_service_app
from litestar import Litestar, Router

from gatehouse_hooks_audit.api import logs
from gatehouse_hooks_audit.config import HooksAuditSettings
from gatehouse_hooks_audit.events.audit_log import AuditLogRecorder
from gatehouse_hooks_audit.persistence.logs import LogStore

AUDIT_CONSUMER = "hooks_audit-audit-log"


async def setup(ctx: ServiceContext) -> None:
    s = ctx.settings
    consumer = EventConsumer(
        js=ctx.js,
        engine=ctx.engine,
        stream=s.events_stream,
        inbox_schema="audit",
        durable=AUDIT_CONSUMER,
        filter_subject=f"{s.subject_prefix}.evt.>",
        handler=AuditLogRecorder(LogStore()),
        subject_prefix=s.subject_prefix,
        max_deliver=s.consumer_max_deliver,
    )
    await consumer.ensure()
    ctx.spawn(consumer.run(), AUDIT_CONSUMER)


def create_app(settings: HooksAuditSettings | None = None) -> Litestar:
    settings = settings or load_settings(HooksAuditSettings)
    management_api = Router("/", route_handlers=logs.ROUTES, guards=[management_api_guard])
    return create_service_app(
        settings,
        route_handlers=[management_api],
        schema="audit",
        setup=setup,
        title="Gatehouse hooks and audit",
        description="Audit logs (webhooks and dashboard come with later releases).",
    )
