"""The browser's `_interaction` cookie (identity's, set at `/oidc/auth`), which names the interaction every
Experience API route works on."""

from typing import Any

from litestar import Request

INTERACTION_COOKIE = "_interaction"


def interaction_cookie(request: Request[Any, Any, Any]) -> str | None:
    return request.cookies.get(INTERACTION_COOKIE)
