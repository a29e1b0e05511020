"""Query-string helpers of the Management API routes identity serves (Logto's conventions)."""

from typing import Any

from gatehouse_platform.pagination import TOTAL_NUMBER_HEADER, Page
from litestar import Request, Response

TRUTHY = frozenset({"true", "1", "yes"})


def search_term(request: Request[Any, Any, Any]) -> str | None:
    """Logto's `search` / `search.<field>` parameters, reduced to one case-insensitive substring."""
    for key, value in request.query_params.items():
        if (key == "search" or key.startswith("search.")) and value:
            return str(value)
    return None


def truthy(value: str | None) -> bool:
    """Logto's `yes()`: `true`, `1` or `yes`, in any case."""
    return value is not None and value.strip().lower() in TRUTHY


def paged(items: Any, total: int, page: Page | None) -> Response[Any]:
    return Response(items, headers={TOTAL_NUMBER_HEADER: str(total)} if page is not None else {})
