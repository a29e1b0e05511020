"""`grant_type=client_credentials`: a machine-to-machine app gets an access token for one API resource.

The scopes are those its roles grant on that resource: all of them when `scope` is absent,
the requested ones when each is granted (otherwise `invalid_scope`). With `organization_id` (Logto's
organization-level machine-to-machine access) the app must be a member of the organization, and the
scopes are those its organization roles grant: organization scopes for the organization itself (no
`resource`), or the resource's scopes (see `organization_tokens`).
"""

from collections.abc import Mapping

from gatehouse_platform.db import CompiledQuery, read_connection
from gatehouse_platform.oauth_errors import OAuthError
from gatehouse_schema.queries.management import ClientRecord, resource_and_application_scopes_select
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.oidc import organization_tokens
from gatehouse_identity.oidc.issuer import AccessTokenIssuer
from gatehouse_identity.oidc.token_configs import TokenConfigs
from gatehouse_identity.oidc.token_response import TokenResponse

# the resource and the scopes the app's roles grant on it: one statement, compiled once, no transaction
RESOURCE_AND_SCOPES = CompiledQuery(resource_and_application_scopes_select())


class ClientCredentialsGrant:
    grant_type = "client_credentials"

    def __init__(self, engine: AsyncEngine, issuer: AccessTokenIssuer, claims: TokenConfigs | None = None) -> None:
        self.engine = engine
        self.issuer = issuer
        self.claims = claims  # the tenant's `client-credentials` JWT customizer (cached)

    async def handle(self, tenant_id: str, client: ClientRecord, form: Mapping[str, str]) -> TokenResponse:
        if client.type != "MachineToMachine":
            raise OAuthError("unauthorized_client", "requested grant type is not allowed for this client")
        indicator = form.get("resource") or None
        organization_id = form.get("organization_id") or None
        if organization_id is not None:
            return await self._organization_token(tenant_id, client, organization_id, indicator, form.get("scope"))
        if not indicator:
            raise OAuthError("invalid_target", "no resource indicator was given")
        async with read_connection(self.engine) as conn:
            params = {"tenant_id": tenant_id, "application_id": client.id, "indicator": indicator}
            resource = next(iter(await RESOURCE_AND_SCOPES.fetch(conn, params)), None)
        if resource is None:
            raise OAuthError("invalid_target", "resource indicator is missing, or unknown")
        scopes = _scopes(set(resource["granted"] or ()), form.get("scope"))
        return await self._issue(tenant_id, client, resource["indicator"], scopes, resource["access_token_ttl"])

    async def _organization_token(
        self, tenant_id: str, client: ClientRecord, organization_id: str, indicator: str | None, scope: str | None
    ) -> TokenResponse:
        async with self.engine.connect() as conn:
            target = await organization_tokens.for_application(conn, tenant_id, organization_id, client.id, indicator)
        scopes = _scopes(set(target.allowed), scope)
        return await self._issue(tenant_id, client, target.audience, scopes, target.ttl, target.claims)

    async def _issue(
        self,
        tenant_id: str,
        client: ClientRecord,
        audience: str,
        scopes: list[str],
        ttl: int,
        claims: dict[str, object] | None = None,
    ) -> TokenResponse:
        extra = await self.claims.for_client(tenant_id, client) if self.claims is not None else None
        if claims:
            extra = {**(extra or {}), **claims}
        token = self.issuer.issue(
            subject=client.id, client_id=client.id, audience=audience, scopes=scopes, ttl=ttl, extra=extra
        )
        return TokenResponse(
            access_token=token.token, expires_in=token.expires_in, token_type="Bearer", scope=token.scope
        )


def _scopes(granted: set[str], requested: str | None) -> list[str]:
    """All granted scopes when `scope` is absent, else the requested ones, each of which must be granted."""
    if requested is None:
        return sorted(granted)
    wanted = requested.split()
    missing = [s for s in wanted if s not in granted]
    if missing:
        raise OAuthError("invalid_scope", f"requested scopes are not allowed: {' '.join(missing)}")
    return list(dict.fromkeys(wanted))
