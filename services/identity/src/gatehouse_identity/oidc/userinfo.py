"""`/oidc/me` (OIDC userinfo): the claims of the user an opaque access token was issued to.

JWT access tokens are for API resources, not for userinfo, so only opaque tokens are accepted. The organization
claims of a third-party application's token name only the organizations the user consented it to.
"""

from datetime import UTC, datetime
from typing import Any

from gatehouse_platform.oauth_errors import OAuthError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.oidc import store
from gatehouse_identity.oidc.claims import ORGANIZATION_ROLES_SCOPE, ORGANIZATIONS_SCOPE, userinfo_claims
from gatehouse_identity.oidc.clients import ClientCache


async def active_access_token(conn: AsyncConnection, tenant_id: str, access_token: str) -> store.Token:
    """The stored opaque access token, unless unknown, revoked (deleted) or expired (`invalid_token`); the Account
    API (`user.from_access_token`) judges tokens with it too."""
    token = await store.get_token(conn, tenant_id, store.digest(access_token))
    if token is None or token.kind != "access_token":
        raise OAuthError("invalid_token", "invalid token provided")
    if token.expires_at <= datetime.now(UTC):
        raise OAuthError("invalid_token", "access token is expired")
    return token


class UserinfoEndpoint:
    def __init__(self, engine: AsyncEngine, clients: ClientCache) -> None:
        self.engine = engine
        self.clients = clients

    async def _consented_to(self, tenant_id: str, client_id: str, scopes: list[str]) -> str | None:
        """The client's id when its organization claims are limited to consented organizations (a third-party
        application, or one that no longer exists: its consents are gone with it)."""
        if ORGANIZATIONS_SCOPE not in scopes and ORGANIZATION_ROLES_SCOPE not in scopes:
            return None
        client = await self.clients.get(tenant_id, client_id)
        return client_id if client is None or client.is_third_party else None

    async def claims(self, tenant_id: str, access_token: str | None) -> dict[str, Any]:
        if not access_token:
            raise OAuthError("invalid_token", "no access token provided")
        async with self.engine.connect() as conn:
            token = await active_access_token(conn, tenant_id, access_token)
            if "openid" not in token.scopes:
                raise OAuthError("invalid_token", "access token missing 'openid' scope")
            account = await store.get_account(conn, tenant_id, token.account_id)
            if account is None or account.is_suspended:
                raise OAuthError("invalid_token", "the user of this token is not active")
            consented_to = await self._consented_to(tenant_id, token.client_id, token.scopes)
            return await userinfo_claims(conn, tenant_id, account, token.scopes, consented_to=consented_to)
