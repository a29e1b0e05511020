"""Request bodies and answers of the Hooks routes."""

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from gatehouse_hooks_audit.hook_events import HookEvent

HookName = Annotated[str, Meta(min_length=1, max_length=256)]
TenantId = Annotated[str, Meta(max_length=21)]
HookEvents = Annotated[list[HookEvent], Meta(min_length=1)]  # Logto's `nonempty()`, deduplicated after


class HookConfig(msgspec.Struct, kw_only=True, omit_defaults=True):
    url: str
    headers: dict[str, str] | UnsetType = UNSET
    # Deprecated in Logto ("fixed to 3") but still read as the number of retries of a 5xx answer.
    retries: Annotated[int, Meta(ge=0)] | Annotated[float, Meta(ge=0)] | UnsetType = UNSET

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = msgspec.to_builtins(self)
        return out


class CreateHook(msgspec.Struct, kw_only=True, rename="camel"):
    config: HookConfig
    name: HookName | UnsetType = UNSET
    event: HookEvent | UnsetType = UNSET  # deprecated: use `events`
    events: HookEvents | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    created_at: Annotated[float, Meta(ge=0)] | UnsetType = UNSET
    tenant_id: TenantId | UnsetType = UNSET  # accepted and ignored, as Logto does: the tenant comes from the request


class UpdateHook(msgspec.Struct, kw_only=True, rename="camel"):
    name: HookName | UnsetType = UNSET
    event: HookEvent | UnsetType | None = UNSET
    events: HookEvents | UnsetType = UNSET
    config: HookConfig | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    created_at: Annotated[float, Meta(ge=0)] | UnsetType = UNSET
    tenant_id: TenantId | UnsetType = UNSET


class HookTestBody(msgspec.Struct, kw_only=True):
    events: HookEvents
    config: HookConfig
    event: Any = UNSET  # deprecated, ignored


class ExecutionStats(msgspec.Struct, rename="camel"):
    success_count: int
    request_count: int


class Hook(msgspec.Struct, kw_only=True, rename="camel"):
    """Logto's hook, signing key included (as Logto returns it)."""

    tenant_id: str
    id: str
    name: str
    event: str | None
    events: list[str]
    config: dict[str, Any]
    signing_key: str
    enabled: bool
    created_at: int
    execution_stats: ExecutionStats | UnsetType = UNSET


class HookLog(msgspec.Struct, rename="camel"):
    """An execution log as `recent-logs` lists it (Logto's log without `tenantId`)."""

    id: str
    key: str
    payload: dict[str, Any]
    created_at: int
