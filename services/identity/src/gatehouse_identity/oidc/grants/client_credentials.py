"""`grant_type=client_credentials`: a machine-to-machine app gets an access token for one API resource.

The scopes are those its roles grant on that resource: all of them when `scope` is absent,
the requested ones when each is granted (otherwise `invalid_scope`).
"""

from collections.abc import Mapping

from gatehouse_platform.db import CompiledQuery, read_connection
from gatehouse_platform.oauth_errors import OAuthError
from gatehouse_schema.queries.management import ClientRecord, resource_and_application_scopes_select
from sqlalchemy.ext.asyncio import AsyncEngine

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
        indicator = form.get("resource")
        if not indicator:
            raise OAuthError("invalid_target", "no resource indicator was given")
        async with read_connection(self.engine) as conn:
            params = {"tenant_id": tenant_id, "application_id": client.id, "indicator": indicator}
            resource = next(iter(await RESOURCE_AND_SCOPES.fetch(conn, params)), None)
        if resource is None:
            raise OAuthError("invalid_target", "resource indicator is missing, or unknown")
        granted = set(resource["granted"] or ())
        requested = form.get("scope")
        if requested is None:
            scopes = sorted(granted)
        else:
            wanted = requested.split()
            missing = [s for s in wanted if s not in granted]
            if missing:
                raise OAuthError("invalid_scope", f"requested scopes are not allowed: {' '.join(missing)}")
            scopes = list(dict.fromkeys(wanted))
        token = self.issuer.issue(
            subject=client.id,
            client_id=client.id,
            audience=resource["indicator"],
            scopes=scopes,
            ttl=resource["access_token_ttl"],
            extra=await self.claims.for_client(tenant_id, client) if self.claims is not None else None,
        )
        return TokenResponse(
            access_token=token.token, expires_in=token.expires_in, token_type="Bearer", scope=token.scope
        )
