"""One way to answer a list route: the page of rows and the total behind Logto's `Total-Number`."""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from gatehouse_platform.pagination import Page
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")


async def fetch_page(
    conn: AsyncConnection,
    query: sa.Select[Any],
    source: sa.FromClause,
    where: Sequence[Any],
    page: Page | None,
    convert: Callable[[Any], T],
) -> tuple[int, list[T]]:
    """`query` (already filtered by `where` and ordered) limited to `page`; without a page, every row."""
    if page is None:
        rows = (await conn.execute(query)).all()
        return len(rows), [convert(r) for r in rows]
    total = (await conn.execute(sa.select(sa.func.count()).select_from(source).where(*where))).scalar_one()
    rows = (await conn.execute(query.limit(page.limit).offset(page.offset))).all()
    return total, [convert(r) for r in rows]
