"""Routes of the Dashboard group (Logto's `routes/dashboard.ts`): user counts read from identity's users and
OIDC activity (`gatehouse_schema.queries.identity`). Days are UTC days; an interval is (start, end]."""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

import msgspec
from gatehouse_platform.errors import BadRequest
from gatehouse_platform.service import ServiceContext
from gatehouse_platform.tenancy import tenant_of
from gatehouse_schema.queries import identity
from litestar import Request, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncConnection

TAGS = ["Dashboard"]
DATE = re.compile(r"^\d{4}(-\d{2}){2}$")  # Logto's `dateRegex`


class Count(msgspec.Struct):
    count: int
    delta: int


class TotalUserCount(msgspec.Struct, rename="camel"):
    total_user_count: int


class NewUserCounts(msgspec.Struct, rename="camel"):
    today: Count
    last_7_days: Count = msgspec.field(name="last7Days")


class DailyCount(msgspec.Struct):
    date: str
    count: int


class ActiveUserCounts(msgspec.Struct, rename="camel"):
    dau_curve: list[DailyCount]
    dau: Count
    wau: Count
    mau: Count


def end_of_day(day: date) -> datetime:
    """The last instant of the day, as date-fns's `endOfDay` (23:59:59.999)."""
    return datetime.combine(day, time(23, 59, 59, 999_000), tzinfo=UTC)


def _window(day: date, start_days_before: int, end_days_before: int) -> tuple[datetime, datetime]:
    return end_of_day(day - timedelta(days=start_days_before)), end_of_day(day - timedelta(days=end_days_before))


def _days(counts: dict[date, int], day: date, offsets: range) -> int:
    return sum(counts.get(day - timedelta(days=i), 0) for i in offsets)


@get("/api/dashboard/users/total", operation_id="GetTotalUserCount", tags=TAGS, summary="Get total user count")
async def get_total_user_count(request: Request[Any, Any, Any], ctx: ServiceContext) -> TotalUserCount:
    async with ctx.engine.connect() as conn:
        return TotalUserCount(await identity.count_users(conn, tenant_of(request)))


@get("/api/dashboard/users/new", operation_id="GetNewUserCounts", tags=TAGS, summary="Get new user count")
async def get_new_user_counts(request: Request[Any, Any, Any], ctx: ServiceContext) -> NewUserCounts:
    today = datetime.now(UTC).date()
    async with ctx.engine.connect() as conn:
        daily = await identity.daily_new_user_counts(conn, tenant_of(request), *_window(today, 14, 0))
    today_count, yesterday_count = daily.get(today, 0), daily.get(today - timedelta(days=1), 0)
    last_7, previous_7 = _days(daily, today, range(7)), _days(daily, today, range(7, 14))
    return NewUserCounts(Count(today_count, today_count - yesterday_count), Count(last_7, last_7 - previous_7))


async def _active(conn: AsyncConnection, tenant_id: str, day: date) -> ActiveUserCounts:
    daily = await identity.daily_active_user_counts(conn, tenant_id, *_window(day, 30, 0))
    previous_wau = await identity.count_active_users(conn, tenant_id, *_window(day, 14, 7))
    wau = await identity.count_active_users(conn, tenant_id, *_window(day, 7, 0))
    previous_mau = await identity.count_active_users(conn, tenant_id, *_window(day, 60, 30))
    mau = await identity.count_active_users(conn, tenant_id, *_window(day, 30, 0))
    dau, previous_dau = daily.get(day, 0), daily.get(day - timedelta(days=1), 0)
    curve = [DailyCount(d.isoformat(), daily.get(d, 0)) for d in (day - timedelta(days=29 - i) for i in range(30))]
    return ActiveUserCounts(
        curve, Count(dau, dau - previous_dau), Count(wau, wau - previous_wau), Count(mau, mau - previous_mau)
    )


@get("/api/dashboard/users/active", operation_id="GetActiveUserCounts", tags=TAGS, summary="Get active user data")
async def get_active_user_counts(
    request: Request[Any, Any, Any],
    ctx: ServiceContext,
    date_: Annotated[str | None, Parameter(query="date", description="The date to get active user data.")] = None,
) -> ActiveUserCounts:
    day = datetime.now(UTC).date()
    if date_ is not None:
        try:
            if not DATE.match(date_):
                raise ValueError(date_)
            day = date.fromisoformat(date_)
            day - timedelta(days=60)  # the earliest day the counts read
        except (ValueError, OverflowError):
            raise BadRequest(
                "guard.invalid_input", "The request query is invalid: `date` must be YYYY-MM-DD."
            ) from None
    async with ctx.engine.connect() as conn:
        return await _active(conn, tenant_of(request), day)


ROUTES = [get_total_user_count, get_new_user_counts, get_active_user_counts]
