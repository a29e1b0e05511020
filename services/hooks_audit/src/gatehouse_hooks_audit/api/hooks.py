"""Routes of the Hooks group (operation ids are Logto's)."""

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from gatehouse_platform.errors import BadRequest
from gatehouse_platform.pagination import TOTAL_NUMBER_HEADER, parse_page
from gatehouse_platform.query import paged, truthy
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, Response, delete, get, patch, post
from litestar.params import Body, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from gatehouse_hooks_audit.api.hook_bodies import CreateHook, Hook, HookLog, HookTestBody, UpdateHook
from gatehouse_hooks_audit.services.hooks import HookService, RecentLogsQuery

TAGS = ["Hooks"]
AnyRequest = Request[Any, Any, Any]
LOG_COUNT_CAP = 10_000  # `enableCap=true`: beyond this, `Total-Number` is 10001 and marked as capped
CAPPED_HEADER = "Total-Number-Is-Capped"

IncludeStats = Annotated[
    str | None, Parameter(query="includeExecutionStats", description="Whether to include execution stats.")
]


def _ms_time(value: str | None, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        ms = float(value)
        if not math.isfinite(ms):
            raise ValueError(value)
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise BadRequest(
            "guard.invalid_input", f"The request query is invalid: `{name}` must be a timestamp in ms."
        ) from None


@get("/api/hooks", operation_id="ListHooks", tags=TAGS, summary="Get hooks")
async def list_hooks(
    request: AnyRequest,
    hooks: HookService,
    include_execution_stats: IncludeStats = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[Hook]]:
    """Every hook when no page is asked for (Logto's pagination is optional here)."""
    paging = parse_page(page, page_size, optional=True)
    total, items = await hooks.search(tenant_of(request), paging, with_stats=truthy(include_execution_stats))
    return paged(items, total, paging)


@post("/api/hooks", operation_id="CreateHook", tags=TAGS, status_code=HTTP_201_CREATED, summary="Create a hook")
async def create_hook(request: AnyRequest, hooks: HookService, data: Annotated[CreateHook, Body()]) -> Hook:
    return await hooks.create(tenant_of(request), data)


@get("/api/hooks/{id:str}", operation_id="GetHook", tags=TAGS, summary="Get hook")
async def get_hook(
    request: AnyRequest, hooks: HookService, id: str, include_execution_stats: IncludeStats = None
) -> Hook:
    # Logto checks this one for presence, not for `yes()`: any non-empty value includes the stats
    return await hooks.get(tenant_of(request), id, with_stats=bool(include_execution_stats))


@patch("/api/hooks/{id:str}", operation_id="UpdateHook", tags=TAGS, summary="Update hook")
async def update_hook(request: AnyRequest, hooks: HookService, id: str, data: Annotated[UpdateHook, Body()]) -> Hook:
    return await hooks.update(tenant_of(request), id, data)


@delete(
    "/api/hooks/{id:str}", operation_id="DeleteHook", tags=TAGS, status_code=HTTP_204_NO_CONTENT, summary="Delete hook"
)
async def delete_hook(request: AnyRequest, hooks: HookService, id: str) -> None:
    await hooks.delete(tenant_of(request), id)


@get(
    "/api/hooks/{id:str}/recent-logs",
    operation_id="ListHookRecentLogs",
    tags=TAGS,
    summary="Get recent logs for a hook",
)
async def list_hook_recent_logs(
    request: AnyRequest,
    hooks: HookService,
    id: str,
    log_key: Annotated[str | None, Parameter(query="logKey")] = None,
    enable_cap: Annotated[str | None, Parameter(query="enableCap")] = None,
    start_time: str | None = None,
    end_time: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[HookLog]]:
    paging = parse_page(page, page_size)
    assert paging is not None
    start, end = _ms_time(start_time, "start_time"), _ms_time(end_time, "end_time")
    if start is not None and end is not None and start > end:
        raise BadRequest("guard.invalid_input", "The request query is invalid: `start_time` is after `end_time`.")
    total, items = await hooks.recent_logs(tenant_of(request), id, RecentLogsQuery(log_key or None, start, end), paging)
    headers = {TOTAL_NUMBER_HEADER: str(total)}
    if enable_cap == "true" and total > LOG_COUNT_CAP:
        headers = {TOTAL_NUMBER_HEADER: str(LOG_COUNT_CAP + 1), CAPPED_HEADER: "true"}
    return Response(items, headers=headers)


@post(
    "/api/hooks/{id:str}/test",
    operation_id="CreateHookTest",
    tags=TAGS,
    status_code=HTTP_204_NO_CONTENT,
    summary="Test hook",
)
async def create_hook_test(
    request: AnyRequest, hooks: HookService, id: str, data: Annotated[HookTestBody, Body()]
) -> None:
    await hooks.send_test(tenant_of(request), id, data)


@patch(
    "/api/hooks/{id:str}/signing-key",
    operation_id="UpdateHookSigningKey",
    tags=TAGS,
    summary="Update signing key for a hook",
)
async def update_hook_signing_key(request: AnyRequest, hooks: HookService, id: str) -> Hook:
    return await hooks.rotate_signing_key(tenant_of(request), id)


ROUTES = [
    list_hooks,
    create_hook,
    get_hook,
    update_hook,
    delete_hook,
    list_hook_recent_logs,
    create_hook_test,
    update_hook_signing_key,
]
