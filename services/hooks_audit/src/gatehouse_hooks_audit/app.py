"""Wires the hooks_audit service: the audit-log consumer, webhooks (their routes and the delivery consumer),
the logs routes and the dashboard."""

from gatehouse_platform.config import load_settings
from gatehouse_platform.consumer import EventConsumer
from gatehouse_platform.guards import management_api_guard
from gatehouse_platform.service import ServiceContext, component, create_service_app
from litestar import Litestar, Router

from gatehouse_hooks_audit.api import dashboard, hooks, logs
from gatehouse_hooks_audit.config import HooksAuditSettings
from gatehouse_hooks_audit.delivery import WebhookSender
from gatehouse_hooks_audit.events.audit_log import AuditLogRecorder
from gatehouse_hooks_audit.events.webhooks import WEBHOOKS_CONSUMER, WebhookDispatcher, WebhookPlanner
from gatehouse_hooks_audit.hook_events import DELIVERED_EVENTS
from gatehouse_hooks_audit.persistence.hooks import HookStore
from gatehouse_hooks_audit.persistence.logs import LogStore
from gatehouse_hooks_audit.services.hooks import HookService

AUDIT_CONSUMER = "hooks_audit-audit-log"
COMPONENTS = ("hooks",)


async def setup(ctx: ServiceContext) -> None:
    s = ctx.settings
    audit = EventConsumer(
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
    await audit.ensure()
    ctx.spawn(audit.run(), AUDIT_CONSUMER)

    store, sender = HookStore(), WebhookSender()
    ctx.components["hooks"] = HookService(ctx.engine, store, sender)
    dispatcher = WebhookDispatcher(ctx.engine, sender, LogStore())
    webhooks = EventConsumer(
        js=ctx.js,
        engine=ctx.engine,
        stream=s.events_stream,
        inbox_schema="audit",
        durable=WEBHOOKS_CONSUMER,
        filter_subject=f"{s.subject_prefix}.evt.>",
        handler=WebhookPlanner(store),
        subject_prefix=s.subject_prefix,
        max_deliver=s.consumer_max_deliver,
        event_types=DELIVERED_EVENTS,
        after_commit=dispatcher.enqueue,
    )
    await webhooks.ensure()
    ctx.spawn(dispatcher.run(), f"{WEBHOOKS_CONSUMER}-senders")
    ctx.spawn(webhooks.run(), WEBHOOKS_CONSUMER)


def create_app(settings: HooksAuditSettings | None = None) -> Litestar:
    settings = settings or load_settings(HooksAuditSettings)
    management_api = Router(
        "/", route_handlers=[*hooks.ROUTES, *logs.ROUTES, *dashboard.ROUTES], guards=[management_api_guard]
    )
    return create_service_app(
        settings,
        route_handlers=[management_api],
        schema="audit",
        setup=setup,
        dependencies={name: component(name) for name in COMPONENTS},
        title="Gatehouse hooks and audit",
        description="Webhooks (Logto's hooks and their delivery), audit logs and the dashboard's user counts.",
    )
