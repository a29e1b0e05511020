"""Logto's Hasura auth hook (`GET /api/authn/hasura`): Hasura forwards the client's headers here and
gets back the session variables of the request.

The bearer token must be one of our JWT access tokens (signed by a key of the keyring's JWKS, our
issuer, not expired) for the `resource` of the hook's URL. As Logto, the `Expected-Role` header names
the Hasura role, which the user must hold as one of their role names (`users_roles`); without it the
answer carries the user id only. With `unauthorizedRole`, a request that cannot have its expected
role (no valid token, no `Expected-Role`, or a role the user lacks) gets that role instead of a 401,
with the token's subject when the token is valid for another resource."""

from typing import Any

import msgspec
from gatehouse_platform.errors import GatehouseError, Unauthorized
from gatehouse_platform.tokens import AccessToken, TokenValidator, bearer_token
from gatehouse_schema.queries.management import user_role_names
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.keys.keyring import Keyring

USER_ID = "X-Hasura-User-Id"
ROLE = "X-Hasura-Role"


class HasuraAuthn:
    def __init__(self, engine: AsyncEngine, keyring: Keyring, issuer: str) -> None:
        self.engine = engine

        async def published_keys() -> dict[str, Any]:  # our own JWKS, in process
            jwks: dict[str, Any] = msgspec.json.decode(keyring.jwks_json)
            return jwks

        self.validator = TokenValidator(published_keys, issuer, cache_size=10_000)

    def invalidate_keys(self) -> None:
        """The keyring was reloaded (keys rotated or deleted): fetch the JWKS again, verify tokens again."""
        self.validator.invalidate_keys()

    async def _roles(self, tenant_id: str, user_id: str) -> list[str]:
        async with self.engine.connect() as conn:
            return await user_role_names(conn, tenant_id, user_id)

    async def authenticate(
        self,
        tenant_id: str,
        *,
        authorization: str | None,
        resource: str,
        expected_role: str | None,
        unauthorized_role: str | None,
    ) -> dict[str, str]:
        claims: AccessToken | None = None
        error: GatehouseError | None = None
        try:
            claims = await self.validator.validate(bearer_token(authorization))
        except GatehouseError as exc:
            error = exc
        sub = claims.sub if claims is not None and claims.has_audience(resource) else None
        if claims is not None and sub is None:
            error = Unauthorized("auth.unauthorized")  # a token for another resource (or without a subject)
        has_role = bool(expected_role and sub and expected_role in await self._roles(tenant_id, sub))

        if unauthorized_role and not has_role:
            body = {ROLE: unauthorized_role}
            subject = sub or (claims.sub if claims is not None else None)  # as Logto: even for another resource
            if subject:
                body = {USER_ID: subject, **body}
            return body
        if sub is None:
            raise error or Unauthorized("auth.unauthorized")
        if expected_role and not has_role:
            raise Unauthorized("auth.expected_role_not_found")
        return {USER_ID: sub, ROLE: expected_role} if expected_role else {USER_ID: sub}
