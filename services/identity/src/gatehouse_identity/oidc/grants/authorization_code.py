"""`grant_type=authorization_code`: a single-use code (60 s) for the tokens of its grant.

A code presented twice revokes the grant it came from, and with it every token issued from it
(RFC 6749 §4.1.2); the revocation commits even though the request fails.
"""

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

from gatehouse_platform.oauth_errors import OAuthError, invalid_request
from gatehouse_schema.queries.management import ClientRecord
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.oidc import store
from gatehouse_identity.oidc.auth_request import is_device_flow_client
from gatehouse_identity.oidc.minting import MintRequest, TokenMinter
from gatehouse_identity.oidc.token_response import TokenResponse

REFRESH_CAPABLE = frozenset({"Traditional", "SPA", "Native"})


def pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii", errors="replace")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(computed.encode(), challenge.encode())


def check_pkce(code: store.Code, verifier: str | None) -> None:
    if code.code_challenge is None:
        if verifier is not None:
            raise OAuthError("invalid_grant", "code_verifier was provided but no code_challenge was used")
        return
    if verifier is None:
        raise OAuthError("invalid_grant", "PKCE verification failed: code_verifier is missing")
    if not pkce_matches(verifier, code.code_challenge):
        raise OAuthError("invalid_grant", "PKCE verification failed")


def issues_refresh_token(client: ClientRecord, scopes: list[str]) -> bool:
    """Logto's rule: `offline_access` was granted, or the app always gets one (`alwaysIssueRefreshToken`)."""
    if client.type not in REFRESH_CAPABLE:
        return False
    return "offline_access" in scopes or bool(client.custom_client_metadata.get("alwaysIssueRefreshToken"))


class AuthorizationCodeGrant:
    grant_type = "authorization_code"

    def __init__(self, engine: AsyncEngine, minter: TokenMinter) -> None:
        self.engine = engine
        self.minter = minter

    async def handle(self, tenant_id: str, client: ClientRecord, form: Mapping[str, str]) -> TokenResponse:
        if is_device_flow_client(client):  # Logto: device code and refresh token grants only
            raise OAuthError("unauthorized_client", "requested grant type is not allowed for this client")
        value = form.get("code")
        if not value:
            raise invalid_request("missing required parameter 'code'")
        redirect_uri = form.get("redirect_uri")
        if not redirect_uri:
            raise invalid_request("missing required parameter 'redirect_uri'")
        async with self.engine.begin() as conn:
            outcome = await self._exchange(conn, tenant_id, client, form, value, redirect_uri)
        if isinstance(outcome, OAuthError):
            raise outcome
        return outcome

    async def _exchange(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        client: ClientRecord,
        form: Mapping[str, str],
        value: str,
        redirect_uri: str,
    ) -> TokenResponse | OAuthError:
        code = await store.lock_code(conn, tenant_id, store.digest(value))
        if code is None or code.client_id != client.id:
            raise OAuthError("invalid_grant", "grant request is invalid")
        if code.consumed_at is not None:
            await store.revoke_grant(conn, tenant_id, code.grant_id)
            return OAuthError("invalid_grant", "authorization code already consumed")
        if code.expires_at <= datetime.now(UTC):
            raise OAuthError("invalid_grant", "authorization code is expired")
        if code.redirect_uri != redirect_uri:
            raise OAuthError("invalid_grant", "authorization code redirect_uri mismatch")
        check_pkce(code, form.get("code_verifier"))
        await store.consume_code(conn, tenant_id, code.id)
        grant = await store.get_grant(conn, tenant_id, code.grant_id)
        if grant is None:
            raise OAuthError("invalid_grant", "grant not found")
        account = await store.get_account(conn, tenant_id, code.account_id)
        if account is None or account.is_suspended:
            await store.revoke_grant(conn, tenant_id, code.grant_id)
            return OAuthError("invalid_grant", "the user of this grant is not active")
        resource = form.get("resource")
        if resource is not None and resource not in grant.resources:
            raise OAuthError("invalid_target", "the resource was not requested in the authorization request")
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
                nonce=code.nonce,
                auth_time=code.auth_time,
                refresh_token=issues_refresh_token(client, code.scopes),
            ),
        )
