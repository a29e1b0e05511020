"""Hook use cases (Logto's `routes/hook.ts`). Each command is one transaction; Logto has no hook events
for hooks themselves, so none is published."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gatehouse_platform.errors import BadRequest, NotFound, Unprocessable, render_message
from gatehouse_platform.pagination import Page
from gatehouse_schema.ids import generate_id, generate_secret
from msgspec import UNSET
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_hooks_audit.api.hook_bodies import CreateHook, Hook, HookLog, HookTestBody, UpdateHook
from gatehouse_hooks_audit.delivery import EndpointError, EndpointNotAllowed, WebhookSender, describe
from gatehouse_hooks_audit.hook_events import ADAPTIVE_MFA_EVENT
from gatehouse_hooks_audit.persistence.hooks import HookLogFilter, HookStore
from gatehouse_hooks_audit.sample_payloads import hook_test_payload

RECENT = timedelta(days=1)  # recent logs and execution stats cover the last 24 hours


def _unique(events: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(events))


def _refuse_adaptive_mfa(events: Any, event: Any = None) -> None:
    if event == ADAPTIVE_MFA_EVENT or (isinstance(events, list) and ADAPTIVE_MFA_EVENT in events):
        raise BadRequest(
            "guard.invalid_input",
            data={"reason": "hook.event_not_supported_when_dev_features_disabled", "event": ADAPTIVE_MFA_EVENT},
            type="body",
        )


def _time(ms: float) -> datetime:
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError):
        raise BadRequest("guard.invalid_input", type="body") from None


@dataclass(frozen=True)
class RecentLogsQuery:
    log_key: str | None
    start: datetime | None
    end: datetime | None


class HookService:
    def __init__(self, engine: AsyncEngine, hooks: HookStore, sender: WebhookSender) -> None:
        self.engine = engine
        self.hooks = hooks
        self.sender = sender

    async def _stats(self, tenant_id: str, items: list[Hook]) -> list[Hook]:
        async with self.engine.connect() as conn:
            stats = await self.hooks.execution_stats(conn, tenant_id, [h.id for h in items], datetime.now(UTC) - RECENT)
        for hook in items:
            hook.execution_stats = stats[hook.id]
        return items

    async def create(self, tenant_id: str, body: CreateHook) -> Hook:
        _refuse_adaptive_mfa(body.events, body.event)
        if body.events is UNSET and body.event is UNSET:
            raise BadRequest("hook.missing_events")
        values: dict[str, Any] = {
            "tenant_id": tenant_id,
            "id": generate_id(),
            "name": body.name if body.name is not UNSET else "",
            "event": body.event if body.event is not UNSET else None,
            "events": _unique(body.events) if body.events is not UNSET else [],
            "config": body.config.to_json(),
            "signing_key": generate_secret(),
            "enabled": body.enabled if body.enabled is not UNSET else True,
        }
        if body.created_at is not UNSET:
            values["created_at"] = _time(body.created_at)
        async with self.engine.begin() as conn:
            return await self.hooks.insert(conn, values)

    async def get(self, tenant_id: str, hook_id: str, *, with_stats: bool = False) -> Hook:
        async with self.engine.connect() as conn:
            hook = await self.hooks.get(conn, tenant_id, hook_id)
        if hook is None:
            raise NotFound("entity.not_exists_with_id", name="hook", id=hook_id)
        return (await self._stats(tenant_id, [hook]))[0] if with_stats else hook

    async def search(self, tenant_id: str, page: Page | None, *, with_stats: bool = False) -> tuple[int, list[Hook]]:
        async with self.engine.connect() as conn:
            total, items = await self.hooks.search(conn, tenant_id, page)
        return total, (await self._stats(tenant_id, items) if with_stats else items)

    async def update(self, tenant_id: str, hook_id: str, body: UpdateHook) -> Hook:
        _refuse_adaptive_mfa(body.events, body.event)
        values: dict[str, Any] = {}
        for name in ("name", "event", "enabled"):
            if getattr(body, name) is not UNSET:
                values[name] = getattr(body, name)
        if body.events is not UNSET:
            values["events"] = _unique(body.events)
        if body.config is not UNSET:
            values["config"] = body.config.to_json()  # replaced whole, as Logto's `jsonbMode: 'replace'`
        if body.created_at is not UNSET:
            values["created_at"] = _time(body.created_at)
        async with self.engine.begin() as conn:
            hook = (
                await self.hooks.update(conn, tenant_id, hook_id, values)
                if values
                else await self.hooks.get(conn, tenant_id, hook_id)
            )
        if hook is None:
            raise NotFound("entity.not_exists_with_id", name="hook", id=hook_id)
        return hook

    async def rotate_signing_key(self, tenant_id: str, hook_id: str) -> Hook:
        async with self.engine.begin() as conn:
            hook = await self.hooks.update(conn, tenant_id, hook_id, {"signing_key": generate_secret()})
        if hook is None:
            raise NotFound("entity.not_exists_with_id", name="hook", id=hook_id)
        return hook

    async def delete(self, tenant_id: str, hook_id: str) -> None:
        async with self.engine.begin() as conn:
            deleted = await self.hooks.delete(conn, tenant_id, hook_id)
        if not deleted:
            raise NotFound("entity.not_exists_with_id", name="hook", id=hook_id)

    async def send_test(self, tenant_id: str, hook_id: str, body: HookTestBody) -> None:
        """Logto's `triggerTestHook`: a sample payload per event, to the given config, signed with the hook's
        key, all at once. No execution log is recorded."""
        _refuse_adaptive_mfa(body.events)
        hook = await self.get(tenant_id, hook_id)
        config = body.config.to_json()
        sends = [
            self.sender.post(config, hook_test_payload(hook_id, e), hook.signing_key) for e in _unique(body.events)
        ]
        try:
            await asyncio.gather(*sends)
        except EndpointError as exc:
            raise Unprocessable(
                "hook.endpoint_responded_with_error",
                data={"responseStatus": exc.answer.status, "responseBody": exc.answer.text},
            ) from None
        except EndpointNotAllowed:
            raise Unprocessable("hook.endpoint_not_allowed") from None
        except Exception as exc:
            code = "hook.send_test_payload_failed"
            raise Unprocessable(code, render_message(code, {"message": describe(exc)})) from None

    async def recent_logs(
        self, tenant_id: str, hook_id: str, query: RecentLogsQuery, page: Page
    ) -> tuple[int, list[HookLog]]:
        """The hook's execution logs of the last 24 hours, unless `start_time` or `end_time` sets the window."""
        custom = query.start is not None or query.end is not None
        where = HookLogFilter(
            hook_id=hook_id,
            log_key=query.log_key,
            start_exclusive=None if custom else datetime.now(UTC) - RECENT,
            start=query.start,
            end=query.end,
        )
        async with self.engine.connect() as conn:
            return await self.hooks.recent_logs(conn, tenant_id, where, page)
