"""The generic OAuth 2.0 connector (Logto's `oauth2`, a standard connector): authorization code flow against
any provider, the user read from its user info endpoint through `profileMap`."""

import secrets
import time
from base64 import b64encode
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlencode

import aiohttp
import msgspec
from joserfc import jwt
from joserfc.jwk import OctKey
from msgspec import UNSET, UnsetType

from gatehouse_connectors.http import ConnectorError, get_json, post_form, require
from gatehouse_connectors.social import SocialResult, SocialUserInfo, TokenSet

TokenAuthMethod = Literal["client_secret_post", "client_secret_basic", "client_secret_jwt"]
JwtAlgorithm = Literal["HS256", "HS384", "HS512"]


class ProfileMap(msgspec.Struct, kw_only=True, omit_defaults=False):
    """Which user info key holds each profile field (Logto's defaults)."""

    id: str = "id"
    email: str = "email"
    phone: str = "phone"
    name: str = "name"
    avatar: str = "avatar"


class OAuth2Config(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True, forbid_unknown_fields=False):
    authorization_endpoint: str
    token_endpoint: str
    user_info_endpoint: str
    client_id: str
    client_secret: str
    response_type: Literal["code"] = "code"
    grant_type: Literal["authorization_code"] = "authorization_code"
    scope: str | UnsetType = UNSET
    token_endpoint_response_type: Literal["query-string", "json"] = "query-string"
    token_endpoint_auth_method: TokenAuthMethod = "client_secret_post"
    client_secret_jwt_signing_algorithm: JwtAlgorithm = "HS256"
    profile_map: ProfileMap = msgspec.field(default_factory=ProfileMap)
    custom_config: dict[str, str] | UnsetType = UNSET


def authorization_uri(endpoint: str, params: dict[str, str | None], custom: dict[str, str] | UnsetType = UNSET) -> str:
    query = {k: v for k, v in params.items() if v is not None}
    if custom is not UNSET:
        query.update(custom)
    separator = "&" if "?" in endpoint else "?"
    return endpoint + separator + urlencode(query, quote_via=quote)


def oauth2_authorization_uri(config: OAuth2Config, state: str, redirect_uri: str) -> str:
    return authorization_uri(
        config.authorization_endpoint,
        {
            "response_type": config.response_type,
            "client_id": config.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": config.scope or None,
        },
        config.custom_config,
    )


class TokenClient(Protocol):
    """What a token request needs of a connector's config (both generic connectors have it)."""

    token_endpoint: str
    client_id: str
    client_secret: str
    token_endpoint_auth_method: TokenAuthMethod
    client_secret_jwt_signing_algorithm: JwtAlgorithm


async def exchange_code(
    session: aiohttp.ClientSession, client: TokenClient, data: dict[str, Any], *, query_string: bool = False
) -> TokenSet:
    """The authorization code in `data` (with the `redirectUri` it was issued for) exchanged for tokens."""
    code, redirect_uri = require(data, "code"), require(data, "redirectUri")
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    return await token_request(session, client, form, query_string=query_string)


async def refresh_tokens(
    session: aiohttp.ClientSession, client: TokenClient, refresh_token: str, *, query_string: bool = False
) -> TokenSet:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await token_request(session, client, form, query_string=query_string)


async def token_request(
    session: aiohttp.ClientSession, client: TokenClient, form: dict[str, str], *, query_string: bool = False
) -> TokenSet:
    """A token endpoint request with the connector's client authentication."""
    headers: dict[str, str] = {}
    client_id, client_secret = client.client_id, client.client_secret
    if client.token_endpoint_auth_method == "client_secret_basic":
        pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()
        headers["Authorization"] = "Basic " + b64encode(pair).decode()
    elif client.token_endpoint_auth_method == "client_secret_jwt":
        assertion = client_secret_jwt(
            client_id, client_secret, client.token_endpoint, client.client_secret_jwt_signing_algorithm
        )
        form |= {
            "client_id": client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }
    else:
        form |= {"client_id": client_id, "client_secret": client_secret}
    body = await post_form(session, client.token_endpoint, form, headers=headers, query_string=query_string)
    return token_set(body)


def client_secret_jwt(client_id: str, client_secret: str, audience: str, algorithm: JwtAlgorithm) -> str:
    """RFC 7523 client authentication with the client secret as the HMAC key."""
    now = int(time.time())
    claims: dict[str, str | int] = {"iss": client_id, "sub": client_id, "aud": audience}
    claims |= {"jti": secrets.token_urlsafe(16), "iat": now, "exp": now + 600}
    return jwt.encode({"alg": algorithm}, claims, OctKey.import_key(client_secret.encode()))


def token_set(body: dict[str, Any]) -> TokenSet:
    access_token = body.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise ConnectorError("connector.invalid_response", "The provider's token response has no access_token.")
    expires_in = body.get("expires_in")
    expires_at: int | UnsetType = UNSET
    if isinstance(expires_in, int | float | str) and str(expires_in).isdigit():
        expires_at = int(time.time()) + int(expires_in)

    def text(key: str) -> str | UnsetType:
        value = body.get(key)
        return value if isinstance(value, str) and value else UNSET

    return TokenSet(
        access_token=access_token,
        token_type=text("token_type"),
        scope=text("scope"),
        refresh_token=text("refresh_token"),
        id_token=text("id_token"),
        expires_at=expires_at,
    )


def _text(value: Any) -> str | UnsetType:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return UNSET


async def oauth2_user_info(session: aiohttp.ClientSession, config: OAuth2Config, data: dict[str, Any]) -> SocialResult:
    query_string = config.token_endpoint_response_type == "query-string"
    tokens = await exchange_code(session, config, data, query_string=query_string)
    token_type = tokens.token_type or "Bearer"
    profile = await get_json(
        session, config.user_info_endpoint, headers={"Authorization": f"{token_type} {tokens.access_token}"}
    )
    fields = config.profile_map
    user_id = _text(profile.get(fields.id))
    if isinstance(user_id, UnsetType):
        raise ConnectorError("connector.invalid_response", f"The user info has no `{fields.id}`.")
    info = SocialUserInfo(
        id=user_id,
        email=_text(profile.get(fields.email)),
        phone=_text(profile.get(fields.phone)),
        name=_text(profile.get(fields.name)),
        avatar=_text(profile.get(fields.avatar)),
        raw_data=profile,
    )
    return SocialResult(user_info=info, tokens=tokens)
