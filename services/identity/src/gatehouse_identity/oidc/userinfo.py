"""`/oidc/me` (OIDC userinfo): the claims of the user an opaque access token was issued to.

JWT access tokens are for API resources, not for userinfo, so only opaque tokens are accepted.
"""

from datetime import UTC, datetime
from typing import Any

from gatehouse_platform.oauth_errors import OAuthError
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.oidc import store
from gatehouse_identity.oidc.claims import userinfo_claims


class UserinfoEndpoint:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def claims(self, tenant_id: str, access_token: str | None) -> dict[str, Any]:
        if not access_token:
            raise OAuthError("invalid_token", "no access token provided")
        async with self.engine.connect() as conn:
            token = await store.get_token(conn, tenant_id, store.digest(access_token))
            if token is None or token.kind != "access_token":
                raise OAuthError("invalid_token", "invalid token provided")
            if token.expires_at <= datetime.now(UTC):
                raise OAuthError("invalid_token", "access token is expired")
            if "openid" not in token.scopes:
                raise OAuthError("invalid_token", "access token missing 'openid' scope")
            account = await store.get_account(conn, tenant_id, token.account_id)
            if account is None or account.is_suspended:
                raise OAuthError("invalid_token", "the user of this token is not active")
            return await userinfo_claims(conn, tenant_id, account, token.scopes)
