"""Logto's "Authn" group: the Hasura auth hook. Not guarded by the Management API token: Hasura calls
it with the end user's headers (see `oidc.hasura`)."""

from typing import Annotated, Any

from gatehouse_platform.tenancy import tenant_of
from litestar import Request, get
from litestar.params import Parameter

from gatehouse_identity.oidc.hasura import HasuraAuthn


@get(
    "/api/authn/hasura",
    operation_id="GetHasuraAuth",
    tags=["Authn"],
    summary="Hasura auth hook endpoint",
    description="The `HASURA_GRAPHQL_AUTH_HOOK` endpoint for Hasura's webhook authentication.",
    security=[],
)
async def get_hasura_auth(
    request: Request[Any, Any, Any],
    hasura_authn: HasuraAuthn,
    resource: Annotated[str, Parameter(query="resource", min_length=1)],
    unauthorized_role: Annotated[str | None, Parameter(query="unauthorizedRole")] = None,
) -> dict[str, str]:
    return await hasura_authn.authenticate(
        tenant_of(request),
        authorization=request.headers.get("authorization"),
        resource=resource,
        expected_role=request.headers.get("expected-role"),
        unauthorized_role=unauthorized_role,
    )


ROUTES = [get_hasura_auth]
