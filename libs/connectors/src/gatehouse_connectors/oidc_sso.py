"""The OIDC enterprise SSO connector (Logto's `packages/core/src/sso/OidcConnector`, which its OIDC, Okta, Google
Workspace and Microsoft Entra ID (OIDC) providers share): the provider is discovered from its issuer at each step
(`{issuer}/.well-known/openid-configuration`), the authorization request carries a random nonce the caller keeps
(Logto's connector session), and the user is the ID token's subject with the profile of the user info endpoint.

Every failure has Logto's `SsoConnectorError` code: `connector.invalid_config` (the config, or a discovery
document that cannot be fetched or lacks an endpoint), `connector.invalid_request_parameters` (no `code` in the
connector data) and `connector.authorization_failed` (the token request, the ID token, the user info). Logto
answers all of them with 500; Gatehouse answers 400, and 401 for a refused authorization (as its social
connectors do), since none of them is a fault of the server."""

import hmac
import re
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
from msgspec import UnsetType

from gatehouse_connectors.http import ConnectorError, get_json
from gatehouse_connectors.oauth2 import JwtAlgorithm, TokenAuthMethod, authorization_uri, refresh_tokens, token_request
from gatehouse_connectors.oidc import IdTokenRejected, id_token_claims
from gatehouse_connectors.social import TokenSet

SSO_ERROR_STATUS = {"authorization_failed": 401}  # every other code: 400
ISSUED_AT_TOLERANCE = 600  # Logto's `issuedAtTimeTolerance`: |iat - now| at most 10 minutes
REQUIRED_SCOPES = ("openid", "profile", "email")
# the standard claims Logto maps itself; any other user info claim is kept with its key camelCased
STANDARD_CLAIMS = frozenset({"sub", "name", "picture", "email", "email_verified", "phone", "phone_verified"})


def sso_error(code: str, message: str) -> ConnectorError:
    return ConnectorError(f"connector.{code}", message, status=SSO_ERROR_STATUS.get(code, 400))


class OidcSsoConfig(msgspec.Struct, kw_only=True, rename="camel"):
    """Logto's `basicOidcConnectorConfigGuard`; other keys of the stored config are ignored, as zod drops them."""

    client_id: str
    client_secret: str
    issuer: str
    scope: str | None = None


def parse_sso_config(config: dict[str, Any], *, fixed_issuer: str | None = None) -> OidcSsoConfig:
    """The connector's config; `fixed_issuer` is a provider's own (Google Workspace's). 400
    `connector.invalid_config` when it does not fit."""
    try:
        return msgspec.convert({**config, "issuer": fixed_issuer} if fixed_issuer else config, OidcSsoConfig)
    except msgspec.ValidationError as error:
        raise sso_error("invalid_config", f"The OIDC connector's config is invalid: {error}") from None


def sso_scope(configured: str | None) -> str:
    """Logto's `scopePostProcessor`: the configured scopes (split on spaces or `+`) and openid, profile and email."""
    scopes = [s for s in re.split(r"[ +]", configured or "") if s]
    return " ".join(dict.fromkeys([*scopes, *REQUIRED_SCOPES]))


class OidcDiscovery(msgspec.Struct, kw_only=True):
    """What Logto's `oidcConfigResponseGuard` requires of the discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str


async def discover(session: aiohttp.ClientSession, issuer: str) -> OidcDiscovery:
    url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    try:
        document = await get_json(session, url)
    except ConnectorError as error:
        raise sso_error("invalid_config", f"The OIDC configuration cannot be fetched: {error.message}") from None
    try:
        return msgspec.convert(document, OidcDiscovery)
    except msgspec.ValidationError as error:
        raise sso_error("invalid_config", f"The OIDC configuration at {url} is invalid: {error}") from None


def sso_authorization_uri(
    discovery: OidcDiscovery, config: OidcSsoConfig, *, state: str, nonce: str, redirect_uri: str
) -> str:
    params: dict[str, str | None] = {
        "state": state,
        "nonce": nonce,
        "client_id": config.client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": sso_scope(config.scope),
    }
    return authorization_uri(discovery.authorization_endpoint, params)


@dataclass
class _BasicClient:
    """The token client: `client_secret_basic`, as Logto's newer SSO connector authenticates."""

    token_endpoint: str
    client_id: str
    client_secret: str
    token_endpoint_auth_method: TokenAuthMethod = "client_secret_basic"
    client_secret_jwt_signing_algorithm: JwtAlgorithm = "HS256"


