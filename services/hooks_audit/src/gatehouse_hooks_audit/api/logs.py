"""Routes of the Audit logs group."""

from datetime import UTC, datetime
from typing import Annotated, Any

from gatehouse_platform.errors import BadRequest, NotFound
from gatehouse_platform.pagination import TOTAL_NUMBER_HEADER, parse_page
from gatehouse_platform.service import ServiceContext
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, Response, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_hooks_audit.persistence.logs import Log, LogFilter, LogStore

TAGS = ["Audit logs"]
_store = LogStore()


def _time(value: str | None, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (ValueError, OverflowError):
        raise BadRequest(
            "guard.invalid_input", f"The request query is invalid: `{name}` must be a timestamp in ms."
        ) from None


@get("/api/logs", operation_id="ListLogs", tags=TAGS, summary="Get logs")
async def list_logs(
    request: Request[Any, Any, Any],
    ctx: ServiceContext,
    user_id: Annotated[str | None, Parameter(query="userId")] = None,
    application_id: Annotated[str | None, Parameter(query="applicationId")] = None,
    log_key: Annotated[str | None, Parameter(query="logKey")] = None,
    enable_cap: Annotated[str | None, Parameter(query="enableCap")] = None,
    start_time: str | None = None,
    end_time: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Response[list[Log]]:
    paging = parse_page(page, page_size)
    assert paging is not None
    where = LogFilter(
        log_key=log_key,
        user_id=user_id,
        application_id=application_id,
        start=_time(start_time, "start_time"),
        end=_time(end_time, "end_time"),
    )
    engine: AsyncEngine = ctx.engine
    async with engine.connect() as conn:
        total, items = await _store.search(conn, tenant_of(request), where, paging)
    if enable_cap == "true":
        total = min(total, 1000)
    return Response(items, headers={TOTAL_NUMBER_HEADER: str(total)})


@get("/api/logs/{id:str}", operation_id="GetLog", tags=TAGS, summary="Get log")
async def get_log(request: Request[Any, Any, Any], ctx: ServiceContext, id: str) -> Log:
    async with ctx.engine.connect() as conn:
        found = await _store.get(conn, tenant_of(request), id)
    if found is None:
        raise NotFound("entity.not_exists_with_id", name="log", id=id)
    return found


ROUTES = [list_logs, get_log]
