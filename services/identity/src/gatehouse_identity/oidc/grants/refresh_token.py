"""`grant_type=refresh_token`, with Logto's rotation and reuse detection.

With rotation (`rotateRefreshToken`, on unless the app turns it off) every use returns a new
refresh token and marks the presented one consumed. A consumed token still works for
`REUSE_GRACE` seconds, so concurrent refreshes of one client do not fail; presented later, it is
taken as stolen and the whole grant is revoked. `resource` asks for a JWT access token for one of
the grant's resources; `scope` narrows the scopes.
"""

from collections.abc import Mapping
from datetime import UTC, datetime

from gatehouse_platform.oauth_errors import OAuthError, invalid_request
from gatehouse_schema.queries.management import ClientRecord
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.oidc import store
from gatehouse_identity.oidc.minting import MintRequest, TokenMinter
from gatehouse_identity.oidc.token_response import TokenResponse

REUSE_GRACE = 3.0


class RefreshTokenGrant:
    grant_type = "refresh_token"

    def __init__(self, engine: AsyncEngine, minter: TokenMinter, reuse_grace: float = REUSE_GRACE) -> None:
        self.engine = engine
        self.minter = minter
        self.reuse_grace = reuse_grace

    async def handle(self, tenant_id: str, client: ClientRecord, form: Mapping[str, str]) -> TokenResponse:
        value = form.get("refresh_token")
        if not value:
            raise invalid_request("missing required parameter 'refresh_token'")
        async with self.engine.begin() as conn:
            outcome = await self._refresh(conn, tenant_id, client, form, value)
        if isinstance(outcome, OAuthError):
            raise outcome
        return outcome

    async def _refresh(
        self, conn: AsyncConnection, tenant_id: str, client: ClientRecord, form: Mapping[str, str], value: str
    ) -> TokenResponse | OAuthError:
        token = await store.get_token(conn, tenant_id, store.digest(value), for_update=True)
        if token is None or token.kind != "refresh_token" or token.client_id != client.id:
            raise OAuthError("invalid_grant", "grant request is invalid")
        now = datetime.now(UTC)
        if token.expires_at <= now:
            raise OAuthError("invalid_grant", "refresh token is expired")
        if token.consumed_at is not None and (now - token.consumed_at).total_seconds() > self.reuse_grace:
            await store.revoke_grant(conn, tenant_id, token.grant_id)
            return OAuthError("invalid_grant", "refresh token already used: the grant is revoked")
        grant = await store.get_grant(conn, tenant_id, token.grant_id)
        if grant is None:
            raise OAuthError("invalid_grant", "grant not found")
        account = await store.get_account(conn, tenant_id, token.account_id)
        if account is None or account.is_suspended:
            await store.revoke_grant(conn, tenant_id, token.grant_id)
            return OAuthError("invalid_grant", "the user of this grant is not active")
        resource = form.get("resource")
        if resource is not None and resource not in grant.resources:
            raise OAuthError("invalid_target", "the resource was not granted to this refresh token")
        scopes, resource_scopes = self._narrow(token, grant, resource, form.get("scope"))
        rotate = client.custom_client_metadata.get("rotateRefreshToken", True) is not False
        if rotate:
            await store.mark_token_consumed(conn, tenant_id, token.id, now)
        response = await self.minter.mint(
            conn,
            tenant_id,
            MintRequest(
                client=client,
                grant=grant,
                account=account,
                scopes=scopes,
                resource=resource,
                resource_scopes=resource_scopes,
                nonce=None,
                auth_time=token.auth_time,
                refresh_token=rotate,
                refresh_scopes=token.scopes,
            ),
        )
        if not rotate:
            response.refresh_token = value
        return response

    @staticmethod
    def _narrow(
        token: store.Token, grant: store.Grant, resource: str | None, scope: str | None
    ) -> tuple[list[str], list[str] | None]:
        """(OIDC scopes, resource scopes): all of the token's when `scope` is absent, else the named subset."""
        if scope is None:
            return token.scopes, None
        requested = list(dict.fromkeys(scope.split()))
        # Like Logto, a refresh token's scope is the union of its OIDC scopes and the granted resource
        # scopes, so clients that resend their configured scope (resource scopes included) can refresh.
        if resource is not None:
            resource_scopes = set(grant.resources.get(resource, []))
        else:
            resource_scopes = {s for granted in grant.resources.values() for s in granted}
        available = set(token.scopes) | resource_scopes
        missing = [s for s in requested if s not in available]
        if missing:
            raise OAuthError("invalid_scope", f"refresh token missing requested scope {' '.join(missing)}")
        if resource is not None:
            return token.scopes, [s for s in requested if s in grant.resources.get(resource, [])]
        return [s for s in token.scopes if s in requested], None
