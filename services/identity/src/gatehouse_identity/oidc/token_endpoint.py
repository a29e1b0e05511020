"""`POST /oidc/token`: parse -> authenticate the client -> dispatch by grant type -> render.

Each step raises `OAuthError`; the route renders it with both RFC 6749 and Logto fields.
"""

from collections.abc import Mapping
from typing import Protocol
from urllib.parse import parse_qsl

from gatehouse_platform.oauth_errors import OAuthError, invalid_client, invalid_request
from gatehouse_schema.queries.management import ClientRecord

from gatehouse_identity.oidc.auth_request import PUBLIC_CLIENT_TYPES
from gatehouse_identity.oidc.client_auth import read_credentials, verify_secret
from gatehouse_identity.oidc.clients import ClientCache
from gatehouse_identity.oidc.token_response import TokenResponse


class Grant(Protocol):
    grant_type: str

    async def handle(self, tenant_id: str, client: ClientRecord, form: Mapping[str, str]) -> TokenResponse: ...


def parse_form(content_type: str | None, body: bytes) -> dict[str, str]:
    if not content_type or content_type.split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded":
        raise invalid_request("only application/x-www-form-urlencoded content-type bodies are supported")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise invalid_request("request body is not valid UTF-8") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise invalid_request(f"'{key}' parameter must not be provided twice")
        form[key] = value
    return form


class TokenEndpoint:
    def __init__(self, clients: ClientCache, grants: list[Grant]) -> None:
        self.clients = clients
        self.grants = {g.grant_type: g for g in grants}

    async def handle(
        self, tenant_id: str, authorization: str | None, content_type: str | None, body: bytes
    ) -> TokenResponse:
        form = parse_form(content_type, body)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise invalid_request("missing required parameter 'grant_type'")
        grant = self.grants.get(grant_type)
        if grant is None:
            raise OAuthError("unsupported_grant_type", f"unsupported grant_type requested ({grant_type})")
        client = await authenticate_client(self.clients, tenant_id, authorization, form)
        return await grant.handle(tenant_id, client, form)


async def authenticate_client(
    clients: ClientCache, tenant_id: str, authorization: str | None, form: Mapping[str, str]
) -> ClientRecord:
    """Confidential apps prove a secret (basic or post); public apps (SPA, Native) use `none` and PKCE."""
    credentials = read_credentials(authorization, form)
    client = await clients.get(tenant_id, credentials.client_id)
    if client is None:
        raise invalid_client("client is invalid")
    if client.type in PUBLIC_CLIENT_TYPES:
        if credentials.method != "none":
            raise invalid_client("the registered client token_endpoint_auth_method (none) does not match")
        return client
    verify_secret(client, credentials.client_secret)
    return client
