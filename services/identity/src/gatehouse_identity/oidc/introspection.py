"""`/oidc/token/introspection` (RFC 7662) and `/oidc/token/revocation` (RFC 7009).

Both need client authentication and only see the calling client's own tokens. Opaque access tokens
and refresh tokens are looked up; a JWT access token answers `unsupported_token_type`, as in Logto
(it is self-contained: resource servers verify it against the JWKS). Revoking a refresh token
revokes its whole grant; revoking an access token drops that token; unknown tokens are ignored.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gatehouse_platform.db import read_connection
from gatehouse_platform.oauth_errors import OAuthError, invalid_request
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.oidc import store
from gatehouse_identity.oidc.clients import ClientCache
from gatehouse_identity.oidc.grants.refresh_token import REUSE_GRACE
from gatehouse_identity.oidc.token_endpoint import authenticate_client

INACTIVE: dict[str, Any] = {"active": False}


def looks_like_jwt(token: str) -> bool:
    parts = token.split(".")
    return len(parts) == 3 and all(parts[:2]) and parts[0].startswith("eyJ")


def _token_param(form: Mapping[str, str]) -> str:
    token = form.get("token")
    if not token:
        raise invalid_request("missing required parameter 'token'")
    if looks_like_jwt(token):
        raise OAuthError("unsupported_token_type", "structured JWT tokens cannot be introspected or revoked")
    return token


class TokenIntrospection:
    def __init__(self, engine: AsyncEngine, clients: ClientCache, issuer: str) -> None:
        self.engine = engine
        self.clients = clients
        self.issuer = issuer

    async def introspect(self, tenant_id: str, authorization: str | None, form: Mapping[str, str]) -> dict[str, Any]:
        client = await authenticate_client(self.clients, tenant_id, authorization, form)
        value = _token_param(form)
        async with read_connection(self.engine) as db:  # one precompiled read, no transaction
            token = await store.get_token_pg(db, tenant_id, store.digest(value))
        now = datetime.now(UTC)
        if token is None or token.client_id != client.id or token.expires_at <= now:
            return INACTIVE
        if token.consumed_at is not None and (now - token.consumed_at).total_seconds() > REUSE_GRACE:
            return INACTIVE
        body: dict[str, Any] = {
            "active": True,
            "sub": token.account_id,
            "client_id": token.client_id,
            "scope": " ".join(token.scopes),
            "exp": int(token.expires_at.timestamp()),
            "iat": int(token.created_at.timestamp()),
            "iss": self.issuer,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
        }
        for key, value in token.extra.items():  # e.g. `act` of a token-exchange impersonation
            body.setdefault(key, value)
        return body

    async def revoke(self, tenant_id: str, authorization: str | None, form: Mapping[str, str]) -> None:
        client = await authenticate_client(self.clients, tenant_id, authorization, form)
        value = _token_param(form)
        async with self.engine.begin() as conn:
            token = await store.get_token(conn, tenant_id, store.digest(value), for_update=True)
            if token is None or token.client_id != client.id:
                return
            if token.kind == "refresh_token":
                await store.revoke_grant(conn, tenant_id, token.grant_id)
            else:
                await store.delete_token(conn, tenant_id, token.id)
