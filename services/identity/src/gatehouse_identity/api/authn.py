"""Logto's "Authn" group: the Hasura auth hook and the SAML assertion consumer service. Not guarded by the
Management API token: Hasura calls the hook with the end user's headers (see `oidc.hasura`), an IdP's Response
arrives through the user's browser (see `services/saml_sign_in.py`)."""

from typing import Annotated, Any

from gatehouse_connectors.http import ConnectorError
from gatehouse_platform.tenancy import tenant_of
from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_302_FOUND

from gatehouse_identity.oidc.hasura import HasuraAuthn
from gatehouse_identity.services.saml_sign_in import SOCIAL, SSO, SamlSignIn


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


async def _saml_body(request: Request[Any, Any, Any]) -> tuple[str | None, str]:
    """The posted `SAMLResponse` and `RelayState`: a form (as IdPs post it) or JSON (as Logto's contract
    describes it); 400 `connector.invalid_response` without a `SAMLResponse`."""
    content_type = request.headers.get("content-type", "")
    try:
        body: Any = dict(await request.form()) if "form" in content_type else await request.json()
    except (ValueError, TypeError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("SAMLResponse"), str):
        raise ConnectorError("connector.invalid_response", "The request has no `SAMLResponse`.")
    relay_state = body.get("RelayState")
    return (relay_state if isinstance(relay_state, str) else None), body["SAMLResponse"]


@post(
    "/api/authn/saml/{connectorId:str}",
    operation_id="AssertSaml",
    tags=["Authn"],
    summary="SAML ACS endpoint (social)",
    description="The assertion consumer service of the SAML social connector: verifies the IdP's Response and "
    "sends the browser back to the sign-in flow.",
    security=[],
    status_code=HTTP_302_FOUND,
)
async def assert_saml(request: Request[Any, Any, Any], saml_sign_in: SamlSignIn, connectorId: str) -> Redirect:
    relay_state, saml_response = await _saml_body(request)
    target = await saml_sign_in.consume_assertion(tenant_of(request), SOCIAL, connectorId, relay_state, saml_response)
    return Redirect(target, status_code=HTTP_302_FOUND)


@post(
    "/api/authn/single-sign-on/saml/{connectorId:str}",
    operation_id="AssertSingleSignOnSaml",
    tags=["Authn"],
    summary="SAML ACS endpoint (SSO)",
    description="The assertion consumer service of enterprise SSO connectors of a SAML provider: verifies the "
    "IdP's Response and sends the browser back to the sign-in flow.",
    security=[],
    status_code=HTTP_302_FOUND,
)
async def assert_single_sign_on_saml(
    request: Request[Any, Any, Any], saml_sign_in: SamlSignIn, connectorId: str
) -> Redirect:
    relay_state, saml_response = await _saml_body(request)
    target = await saml_sign_in.consume_assertion(tenant_of(request), SSO, connectorId, relay_state, saml_response)
    return Redirect(target, status_code=HTTP_302_FOUND)


ROUTES = [get_hasura_auth, assert_saml, assert_single_sign_on_saml]
