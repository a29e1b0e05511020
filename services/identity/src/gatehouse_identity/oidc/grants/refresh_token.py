"""`grant_type=refresh_token`, with Logto's rotation and reuse detection.

With rotation (`rotateRefreshToken`, on unless the app turns it off) every use returns a new
refresh token and marks the presented one consumed. A consumed token still works for
`REUSE_GRACE` seconds, so concurrent refreshes of one client do not fail; presented later, it is
taken as stolen and the whole grant is revoked. `resource` asks for a JWT access token for one of
the grant's resources; `scope` narrows the scopes; `organization_id` asks for Logto's organization token
(the grant needs `urn:logto:scope:organizations`; see `organization_tokens`).

The token, its grant and its account are read in one statement. With rotation that runs in a
transaction with the token row locked (`FOR UPDATE` of that row only), so concurrent uses of one
token are serialized around its `consumed_at`. Without rotation nothing of the token changes and
there is nothing to serialize: the read and the access token's INSERT run without a transaction
(a grant revoked in between makes the INSERT fail its foreign key: `invalid_grant`, as if revoked
just before). Unless minting needs more reads (a resource's JWT, or extended ID token claims that
are queried), the statements are compiled once and run on the pooled connection's asyncpg
connection; otherwise the same steps run through SQLAlchemy.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol

import asyncpg
from gatehouse_platform.db import read_connection
from gatehouse_platform.oauth_errors import OAuthError, invalid_request
from gatehouse_schema.queries.management import ClientRecord
from gatehouse_schema.queries.organizations import ORGANIZATION_RESOURCE
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.oidc import store
from gatehouse_identity.oidc.minting import MintRequest, TokenMinter
from gatehouse_identity.oidc.organization_tokens import ORGANIZATIONS_SCOPE
from gatehouse_identity.oidc.token_response import TokenResponse

REUSE_GRACE = 3.0


class _Steps(Protocol):
    """The reads and writes of a refresh, on one connection (and the caller's transaction, if any)."""

    async def load(self, tenant_id: str, token_id: str) -> store.RefreshState | None: ...

    async def revoke_grant(self, tenant_id: str, grant_id: str) -> None: ...

    async def consume(self, tenant_id: str, token_id: str, at: datetime) -> None: ...

    async def mint(self, tenant_id: str, req: MintRequest) -> TokenResponse: ...


class _DriverSteps:
    """Compiled statements on an asyncpg connection."""

    def __init__(self, db: asyncpg.Connection, minter: TokenMinter, lock: bool) -> None:
        self.db = db
        self.minter = minter
        self.lock = lock

    async def load(self, tenant_id: str, token_id: str) -> store.RefreshState | None:
        return await store.refresh_state(self.db, tenant_id, token_id, lock=self.lock)

    async def revoke_grant(self, tenant_id: str, grant_id: str) -> None:
        await store.revoke_grant_pg(self.db, tenant_id, grant_id)

    async def consume(self, tenant_id: str, token_id: str, at: datetime) -> None:
        await store.mark_token_consumed_pg(self.db, tenant_id, token_id, at)

    async def mint(self, tenant_id: str, req: MintRequest) -> TokenResponse:
        try:
            return await self.minter.mint_on_driver(self.db, tenant_id, req)
        except asyncpg.ForeignKeyViolationError:
            # only without a transaction: the grant was revoked after the read
            raise OAuthError("invalid_grant", "grant not found") from None


class _SqlAlchemySteps:
    """SQLAlchemy statements in the caller's transaction, for minting that reads more (`needs_queries`)."""

    def __init__(self, conn: AsyncConnection, minter: TokenMinter) -> None:
        self.conn = conn
        self.minter = minter

    async def load(self, tenant_id: str, token_id: str) -> store.RefreshState | None:
        token = await store.get_token(self.conn, tenant_id, token_id, for_update=True)
        if token is None:
            return None
        grant = await store.get_grant(self.conn, tenant_id, token.grant_id)
        account = await store.get_account(self.conn, tenant_id, token.account_id)
        return store.RefreshState(token, grant, account)

    async def revoke_grant(self, tenant_id: str, grant_id: str) -> None:
        await store.revoke_grant(self.conn, tenant_id, grant_id)

    async def consume(self, tenant_id: str, token_id: str, at: datetime) -> None:
        await store.mark_token_consumed(self.conn, tenant_id, token_id, at)

    async def mint(self, tenant_id: str, req: MintRequest) -> TokenResponse:
        return await self.minter.mint(self.conn, tenant_id, req)


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
        rotate = client.custom_client_metadata.get("rotateRefreshToken", True) is not False
        outcome: TokenResponse | OAuthError
        if form.get("organization_id") or await self.minter.needs_queries(tenant_id, form.get("resource")):
            async with self.engine.begin() as conn:
                sa_steps = _SqlAlchemySteps(conn, self.minter)
                outcome = await self._refresh(sa_steps, tenant_id, client, form, value, rotate)
        else:
            # tokens are not user data: no event, so no outbox, and the transaction (with rotation) is asyncpg's
            async with read_connection(self.engine) as db:
                steps = _DriverSteps(db, self.minter, lock=rotate)
                if rotate:
                    async with db.transaction():
                        outcome = await self._refresh(steps, tenant_id, client, form, value, rotate)
                else:
                    outcome = await self._refresh(steps, tenant_id, client, form, value, rotate)
        if isinstance(outcome, OAuthError):
            raise outcome
        return outcome

    async def _refresh(
        self,
        steps: _Steps,
        tenant_id: str,
        client: ClientRecord,
        form: Mapping[str, str],
        value: str,
        rotate: bool,
    ) -> TokenResponse | OAuthError:
        """A raised error rolls the transaction back; a returned one (a revocation) commits it."""
        state = await steps.load(tenant_id, store.digest(value))
        if state is None:
            raise OAuthError("invalid_grant", "grant request is invalid")
        token = state.token
        if token.kind != "refresh_token" or token.client_id != client.id:
            raise OAuthError("invalid_grant", "grant request is invalid")
        now = datetime.now(UTC)
        if token.expires_at <= now:
            raise OAuthError("invalid_grant", "refresh token is expired")
        if token.consumed_at is not None and (now - token.consumed_at).total_seconds() > self.reuse_grace:
            await steps.revoke_grant(tenant_id, token.grant_id)
            return OAuthError("invalid_grant", "refresh token already used: the grant is revoked")
        grant = state.grant
        if grant is None:
            raise OAuthError("invalid_grant", "grant not found")
        account = state.account
        if account is None or account.is_suspended:
            await steps.revoke_grant(tenant_id, token.grant_id)
            return OAuthError("invalid_grant", "the user of this grant is not active")
        resource = form.get("resource")
        if resource is not None and resource not in grant.resources:
            raise OAuthError("invalid_target", "the resource was not granted to this refresh token")
        organization_id = form.get("organization_id") or None
        if organization_id is not None and ORGANIZATIONS_SCOPE not in token.scopes:
            raise OAuthError("insufficient_scope", f"refresh token missing required scope {ORGANIZATIONS_SCOPE}")
        # an organization token's scopes are those granted under the reserved organizations resource
        narrowed_resource = ORGANIZATION_RESOURCE if organization_id is not None and resource is None else resource
        scopes, resource_scopes = self._narrow(token, grant, narrowed_resource, form.get("scope"))
        if rotate:
            await steps.consume(tenant_id, token.id, now)
        response = await steps.mint(
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
                organization_id=organization_id,
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
