"""Issues the tokens of a user grant: ID token, access token (a JWT for an API resource, else opaque
for userinfo), refresh token. Opaque tokens are random and stored as SHA-256 digests only.
"""

import base64
import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from gatehouse_platform.oauth_errors import OAuthError
from gatehouse_schema.queries.management import ClientRecord, get_resource_by_indicator, user_resource_scopes
from gatehouse_schema.queries.organizations import ORGANIZATION_RESOURCE
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_identity.keys.keyring import Keyring
from gatehouse_identity.oidc import organization_tokens, store
from gatehouse_identity.oidc.claims import (
    QUERIED_EXTENDED_CLAIMS,
    account_extended_claims,
    id_token_extended_claims,
    standard_claims,
)
from gatehouse_identity.oidc.issuer import AccessTokenIssuer, token_id
from gatehouse_identity.oidc.token_configs import TokenConfigs
from gatehouse_identity.oidc.token_response import TokenResponse

OPAQUE_ACCESS_TOKEN_TTL = 3600
DEFAULT_ID_TOKEN_TTL = 3600
DEFAULT_REFRESH_TOKEN_DAYS = 14
HASH_BY_ALG = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_ttl(client: ClientRecord) -> int:
    meta = client.custom_client_metadata
    if isinstance(meta.get("refreshTokenTtlInDays"), int | float):
        return int(meta["refreshTokenTtlInDays"] * 86400)
    if isinstance(meta.get("refreshTokenTtl"), int | float):
        return int(meta["refreshTokenTtl"])
    return DEFAULT_REFRESH_TOKEN_DAYS * 86400


