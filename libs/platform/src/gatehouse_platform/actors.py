"""Who is making a request, for events and audit logs."""

from typing import Any

from gatehouse_schema.events import Actor
from litestar.connection import ASGIConnection

from gatehouse_platform.tokens import AccessToken


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    forwarded = connection.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded.split(",", 1)[0].strip()
    return connection.client.host if connection.client else None


def actor_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    token: AccessToken | None = connection.scope.get("gatehouse_token")  # type: ignore[assignment]
    ip, agent = client_ip(connection), connection.headers.get("user-agent")
    if token is None:
        return Actor(type="system", ip=ip, user_agent=agent)
    if token.sub and token.sub != token.client_id:
        return Actor(type="user", id=token.sub, ip=ip, user_agent=agent)
    return Actor(type="application", id=token.client_id, ip=ip, user_agent=agent)
