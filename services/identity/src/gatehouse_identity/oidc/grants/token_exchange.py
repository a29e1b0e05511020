"""`grant_type=urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693), as Logto serves it.

Only applications with `customClientMetadata.allowTokenExchange` may use it (third-party apps never).
The subject is a Logto subject token (`sub_...`, from `POST /api/subject-tokens`; type
`...:token-type:access_token`, single use, 600 s) or a personal access token (`pat_...`, type
`urn:logto:token-type:personal_access_token`, until it expires). Without `resource` the result is an
opaque access token (OIDC scopes only) that introspection and revocation know; with `resource` it is a
JWT whose scopes are the requested ones the user's roles grant; with `organization_id` an organization
token (the user must be a member; see `organization_tokens`). An `actor_token` (an access token of
the acting user) adds `act: {sub}` (impersonation). Everything runs in one transaction, so a failed
exchange leaves the subject token unspent.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from gatehouse_platform.oauth_errors import OAuthError, invalid_request
from gatehouse_schema.ids import generate_id
from gatehouse_schema.queries.management import ClientRecord, get_resource_by_indicator, user_resource_scopes
from gatehouse_schema.tables.identity import subject_tokens
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.keys.keyring import Keyring
from gatehouse_identity.oidc import organization_tokens, store
from gatehouse_identity.oidc.auth_request import OIDC_SCOPES
from gatehouse_identity.oidc.end_session import ALGORITHMS
from gatehouse_identity.oidc.introspection import looks_like_jwt
from gatehouse_identity.oidc.issuer import AccessTokenIssuer
from gatehouse_identity.oidc.minting import OPAQUE_ACCESS_TOKEN_TTL, new_opaque_token
from gatehouse_identity.oidc.token_response import TokenResponse
from gatehouse_identity.persistence.personal_access_tokens import PersonalAccessTokenStore
from gatehouse_identity.persistence.subject_tokens import SubjectTokenStore

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
PERSONAL_ACCESS_TOKEN_TYPE = "urn:logto:token-type:personal_access_token"


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def check_client_allowed(client: ClientRecord) -> None:
    if client.is_third_party or client.custom_client_metadata.get("allowTokenExchange") is not True:
        raise OAuthError("unauthorized_client", "requested grant type is not allowed for this client")


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise invalid_request(f"missing required parameter '{name}'")
    return value


@dataclass(frozen=True)
class ExchangeRequest:
    subject_token: str
    subject_token_type: str
    actor_token: str | None
    scopes: list[str]
    resource: str | None
    organization_id: str | None

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> "ExchangeRequest":
        subject_token = _required(form, "subject_token")
        subject_token_type = _required(form, "subject_token_type")
        actor_token = form.get("actor_token") or None
        if actor_token is not None and form.get("actor_token_type") != ACCESS_TOKEN_TYPE:
            raise invalid_grant("unsupported actor token type")
        return cls(
            subject_token=subject_token,
            subject_token_type=subject_token_type,
            actor_token=actor_token,
            scopes=list(dict.fromkeys((form.get("scope") or "").split())),
            resource=form.get("resource") or None,
            organization_id=form.get("organization_id") or None,
        )


class TokenExchangeGrant:
    grant_type = GRANT_TYPE

    def __init__(
        self,
        engine: AsyncEngine,
        access_tokens: AccessTokenIssuer,
        keyring: Keyring,
        issuer: str,
        subject_tokens: SubjectTokenStore,
        personal_access_tokens: PersonalAccessTokenStore,
    ) -> None:
        self.engine = engine
        self.access_tokens = access_tokens
        self.keyring = keyring
        self.issuer = issuer
        self.subject_tokens = subject_tokens
        self.personal_access_tokens = personal_access_tokens

    async def handle(self, tenant_id: str, client: ClientRecord, form: Mapping[str, str]) -> TokenResponse:
        check_client_allowed(client)
        req = ExchangeRequest.parse(form)
        async with self.engine.begin() as conn:
            account = await self._subject_account(conn, tenant_id, req)
            extra: dict[str, Any] = {}
            if req.actor_token is not None:
                extra["act"] = {"sub": await self._actor(conn, tenant_id, req.actor_token)}
            if req.organization_id is not None:
                response = await self._organization_token(conn, tenant_id, client, account, req, extra)
            elif req.resource is not None:
                response = await self._resource_token(conn, tenant_id, client, account, req, extra)
            else:
                response = await self._opaque_token(conn, tenant_id, client, account, req, extra)
        response.issued_token_type = ACCESS_TOKEN_TYPE
        return response

    # the subject

    async def _subject_account(self, conn: AsyncConnection, tenant_id: str, req: ExchangeRequest) -> store.Account:
        if req.subject_token_type == ACCESS_TOKEN_TYPE:
            user_id = await self._spend_subject_token(conn, tenant_id, req.subject_token)
        elif req.subject_token_type == PERSONAL_ACCESS_TOKEN_TYPE:
            user_id = await self._personal_access_token_user(conn, tenant_id, req.subject_token)
        else:
            raise invalid_grant("unsupported subject token type")
        account = await store.get_account(conn, tenant_id, user_id)
        if account is None:
            raise invalid_grant("subject token invalid (referenced account not found)")
        if account.is_suspended:
            raise invalid_grant("the user of the subject token is suspended")
        return account

    async def _spend_subject_token(self, conn: AsyncConnection, tenant_id: str, value: str) -> str:
        """Consumed in this transaction: a concurrent exchange of the same token waits and then fails."""
        token = await self.subject_tokens.consume(conn, tenant_id, value)
        if token is not None:
            return token.user_id
        row = (
            await conn.execute(
                sa.select(subject_tokens.c.consumed_at).where(
                    subject_tokens.c.tenant_id == tenant_id, subject_tokens.c.id == value
                )
            )
        ).one_or_none()
        if row is None:
            raise invalid_grant("subject token not found")
        if row.consumed_at is not None:
            raise invalid_grant("subject token is already consumed")
        raise invalid_grant("subject token is expired")

    async def _personal_access_token_user(self, conn: AsyncConnection, tenant_id: str, value: str) -> str:
        token = await self.personal_access_tokens.find_by_value(conn, tenant_id, value)
        if token is None:
            raise invalid_grant("subject token not found")
        if token.expires_at is not None and token.expires_at <= datetime.now(UTC):
            raise invalid_grant("subject token is expired")
        return token.user_id

    # the actor

    async def _actor(self, conn: AsyncConnection, tenant_id: str, value: str) -> str:
        """The acting user: an opaque access token with `openid` (Logto's rule) or a JWT access token we signed."""
        if looks_like_jwt(value):
            account_id = self._jwt_subject(value)
        else:
            token = await store.get_token(conn, tenant_id, store.digest(value))
            if token is None or token.kind != "access_token" or token.expires_at <= datetime.now(UTC):
                raise invalid_grant("invalid actor token")
            if "openid" not in token.scopes:
                raise invalid_grant("actor token must have openid scope")
            account_id = token.account_id
        actor = await store.get_account(conn, tenant_id, account_id)
        if actor is None or actor.is_suspended:
            raise invalid_grant("invalid actor token (the acting user is not active)")
        return actor.id

    def _jwt_subject(self, value: str) -> str:
        try:
            keys = KeySet.import_key_set(json.loads(self.keyring.jwks_json))
            decoded = jwt.decode(value, keys, algorithms=ALGORITHMS)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer}, exp={"essential": True}, sub={"essential": True}
            ).validate(decoded.claims)
        except (JoseError, ValueError, TypeError):
            raise invalid_grant("invalid actor token") from None
        if decoded.header.get("typ") != "at+jwt":
            raise invalid_grant("invalid actor token (not an access token)")
        return str(decoded.claims["sub"])

    # the issued token

    async def _resource_token(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        client: ClientRecord,
        account: store.Account,
        req: ExchangeRequest,
        extra: dict[str, Any],
    ) -> TokenResponse:
        assert req.resource is not None
        resource = await get_resource_by_indicator(conn, tenant_id, req.resource)
        if resource is None:
            raise OAuthError("invalid_target", "resource indicator is missing, or unknown")
        allowed = await user_resource_scopes(conn, tenant_id, account.id, resource.id)
        token = self.access_tokens.issue(
            subject=account.id,
            client_id=client.id,
            audience=resource.indicator,
            scopes=[s for s in req.scopes if s in allowed],
            ttl=resource.access_token_ttl,
            extra=extra or None,
        )
        return TokenResponse(
            access_token=token.token, expires_in=token.expires_in, token_type="Bearer", scope=token.scope
        )

    async def _organization_token(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        client: ClientRecord,
        account: store.Account,
        req: ExchangeRequest,
        extra: dict[str, Any],
    ) -> TokenResponse:
        """For the organization itself, or for `resource` in its context; the subject must be a member."""
        assert req.organization_id is not None
        target = await organization_tokens.for_user(conn, tenant_id, req.organization_id, account.id, req.resource)
        token = self.access_tokens.issue(
            subject=account.id,
            client_id=client.id,
            audience=target.audience,
            scopes=[s for s in req.scopes if s in target.allowed],
            ttl=target.ttl,
            extra={**extra, **target.claims} or None,
        )
        return TokenResponse(
            access_token=token.token, expires_in=token.expires_in, token_type="Bearer", scope=token.scope
        )

    async def _opaque_token(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        client: ClientRecord,
        account: store.Account,
        req: ExchangeRequest,
        extra: dict[str, Any],
    ) -> TokenResponse:
        """Stored (as a digest) under a grant of its own, as Logto does, so revocation and introspection see it."""
        scopes = [s for s in req.scopes if s in OIDC_SCOPES]
        now = datetime.now(UTC)
        expires_at = now + timedelta(seconds=OPAQUE_ACCESS_TOKEN_TTL)
        grant = await store.upsert_grant(
            conn,
            tenant_id,
            store.Grant(
                id=generate_id(),
                account_id=account.id,
                client_id=client.id,
                session_id=None,
                scopes=scopes,
                resources={},
            ),
            False,
            expires_at,
        )
        value = new_opaque_token()
        await store.insert_token(
            conn,
            tenant_id,
            store.Token(
                id=store.digest(value),
                kind="access_token",
                grant_id=grant.id,
                client_id=client.id,
                account_id=account.id,
                scopes=scopes,
                resource=None,
                auth_time=None,
                created_at=now,
                expires_at=expires_at,
                consumed_at=None,
                extra=extra,
            ),
        )
        return TokenResponse(
            access_token=value, expires_in=OPAQUE_ACCESS_TOKEN_TTL, token_type="Bearer", scope=" ".join(scopes)
        )
