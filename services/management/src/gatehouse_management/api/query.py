"""Query-string helpers shared by the management routes (Logto's conventions)."""

from typing import Any

from gatehouse_platform.errors import BadRequest
from gatehouse_platform.pagination import TOTAL_NUMBER_HEADER, Page
from litestar import Request, Response


def bool_param(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    if value in {"true", "false"}:
        return value == "true"
    raise BadRequest("guard.invalid_input", f"The request query is invalid: `{name}` must be true or false.")


def search_term(request: Request[Any, Any, Any]) -> str | None:
    """Logto's `search` / `search.<field>` parameters, reduced to one case-insensitive substring."""
    for key, value in request.query_params.items():
        if (key == "search" or key.startswith("search.")) and value:
            return str(value)
    return None


def paged(items: Any, total: int, page: Page | None) -> Response[Any]:
    return Response(items, headers={TOTAL_NUMBER_HEADER: str(total)} if page is not None else {})
