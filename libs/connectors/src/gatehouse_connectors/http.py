"""The provider round trips' HTTP: form posts and JSON reads with Logto's connector error codes on failure."""

from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from gatehouse_platform.errors import BadRequest, GatehouseError

TIMEOUT = aiohttp.ClientTimeout(total=10)


class ConnectorError(GatehouseError):
    """A provider round trip that failed, with Logto's `connector.*` code: 400, or 401 when the provider refused
    the code, the access token or the ID token (as Logto's connector error handler answers)."""

    status = 400


def refused(code: str, message: str) -> ConnectorError:
    return ConnectorError(code, message, status=401)


def general(message: str) -> ConnectorError:
    return ConnectorError("connector.general", message)


async def _body(response: aiohttp.ClientResponse, *, query_string: bool = False) -> dict[str, Any]:
    text = await response.text()
    if query_string and not text.lstrip().startswith("{"):
        return dict(parse_qsl(text))
    try:
        body = await response.json(content_type=None)
    except ValueError:
        message = f"The provider answered {response.status} with no JSON."
        raise ConnectorError("connector.invalid_response", message) from None
    if not isinstance(body, dict):
        raise ConnectorError("connector.invalid_response", "The provider's answer is not a JSON object.")
    return body


async def post_form(
    session: aiohttp.ClientSession,
    url: str,
    form: dict[str, str],
    *,
    headers: dict[str, str] | None = None,
    query_string: bool = False,
) -> dict[str, Any]:
    """POSTs a token request; a 4xx from the provider means the code (or grant) was not accepted."""
    try:
        async with session.post(
            url, data=form, headers={"Accept": "application/json", **(headers or {})}, timeout=TIMEOUT
        ) as response:
            body = await _body(response, query_string=query_string)
            if 400 <= response.status < 500:
                detail = body.get("error_description") or body.get("error") or response.status
                raise refused("connector.social_auth_code_invalid", f"The provider refused the code: {detail}")
            if response.status >= 300:
                raise general(f"The provider's token endpoint answered {response.status}.")
            return body
    except (aiohttp.ClientError, TimeoutError) as error:
        raise general(f"The provider's token endpoint cannot be reached: {type(error).__name__}.") from None


async def get_json(
    session: aiohttp.ClientSession, url: str, *, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    try:
        async with session.get(url, headers={"Accept": "application/json", **(headers or {})}, timeout=TIMEOUT) as r:
            body = await _body(r)
            if r.status == 401:
                raise refused("connector.social_invalid_access_token", "The provider refused the access token.")
            if r.status >= 300:
                raise general(f"{url} answered {r.status}.")
            return body
    except (aiohttp.ClientError, TimeoutError) as error:
        raise general(f"{url} cannot be reached: {type(error).__name__}.") from None


def require(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest("guard.invalid_input", f"`connectorData.{key}` is required.", type="body")
    return value
