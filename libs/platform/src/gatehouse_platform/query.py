"""Query-string helpers of the Management API routes, shared by every service that serves some (Logto's
conventions)."""

from typing import Any

from litestar import Request, Response

from gatehouse_platform.errors import BadRequest
from gatehouse_platform.pagination import TOTAL_NUMBER_HEADER, Page

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


def bool_param(value: str | None, name: str) -> bool | None:
    """A strict `true` / `false` query parameter (absent: None)."""
    if value is None:
        return None
    if value in {"true", "false"}:
        return value == "true"
    raise BadRequest("guard.invalid_input", f"The request query is invalid: `{name}` must be true or false.")


def paged(items: Any, total: int, page: Page | None) -> Response[Any]:
    """The list answer: the items, and Logto's `Total-Number` header when the client asked for a page."""
    return Response(items, headers={TOTAL_NUMBER_HEADER: str(total)} if page is not None else {})
