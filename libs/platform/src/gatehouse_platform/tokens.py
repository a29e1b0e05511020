"""The bearer-token validator every service uses for the Management and Account APIs.

Keys come from identity's JWKS (fetched over HTTP, cached, refetched on an unknown `kid` and
when a `SigningKey.Rotated` event arrives). Verifying an ES384 signature costs ~0.5 ms of CPU,
so verified tokens are cached by the SHA-256 of the token until they expire (bounded LRU).
"""

import asyncio
import base64
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import msgspec
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gatehouse_platform.errors import Forbidden, Unauthorized
from gatehouse_platform.logging import get_logger

log = get_logger("gatehouse.tokens")

SUPPORTED_ALGORITHMS = ["ES384", "ES256", "ES512", "RS256", "RS384", "RS512", "PS256", "EdDSA"]


class AccessToken(msgspec.Struct, kw_only=True, frozen=True):
    """The claims of a verified JWT access token."""

    iss: str
    sub: str | None = None
    aud: str | list[str] | None = None
    client_id: str | None = None
    scope: str = ""
    exp: int
    iat: int | None = None
    jti: str | None = None
    organization_id: str | None = None

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())

    def has_audience(self, audience: str) -> bool:
        return self.aud == audience or (isinstance(self.aud, list) and audience in self.aud)


JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


def http_jwks_fetcher(jwks_url: str, timeout: float = 3.0) -> JwksFetcher:
    async def fetch() -> dict[str, Any]:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.get(jwks_url) as resp,
        ):
            resp.raise_for_status()
            body: dict[str, Any] = await resp.json(content_type=None)
            return body

    return fetch


def _unverified_header(token: str) -> dict[str, Any]:
    head = token.split(".", 1)[0]
    head += "=" * (-len(head) % 4)
    header: dict[str, Any] = msgspec.json.decode(base64.urlsafe_b64decode(head), type=dict[str, Any])
    return header


class TokenValidator:
    def __init__(
        self,
        fetch_jwks: JwksFetcher,
        issuer: str,
        *,
        cache_size: int = 50_000,
        leeway: int = 30,
        refetch_interval: float = 1.0,
    ) -> None:
        self._fetch = fetch_jwks
        self.issuer = issuer
        self._keys: dict[str, Any] = {}
        self._cache: OrderedDict[bytes, AccessToken] = OrderedDict()
        self._cache_size = cache_size
        self._leeway = leeway
        self._refetch_interval = refetch_interval
        self._last_fetch = 0.0
        self._stale = False
        self._lock = asyncio.Lock()

    def invalidate_keys(self) -> None:
        """Called on the key-rotation event: the next token refetches the JWKS before it is checked
        (a deleted key stops verifying) and verified tokens are checked again."""
        self._last_fetch = 0.0
        self._stale = True
        self._cache.clear()

    async def _refresh_keys(self) -> None:
        async with self._lock:
            if time.monotonic() - self._last_fetch < self._refetch_interval:
                return
            self._last_fetch = time.monotonic()
            try:
                jwks = await self._fetch()
                key_set = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
            except Exception as exc:
                # keep the keys we had (identity may be restarting); retried after the interval
                log.warning("jwks fetch failed", error=repr(exc))
                return
            self._keys = {k.kid: k for k in key_set.keys if k.kid}
            self._stale = False

    async def validate(self, token: str) -> AccessToken:
        digest = hashlib.sha256(token.encode()).digest()
        now = int(time.time())
        cached = self._cache.get(digest)
        if cached is not None:
            if cached.exp + self._leeway >= now:
                self._cache.move_to_end(digest)
                return cached
            del self._cache[digest]
        claims = await self._verify(token, now)
        self._cache[digest] = claims
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return claims

    async def _verify(self, token: str, now: int) -> AccessToken:
        try:
            header = _unverified_header(token)
        except Exception:
            raise Unauthorized("auth.unauthorized") from None
        kid = header.get("kid")
        alg = header.get("alg")
        if not isinstance(kid, str) or alg not in SUPPORTED_ALGORITHMS:
            raise Unauthorized("auth.unauthorized")
        if self._stale or kid not in self._keys:
            await self._refresh_keys()  # at most once per `refetch_interval`
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("auth.unauthorized")
        try:
            decoded = jwt.decode(token, key, algorithms=[alg])
            claims = msgspec.convert(decoded.claims, AccessToken)
        except (JoseError, ValueError, msgspec.ValidationError):
            raise Unauthorized("auth.unauthorized") from None
        if claims.iss != self.issuer or claims.exp + self._leeway < now:
            raise Unauthorized("auth.unauthorized")
        return claims


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer ...` header, with Logto's errors when it is absent or odd."""
    if not authorization:
        raise Unauthorized("auth.authorization_header_missing")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("auth.authorization_token_type_not_supported")
    return token.strip()


def require_audience_and_scope(token: AccessToken, audience: str, scope: str) -> None:
    """As Logto: a token for another resource is not valid here (401); a missing scope is forbidden (403)."""
    if not token.has_audience(audience):
        raise Unauthorized("auth.unauthorized")
    if scope not in token.scopes:
        raise Forbidden("auth.forbidden")