def token_hash(alg: str, value: str) -> str:
    """`at_hash`: the left half of the token's hash with the ID token's algorithm (OIDC Core §3.1.3.6)."""
    digest = HASH_BY_ALG.get(alg[-3:], hashlib.sha256)(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


@dataclass(frozen=True)
class MintRequest:
    client: ClientRecord
    grant: store.Grant
    account: store.Account
    scopes: list[str]  # OIDC scopes of the ID token, opaque access token and refresh token
    resource: str | None
    resource_scopes: list[str] | None  # narrowed at the token endpoint; None: all requested at /oidc/auth
    nonce: str | None
    auth_time: datetime | None
    refresh_token: bool
    refresh_scopes: list[str] | None = None  # a narrowed refresh keeps the grant's scopes on the new token
    organization_id: str | None = None  # an organization token (for `resource`, or the organization itself)


class TokenMinter:
    def __init__(
        self, keyring: Keyring, access_tokens: AccessTokenIssuer, issuer: str, claims: TokenConfigs | None = None
    ) -> None:
        self.keyring = keyring
        self.access_tokens = access_tokens
        self.issuer = issuer
        self.claims = claims  # the tenant's JWT customizer and ID token claims config

    async def mint(self, conn: AsyncConnection, tenant_id: str, req: MintRequest) -> TokenResponse:
        if req.organization_id is not None:
            access_token, expires_in, scope = await self._organization_token(conn, tenant_id, req)
        elif req.resource is not None:
            access_token, expires_in, scope = await self._resource_token(conn, tenant_id, req)
        else:
            access_token, expires_in, scope = await self._opaque_token(conn, tenant_id, req)
        response = TokenResponse(access_token=access_token, expires_in=expires_in, token_type="Bearer", scope=scope)
        if req.refresh_token:
            response.refresh_token = await self.store_token(
                conn, tenant_id, req, "refresh_token", refresh_token_ttl(req.client), req.refresh_scopes or req.scopes
            )
        if "openid" in req.scopes:
            extended: dict[str, object] = {}
            if self.claims is not None:
                enabled = (await self.claims.current(tenant_id)).id_token_claims
                consented_to = req.client.id if req.client.is_third_party else None
                extended = await id_token_extended_claims(
                    conn, tenant_id, req.account, req.scopes, enabled, consented_to=consented_to
                )
            response.id_token = self.id_token(req, access_token, extended)
        return response

    async def needs_queries(self, tenant_id: str, resource: str | None) -> bool:
        """Whether minting for this request reads more than the grant and account: a resource's JWT
        (the resource and the user's scopes on it) or queried extended claims in the ID token. Otherwise
        `mint_on_driver` can mint on an asyncpg connection."""
        if resource is not None:
            return True
        if self.claims is None:
            return False
        return not QUERIED_EXTENDED_CLAIMS.isdisjoint((await self.claims.current(tenant_id)).id_token_claims)

    async def mint_on_driver(self, db: asyncpg.Connection, tenant_id: str, req: MintRequest) -> TokenResponse:
        """`mint` with compiled statements on an asyncpg connection (the caller's transaction, if any), for
        a request `needs_queries` said False to: an opaque access token, the ID token's claims from the
        account alone."""
        assert req.resource is None
        ttl = OPAQUE_ACCESS_TOKEN_TTL
        access_token = await self._store_token_pg(db, tenant_id, req, "access_token", ttl, req.scopes)
        response = TokenResponse(
            access_token=access_token,
            expires_in=OPAQUE_ACCESS_TOKEN_TTL,
            token_type="Bearer",
            scope=" ".join(req.scopes),
        )
        if req.refresh_token:
            response.refresh_token = await self._store_token_pg(
                db, tenant_id, req, "refresh_token", refresh_token_ttl(req.client), req.refresh_scopes or req.scopes
            )
        if "openid" in req.scopes:
            extended: dict[str, object] = {}
            if self.claims is not None:
                # the config `needs_queries` saw had no queried claims (a change since applies to the next token)
                enabled = (await self.claims.current(tenant_id)).id_token_claims
                extended = account_extended_claims(req.account, req.scopes, enabled)
            response.id_token = self.id_token(req, access_token, extended)
        return response

    @staticmethod
    def _new_token(req: MintRequest, kind: str, ttl: int, scopes: list[str]) -> tuple[str, store.Token]:
        value = new_opaque_token()
        now = datetime.now(UTC)
        return value, store.Token(
            id=store.digest(value),
            kind=kind,
            grant_id=req.grant.id,
            client_id=req.client.id,
            account_id=req.account.id,
            scopes=scopes,
            resource=None,
            auth_time=req.auth_time,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
            consumed_at=None,
        )

    async def store_token(
        self, conn: AsyncConnection, tenant_id: str, req: MintRequest, kind: str, ttl: int, scopes: list[str]
    ) -> str:
        value, token = self._new_token(req, kind, ttl, scopes)
        await store.insert_token(conn, tenant_id, token)
        if kind == "refresh_token":
            await store.extend_grant(conn, tenant_id, req.grant.id, token.expires_at)
        return value

    async def _store_token_pg(
        self, db: asyncpg.Connection, tenant_id: str, req: MintRequest, kind: str, ttl: int, scopes: list[str]
    ) -> str:
        value, token = self._new_token(req, kind, ttl, scopes)
        await store.insert_token_pg(db, tenant_id, token)
        if kind == "refresh_token":
            await store.extend_grant_pg(db, tenant_id, req.grant.id, token.expires_at)
        return value

    async def _opaque_token(self, conn: AsyncConnection, tenant_id: str, req: MintRequest) -> tuple[str, int, str]:
        value = await self.store_token(conn, tenant_id, req, "access_token", OPAQUE_ACCESS_TOKEN_TTL, req.scopes)
        return value, OPAQUE_ACCESS_TOKEN_TTL, " ".join(req.scopes)

    async def _resource_token(self, conn: AsyncConnection, tenant_id: str, req: MintRequest) -> tuple[str, int, str]:
        assert req.resource is not None
        resource = await get_resource_by_indicator(conn, tenant_id, req.resource)
        if resource is None:
            raise OAuthError("invalid_target", "resource indicator is missing, or unknown")
        wanted = req.resource_scopes if req.resource_scopes is not None else req.grant.resources.get(req.resource, [])
        # what the user's roles grant right now: a removed role takes effect on the next token
        allowed = await user_resource_scopes(conn, tenant_id, req.account.id, resource.id)
        scopes = [s for s in wanted if s in allowed]
        extra = await self.claims.for_user(tenant_id, req.account, req.client) if self.claims is not None else None
        token = self.access_tokens.issue(
            subject=req.account.id,
            client_id=req.client.id,
            audience=resource.indicator,
            scopes=scopes,
            ttl=resource.access_token_ttl,
            extra=extra,
        )
        return token.token, token.expires_in, token.scope

    async def _organization_token(
        self, conn: AsyncConnection, tenant_id: str, req: MintRequest
    ) -> tuple[str, int, str]:
        assert req.organization_id is not None
        target = await organization_tokens.for_user(
            conn,
            tenant_id,
            req.organization_id,
            req.account.id,
            req.resource,
            third_party_client=req.client.id if req.client.is_third_party else None,
        )
        granted_under = req.resource or ORGANIZATION_RESOURCE
        wanted = req.resource_scopes if req.resource_scopes is not None else req.grant.resources.get(granted_under, [])
        extra = await self.claims.for_user(tenant_id, req.account, req.client) if self.claims is not None else None
        token = self.access_tokens.issue(
            subject=req.account.id,
            client_id=req.client.id,
            audience=target.audience,
            scopes=[s for s in wanted if s in target.allowed],
            ttl=target.ttl,
            extra={**(extra or {}), **target.claims} or None,
        )
        return token.token, token.expires_in, token.scope

    def id_token(self, req: MintRequest, access_token: str, extended: Mapping[str, object] | None = None) -> str:
        key = self.keyring.signing_key
        now = int(time.time())
        ttl = req.client.custom_client_metadata.get("idTokenTtl")
        claims: dict[str, object] = {
            "jti": token_id(),
            "iss": self.issuer,
            "sub": req.account.id,
            "aud": req.client.id,
            "iat": now,
            "exp": now + (int(ttl) if isinstance(ttl, int | float) and ttl > 0 else DEFAULT_ID_TOKEN_TTL),
            "at_hash": token_hash(key.alg, access_token),
        }
        if req.auth_time is not None:
            claims["auth_time"] = int(req.auth_time.timestamp())
        if req.nonce is not None:
            claims["nonce"] = req.nonce
        if req.grant.session_id is not None:  # lets back-channel logout name the session (`sid`)
            claims["sid"] = req.grant.session_id
        claims.update(standard_claims(req.account, req.scopes))
        if extended:
            claims.update(extended)
        # signed like access tokens (the key's `cryptography` object, msgspec-encoded claims): joserfc's
        # `jwt.encode` costs about as much again as the ES384 signature
        return self.access_tokens.sign(key, claims, typ="JWT")
