"""Logto's Dashboard routes: user totals, new users per day and active users (from identity's OIDC activity)."""

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_platform.db import create_engine
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables.identity import oidc_grants, oidc_tokens, users
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

URL = "/api/dashboard/users"


@pytest_asyncio.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1)
    yield engine
    await engine.dispose()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def grant(engine: AsyncEngine, user_id: str, created: datetime) -> str:
    """A grant row as identity writes one at sign-in."""
    grant_id = generate_id()
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(oidc_grants).values(
                tenant_id="default",
                id=grant_id,
                account_id=user_id,
                client_id="app",
                created_at=created,
                expires_at=created + timedelta(days=14),
            )
        )
    return grant_id


async def refresh_token(engine: AsyncEngine, user_id: str, grant_id: str, created: datetime) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(oidc_tokens).values(
                tenant_id="default",
                id=generate_id(64),
                kind="RefreshToken",
                grant_id=grant_id,
                client_id="app",
                account_id=user_id,
                scopes=["openid", "offline_access"],
                created_at=created,
                expires_at=created + timedelta(days=14),
            )
        )


async def get(client: AsyncClient, auth: dict[str, str], path: str, **params: str) -> Any:
    response = await client.get(f"{URL}/{path}", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


async def test_total_counts_every_user(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], engine: AsyncEngine
) -> None:
    before = (await get(client, auth, "total"))["totalUserCount"]
    await make_user("t1")
    await make_user("t2")
    after = await get(client, auth, "total")
    assert after == {"totalUserCount": before + 2}
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(users))).scalar_one() == before + 2


async def test_new_users_today_and_in_the_last_7_days(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any]
) -> None:
    before = await get(client, auth, "new")
    now = datetime.now(UTC)
    await make_user("today1", created_at=now)
    await make_user("today2", created_at=now)
    await make_user("yesterday", created_at=now - timedelta(days=1))
    await make_user("last-week", created_at=now - timedelta(days=9))
    await make_user("long-ago", created_at=now - timedelta(days=30))
    after = await get(client, auth, "new")
    assert set(after) == {"today", "last7Days"}
    assert after["today"]["count"] - before["today"]["count"] == 2
    assert after["today"]["delta"] - before["today"]["delta"] == 2 - 1
    assert after["last7Days"]["count"] - before["last7Days"]["count"] == 3
    assert after["last7Days"]["delta"] - before["last7Days"]["delta"] == 3 - 1


async def test_active_users_of_a_given_day(
    client: AsyncClient, auth: dict[str, str], make_user: Callable[..., Any], engine: AsyncEngine
) -> None:
    a, b, c = (generate_id() for _ in range(3))
    a_grant = await grant(engine, a, at("2020-03-15T10:00:00"))
    await refresh_token(engine, a, a_grant, at("2020-03-15T12:00:00"))  # the same user counts once
    b_grant = await grant(engine, b, at("2020-03-10T00:30:00"))  # on the 15th, b only refreshes
    await refresh_token(engine, b, b_grant, at("2020-03-15T23:59:00"))
    await grant(engine, a, at("2020-03-14T09:00:00"))
    await grant(engine, c, at("2020-03-05T08:00:00"))  # the week before
    e_grant = await grant(engine, generate_id(), at("2020-03-16T00:00:01"))  # after the day: not counted
    await refresh_token(engine, b, e_grant, at("2020-03-16T00:00:01"))
    signed_in = await make_user("d")
    async with engine.begin() as conn:  # the month before, through the user's last sign-in
        await conn.execute(
            sa.update(users).where(users.c.id == signed_in).values(last_sign_in_at=at("2020-02-01T00:00:00"))
        )
    result = await get(client, auth, "active", date="2020-03-15")
    assert result["dau"] == {"count": 2, "delta": 1}
    assert result["wau"] == {"count": 2, "delta": 1}
    assert result["mau"] == {"count": 3, "delta": 2}
    curve = result["dauCurve"]
    assert len(curve) == 30 and curve[0]["date"] == "2020-02-15" and curve[-1]["date"] == "2020-03-15"
    assert {p["date"]: p["count"] for p in curve if p["count"]} == {
        "2020-03-15": 2,
        "2020-03-14": 1,
        "2020-03-10": 1,
        "2020-03-05": 1,
    }


async def test_active_users_default_to_today(client: AsyncClient, auth: dict[str, str], engine: AsyncEngine) -> None:
    before = await get(client, auth, "active")
    await grant(engine, generate_id(), datetime.now(UTC))
    after = await get(client, auth, "active")
    assert after["dauCurve"][-1]["date"] == datetime.now(UTC).date().isoformat()
    assert after["dau"]["count"] == before["dau"]["count"] + 1
    assert after["mau"]["count"] == before["mau"]["count"] + 1


@pytest.mark.parametrize("value", ["2020-13-01", "yesterday", "2020-3-1", "0001-01-01", ""])
async def test_a_bad_date_is_400(client: AsyncClient, auth: dict[str, str], value: str) -> None:
    response = await client.get(f"{URL}/active", params={"date": value}, headers=auth)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "guard.invalid_input"


async def test_the_dashboard_needs_a_management_token(client: AsyncClient) -> None:
    for path in ("total", "new", "active"):
        assert (await client.get(f"{URL}/{path}")).status_code == 401
