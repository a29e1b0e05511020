"""`grant_type=client_credentials`: a machine-to-machine app gets an access token for one API resource.

The scopes are those its roles grant on that resource: all of them when `scope` is absent,
the requested ones when each is granted (otherwise `invalid_scope`).
"""

from collections.abc import Mapping

from gatehouse_platform.oauth_errors import OAuthError
from gatehouse_schema.queries.management import (
    ClientRecord,
    application_resource_scopes,
    get_resource_by_indicator,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.oidc.issuer import AccessTokenIssuer
from gatehouse_identity.oidc.token_response import TokenResponse


class ClientCredentialsGrant:
    grant_type = "client_credentials"

    def __init__(self, engine: AsyncEngine, issuer: AccessTokenIssuer) -> None:
        self.engine = engine
        self.issuer = issuer

    async def handle(self, tenant_id: str, client: ClientRecord, form: Mapping[str, str]) -> TokenResponse:
        if client.type != "MachineToMachine":
            raise OAuthError("unauthorized_client", "requested grant type is not allowed for this client")
        indicator = form.get("resource")
        if not indicator:
            raise OAuthError("invalid_target", "no resource indicator was given")
        async with self.engine.connect() as conn:
            resource = await get_resource_by_indicator(conn, tenant_id, indicator)
            if resource is None:
                raise OAuthError("invalid_target", "resource indicator is missing, or unknown")
            granted = await application_resource_scopes(conn, tenant_id, client.id, resource.id)
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
            audience=resource.indicator,
            scopes=scopes,
            ttl=resource.access_token_ttl,
        )
        return TokenResponse(
            access_token=token.token, expires_in=token.expires_in, token_type="Bearer", scope=token.scope
        )
