"""Validation of an authorization request (`/oidc/auth`), one named step each.

Until the client and its redirect URI are known, errors are shown to the browser (JSON); after that
they go back to the client's redirect URI (`RedirectableError`), as RFC 6749 §4.1.2.1 requires.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from gatehouse_platform.oauth_errors import OAuthError, invalid_request
from gatehouse_schema.queries.management import ClientRecord, get_resource_by_indicator
from gatehouse_schema.queries.organizations import ORGANIZATION_RESOURCE
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_identity.oidc.discovery import ORGANIZATION_SCOPES, SCOPES_SUPPORTED

PUBLIC_CLIENT_TYPES = frozenset({"SPA", "Native"})
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
MULTI_VALUED = frozenset({"resource"})
PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
OIDC_SCOPES = frozenset(SCOPES_SUPPORTED + ORGANIZATION_SCOPES)


class RedirectableError(Exception):
    """An error to send back to the client's redirect URI."""

    def __init__(self, error: OAuthError, redirect_uri: str, state: str | None) -> None:
        super().__init__(error.error_description)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state


@dataclass(frozen=True)
class AuthRequest:
    """A validated authorization request; stored on the interaction as `params`."""

    client_id: str
    redirect_uri: str
    scopes: list[str]  # OIDC scopes granted to the user's session (openid, profile, offline_access, ...)
    resource_scopes: list[str]  # the other requested scopes, looked up on the requested resources
    resources: list[str]
    prompt: list[str]
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    login_hint: str | None = None
    max_age: int | None = None
    ui_locales: str | None = None
    interaction_mode: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def to_params(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "AuthRequest":
        return cls(**params)


def is_device_flow_client(client: ClientRecord) -> bool:
    """Logto's device-flow app (Native with `customClientMetadata.isDeviceFlow`): its only grants are
    the device code and refresh token grants, so no authorization request and no authorization code."""
    return client.type == "Native" and client.custom_client_metadata.get("isDeviceFlow") is True


def collect_params(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in pairs:
        params.setdefault(key, []).append(value)
    return params


def _single(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1 and name not in MULTI_VALUED:
        raise invalid_request(f"'{name}' parameter must not be provided twice")
    return values[0] or None


def check_client_and_redirect(params: Mapping[str, list[str]], client: ClientRecord | None) -> tuple[str, str | None]:
    """(redirect_uri, state) once both the client and an exactly registered redirect URI are known."""
    if client is None:
        raise OAuthError("invalid_client", "client is invalid")
    redirect_uri = _single(params, "redirect_uri")
    if redirect_uri is None:
        raise invalid_request("missing required parameter 'redirect_uri'")
    registered = client.oidc_client_metadata.get("redirectUris") or []
    if redirect_uri not in registered:
        raise OAuthError(
            "invalid_redirect_uri", "redirect_uri did not match any of the client's registered redirect_uris"
        )
    return redirect_uri, _single(params, "state")


def _scopes(raw: str | None, prompt: set[str], client: ClientRecord) -> tuple[list[str], list[str]]:
    requested = list(dict.fromkeys((raw or "").split()))
    if "openid" not in requested:
        raise invalid_request("openid scope must be requested when using the authorization endpoint")
    oidc = [s for s in requested if s in OIDC_SCOPES]
    # OIDC Core §11: offline_access needs prompt=consent, unless the app asks to always issue refresh tokens
    always = bool(client.custom_client_metadata.get("alwaysIssueRefreshToken"))
    if "offline_access" in oidc and "consent" not in prompt and not always:
        oidc.remove("offline_access")
    return oidc, [s for s in requested if s not in OIDC_SCOPES]


def _prompt(raw: str | None) -> set[str]:
    prompt = set((raw or "").split())
    unknown = prompt - PROMPTS
    if unknown:
        raise invalid_request(f"unsupported prompt value requested: {' '.join(sorted(unknown))}")
    if "none" in prompt and len(prompt) > 1:
        raise invalid_request("prompt none must only be used alone")
    return prompt


def _pkce(params: Mapping[str, list[str]], client: ClientRecord) -> tuple[str | None, str | None]:
    challenge = _single(params, "code_challenge")
    method = _single(params, "code_challenge_method")
    if challenge is None:
        if method is not None:
            raise invalid_request("code_challenge must be provided with code_challenge_method")
        if client.type in PUBLIC_CLIENT_TYPES:
            raise invalid_request("PKCE must be used for public clients (code_challenge is missing)")
        return None, None
    if method != "S256":
        raise invalid_request("not supported value of code_challenge_method (only S256 is allowed)")
    if not PKCE_CHALLENGE.match(challenge):
        raise invalid_request("code_challenge must be a string with a minimum length of 43 characters")
    return challenge, method


def _max_age(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise invalid_request("invalid max_age parameter value (must be a non-negative integer)")
    return int(raw)


async def _resources(conn: AsyncConnection, tenant_id: str, values: list[str]) -> list[str]:
    resources = list(dict.fromkeys(values))
    for indicator in resources:
        if indicator == ORGANIZATION_RESOURCE:  # Logto's reserved resource of organization scopes
            continue
        parts = urlsplit(indicator)
        if not parts.scheme or parts.fragment:
            raise OAuthError("invalid_target", "resource indicator must be an absolute URI without a fragment")
        if await get_resource_by_indicator(conn, tenant_id, indicator) is None:
            raise OAuthError("invalid_target", f"resource indicator is missing, or unknown ({indicator})")
    return resources


async def validate_request(
    conn: AsyncConnection, tenant_id: str, client: ClientRecord, redirect_uri: str, params: Mapping[str, list[str]]
) -> AuthRequest:
    """Everything after the redirect URI; raises `OAuthError` (the caller redirects it)."""
    response_type = _single(params, "response_type")
    if response_type is None:
        raise invalid_request("missing required parameter 'response_type'")
    if response_type != "code":
        raise OAuthError("unsupported_response_type", f"unsupported response_type requested ({response_type})")
    if client.type == "MachineToMachine" or is_device_flow_client(client):
        raise OAuthError("unauthorized_client", "requested response_type is not allowed for this client")
    response_mode = _single(params, "response_mode")
    if response_mode not in (None, "query"):
        raise invalid_request(f"unsupported response_mode requested ({response_mode})")
    prompt = _prompt(_single(params, "prompt"))
    scopes, resource_scopes = _scopes(_single(params, "scope"), prompt, client)
    challenge, method = _pkce(params, client)
    return AuthRequest(
        client_id=client.id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        resource_scopes=resource_scopes,
        resources=await _resources(conn, tenant_id, params.get("resource", [])),
        prompt=sorted(prompt),
        state=_single(params, "state"),
        nonce=_single(params, "nonce"),
        code_challenge=challenge,
        code_challenge_method=method,
        login_hint=_single(params, "login_hint"),
        max_age=_max_age(_single(params, "max_age")),
        ui_locales=_single(params, "ui_locales"),
        interaction_mode=_single(params, "interaction_mode") or _single(params, "first_screen"),
    )
