"""The generic OpenID Connect connector (Logto's `oidc`, a standard connector): authorization code flow, the
user read from the ID token, verified against the provider's JWKS.

Logto's connector keeps the nonce in the sign-in interaction, which is why Logto cannot link an OIDC identity
through the Management API (`POST /api/users/{id}/identities`). Here the nonce is derived from the state
with the connector's client secret (HMAC-SHA256): the ID token is still bound to the authorization request,
and no session is needed, so linking works too."""

import hashlib
import hmac
import time
from base64 import urlsafe_b64encode
from typing import Any, Literal

import aiohttp
import msgspec
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from msgspec import UNSET, UnsetType

from gatehouse_connectors.http import ConnectorError, get_json, refused, require
from gatehouse_connectors.oauth2 import JwtAlgorithm, TokenAuthMethod, authorization_uri, exchange_code
from gatehouse_connectors.social import SocialResult, SocialUserInfo

CLOCK_TOLERANCE = 60
# what a provider's JWKS may sign ID tokens with when the config names none (joserfc alone would accept only
# its "recommended" few, refusing ES384, which Logto and Gatehouse sign with); never `none` or HMAC
ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]


class IdTokenVerification(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    jwks_uri: str
    issuer: str | list[str] | UnsetType = UNSET
    audience: str | list[str] | UnsetType = UNSET
    algorithms: list[str] | UnsetType = UNSET
    clock_tolerance: int | UnsetType = UNSET


class AuthRequestOptions(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    response_mode: str | UnsetType = UNSET
    display: str | UnsetType = UNSET
    prompt: str | UnsetType = UNSET
    max_age: str | UnsetType = UNSET
    ui_locales: str | UnsetType = UNSET
    id_token_hint: str | UnsetType = UNSET
    login_hint: str | UnsetType = UNSET
    acr_values: str | UnsetType = UNSET


class OidcConfig(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    authorization_endpoint: str
    token_endpoint: str
    client_id: str
    client_secret: str
    scope: str
    id_token_verification_config: IdTokenVerification
    response_type: Literal["code"] = "code"
    grant_type: Literal["authorization_code"] = "authorization_code"
    token_endpoint_auth_method: TokenAuthMethod = "client_secret_post"
    client_secret_jwt_signing_algorithm: JwtAlgorithm = "HS256"
    auth_request_optional_config: AuthRequestOptions | UnsetType = UNSET
    custom_config: dict[str, str] | UnsetType = UNSET

    def scopes(self) -> str:
        """`openid` is always asked for, as Logto's connector does."""
        parts = self.scope.replace("+", " ").split()
        return " ".join(parts if "openid" in parts else ["openid", *parts])


def nonce_for(config: OidcConfig, state: str) -> str:
    digest = hmac.new(config.client_secret.encode(), b"gatehouse-oidc-nonce:" + state.encode(), hashlib.sha256)
    return urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def oidc_authorization_uri(config: OidcConfig, state: str, redirect_uri: str) -> str:
    params: dict[str, str | None] = {
        "response_type": config.response_type,
        "client_id": config.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": config.scopes(),
        "nonce": nonce_for(config, state),
    }
    if not isinstance(config.auth_request_optional_config, UnsetType):
        options = msgspec.to_builtins(config.auth_request_optional_config)
        for key, name in (
            ("responseMode", "response_mode"),
            ("display", "display"),
            ("prompt", "prompt"),
            ("maxAge", "max_age"),
            ("uiLocales", "ui_locales"),
            ("idTokenHint", "id_token_hint"),
            ("loginHint", "login_hint"),
            ("acrValues", "acr_values"),
        ):
            if key in options:
                params[name] = str(options[key])
    return authorization_uri(config.authorization_endpoint, params, config.custom_config)


def _invalid(message: str) -> ConnectorError:
    return refused("connector.social_invalid_id_token", f"The ID token is not valid: {message}")


def _as_list(value: str | list[str] | UnsetType) -> list[str] | None:
    if isinstance(value, UnsetType):
        return None
    return [value] if isinstance(value, str) else value


class IdTokenRejected(Exception):
    """Why an ID token was refused: each caller answers with its own connector error."""


def id_token_claims(
    keys: dict[str, Any],
    id_token: str,
    *,
    audiences: list[str],
    issuers: list[str] | None = None,
    algorithms: list[str] | None = None,
    clock_tolerance: int = CLOCK_TOLERANCE,
) -> dict[str, Any]:
    """The claims of an ID token signed with a key of `keys` (a JWKS document) by one of `algorithms` (the asymmetric
    ones by default): not expired, issued by one of `issuers` (when given) for one of `audiences`, with a subject.
    Raises IdTokenRejected. The nonce is the caller's to check."""
    try:
        key_set = KeySet.import_key_set(keys)  # type: ignore[arg-type]
        token = jwt.decode(id_token, key_set, algorithms=ASYMMETRIC_ALGORITHMS if algorithms is None else algorithms)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise IdTokenRejected(str(error) or type(error).__name__) from None
    claims = token.claims
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] + clock_tolerance < time.time():
        raise IdTokenRejected("it has expired")
    if issuers is not None and claims.get("iss") not in issuers:
        raise IdTokenRejected("unexpected issuer")
    audience = claims.get("aud")
    if not set(audiences) & set(audience if isinstance(audience, list) else [audience]):
        raise IdTokenRejected("unexpected audience")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise IdTokenRejected("no subject")
    return dict(claims)


async def verify_id_token(
    session: aiohttp.ClientSession, config: OidcConfig, id_token: str, nonce: str
) -> dict[str, Any]:
    verification = config.id_token_verification_config
    keys = await get_json(session, verification.jwks_uri)
    try:
        claims = id_token_claims(
            keys,
            id_token,
            audiences=_as_list(verification.audience) or [config.client_id],
            issuers=_as_list(verification.issuer),
            algorithms=None if isinstance(verification.algorithms, UnsetType) else verification.algorithms,
            clock_tolerance=CLOCK_TOLERANCE
            if isinstance(verification.clock_tolerance, UnsetType)
            else verification.clock_tolerance,
        )
    except IdTokenRejected as error:
        raise _invalid(str(error)) from None
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise _invalid("the nonce does not match the authorization request")
    return claims


async def oidc_user_info(session: aiohttp.ClientSession, config: OidcConfig, data: dict[str, Any]) -> SocialResult:
    state = require(data, "state")
    tokens = await exchange_code(session, config, data)
    if isinstance(tokens.id_token, UnsetType):
        raise ConnectorError("connector.invalid_response", "The provider's token response has no id_token.")
    claims = await verify_id_token(session, config, tokens.id_token, nonce_for(config, state))

    def text(key: str) -> str | UnsetType:
        value = claims.get(key)
        return value if isinstance(value, str) and value else UNSET

    info = SocialUserInfo(
        id=claims["sub"],
        name=text("name"),
        avatar=text("picture"),
        email=text("email") if claims.get("email_verified") is True else UNSET,
        phone=text("phone_number") if claims.get("phone_number_verified") is True else UNSET,
        raw_data=claims,
    )
    return SocialResult(user_info=info, tokens=tokens)
