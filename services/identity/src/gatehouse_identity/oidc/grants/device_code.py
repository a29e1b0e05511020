"""`grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4-3.5): the device polls.

Until the user has finished on the verification page the answer is `authorization_pending`; polling
again sooner than `interval` seconds is `slow_down` and adds 5 s to the interval of that code; an
expired code is `expired_token`; a denied one `access_denied`. An approved code is spent once for
the tokens of a new grant (ID token with `openid`, refresh token with `offline_access`, a JWT access
token with `resource`), exactly as the authorization code grant issues them. The poll bookkeeping
commits even when the poll answers with an error.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from gatehouse_platform.oauth_errors import OAuthError, invalid_request
from gatehouse_schema.ids import generate_id
from gatehouse_schema.queries.management import ClientRecord
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.oidc import device_store, store
from gatehouse_identity.oidc.authorization import GRANT_TTL
from gatehouse_identity.oidc.device import check_device_client
from gatehouse_identity.oidc.grants.authorization_code import issues_refresh_token
from gatehouse_identity.oidc.minting import MintRequest, TokenMinter
from gatehouse_identity.oidc.token_response import TokenResponse

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP = 5  # seconds added to the interval on every slow_down (RFC 8628 §3.5)


class DeviceCodeGrant:
    grant_type = GRANT_TYPE

    def __init__(self, engine: AsyncEngine, minter: TokenMinter) -> None:
        self.engine = engine
        self.minter = minter

    async def handle(self, tenant_id: str, client: ClientRecord, form: Mapping[str, str]) -> TokenResponse:
        check_device_client(client)
        value = form.get("device_code")
        if not value:
            raise invalid_request("missing required parameter 'device_code'")
        async with self.engine.begin() as conn:
            outcome = await self._poll(conn, tenant_id, client, form, value)
        if isinstance(outcome, OAuthError):
            raise outcome
        return outcome

    async def _poll(
        self, conn: AsyncConnection, tenant_id: str, client: ClientRecord, form: Mapping[str, str], value: str
    ) -> TokenResponse | OAuthError:
        code = await device_store.lock(conn, tenant_id, store.digest(value))
        if code is None or code.client_id != client.id:
            raise OAuthError("invalid_grant", "device code not found")
        if code.consumed_at is not None:
            raise OAuthError("invalid_grant", "device code already consumed")
        now = datetime.now(UTC)
        if code.expires_at <= now:
            raise OAuthError("expired_token", "device code is expired")
        if code.last_polled_at is not None and (now - code.last_polled_at).total_seconds() < code.poll_interval:
            interval = code.poll_interval + SLOW_DOWN_STEP
            await device_store.update(conn, tenant_id, code.id, poll_interval=interval, last_polled_at=now)
            return OAuthError("slow_down", f"polling too fast: wait at least {interval} seconds between requests")
        await device_store.update(conn, tenant_id, code.id, last_polled_at=now)
        if code.status == device_store.PENDING:
            return OAuthError(
                "authorization_pending",
                "authorization request is still pending as the end-user hasn't yet completed the user interaction",
            )
        resource = form.get("resource")
        if resource is not None and resource not in code.resources:
            return OAuthError("invalid_target", "the resource was not requested in the device authorization request")
        await device_store.update(conn, tenant_id, code.id, consumed_at=now)
        if code.status == device_store.DENIED:
            return OAuthError("access_denied", code.error_description or "End-User aborted interaction")
        return await self._issue(conn, tenant_id, client, code, resource, now)

    async def _issue(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        client: ClientRecord,
        code: device_store.DeviceCode,
        resource: str | None,
        now: datetime,
    ) -> TokenResponse | OAuthError:
        account = None if code.account_id is None else await store.get_account(conn, tenant_id, code.account_id)
        if account is None or account.is_suspended:
            return OAuthError("invalid_grant", "the user of this device code is not active")
        grant = await store.upsert_grant(
            conn,
            tenant_id,
            store.Grant(
                id=generate_id(),
                account_id=account.id,
                client_id=client.id,
                session_id=None,
                scopes=code.scopes,
                resources={r: code.resource_scopes for r in code.resources},
            ),
            False,
            now + timedelta(seconds=GRANT_TTL),
        )
        return await self.minter.mint(
            conn,
            tenant_id,
            MintRequest(
                client=client,
                grant=grant,
                account=account,
                scopes=code.scopes,
                resource=resource,
                resource_scopes=None,
                nonce=None,
                auth_time=code.auth_time,
                refresh_token=issues_refresh_token(client, code.scopes),
            ),
        )