@dataclass(frozen=True)
class SsoResult:
    """The IdP's user (Logto's `ExtendedSocialUserInfo`) and the token response it came with (Logto's
    `tokenResponse`, which a connector with `enableTokenStorage` keeps in the secret vault)."""

    user_info: dict[str, Any]
    tokens: TokenSet


def _camel(key: str) -> str:
    head, *rest = [part for part in re.split(r"[_\-\s.]+", key) if part] or [key]
    return head[:1].lower() + head[1:] + "".join(part[:1].upper() + part[1:] for part in rest)


async def sso_user_info(
    session: aiohttp.ClientSession,
    discovery: OidcDiscovery,
    config: OidcSsoConfig,
    connector_data: dict[str, Any],
    *,
    redirect_uri: str,
    nonce: str | None,
) -> SsoResult:
    """Logto's `OidcConnector.getUserInfo`: the code exchanged (with the authorization request's redirect URI), the
    ID token verified against the discovered JWKS (the discovered issuer, the client id as audience, issued within
    10 minutes, its nonce, when it has one, the stored one), then the user info endpoint read with the access token.
    The user info is Logto's `ExtendedSocialUserInfo`: `id` (the ID token's subject), `name`, `avatar` (picture),
    `email` and `phone` only when verified, and every other user info claim camelCased. Gatehouse also requires the
    user info's `sub` to be the ID token's (OpenID Connect Core 5.3.2), which Logto does not check."""
    code = connector_data.get("code")
    if not isinstance(code, str) or not code:
        raise sso_error("invalid_request_parameters", "The authorization response has no `code`.")
    client = _BasicClient(discovery.token_endpoint, config.client_id, config.client_secret)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    try:
        tokens = await token_request(session, client, form)
    except ConnectorError as error:
        raise sso_error("authorization_failed", f"The token request failed: {error.message}") from None
    if isinstance(tokens.id_token, UnsetType):
        raise sso_error("authorization_failed", "The token response has no id_token.")
    try:
        keys = await get_json(session, discovery.jwks_uri)
        claims = id_token_claims(keys, tokens.id_token, audiences=[config.client_id], issuers=[discovery.issuer])
    except ConnectorError as error:
        raise sso_error("authorization_failed", f"The provider's keys cannot be read: {error.message}") from None
    except IdTokenRejected as error:
        raise sso_error("authorization_failed", f"The id_token is invalid: {error}") from None
    issued_at = claims.get("iat")
    if not isinstance(issued_at, int | float) or abs(issued_at - time.time()) > ISSUED_AT_TOLERANCE:
        raise sso_error("authorization_failed", "id_token is expired")
    if "nonce" in claims and not hmac.compare_digest(str(claims["nonce"]), nonce or ""):
        raise sso_error("authorization_failed", "nonce does not match")
    try:
        profile = await get_json(
            session, discovery.userinfo_endpoint, headers={"Authorization": f"Bearer {tokens.access_token}"}
        )
    except ConnectorError as error:
        raise sso_error("authorization_failed", f"The user info cannot be read: {error.message}") from None
    if profile.get("sub") != claims["sub"]:
        raise sso_error("authorization_failed", "The user info is not of the id_token's subject.")
    info: dict[str, Any] = {_camel(k): v for k, v in profile.items() if k not in STANDARD_CLAIMS}
    info["id"] = claims["sub"]
    for key, source in (("name", "name"), ("avatar", "picture")):
        if profile.get(source):
            info[key] = profile[source]
        else:
            info.pop(key, None)
    for key in ("email", "phone"):
        info.pop(key, None)
        if profile.get(key) and profile.get(f"{key}_verified") is True:
            info[key] = profile[key]
    return SsoResult(user_info=info, tokens=tokens)


async def sso_refresh(
    session: aiohttp.ClientSession, discovery: OidcDiscovery, config: OidcSsoConfig, refresh_token: str
) -> TokenSet:
    """Logto's `OidcConnector.getTokenByRefreshToken`: a `refresh_token` grant at the discovered token endpoint,
    with the client's basic authentication. A refused refresh is 401 `connector.authorization_failed`."""
    client = _BasicClient(discovery.token_endpoint, config.client_id, config.client_secret)
    try:
        return await refresh_tokens(session, client, refresh_token)
    except ConnectorError as error:
        raise sso_error("authorization_failed", f"The refresh token request failed: {error.message}") from None
