"""Device authorization (RFC 8628), without HTTP: the device endpoint and the user-code pages.

`POST /oidc/device/auth` gives a device a `device_code` (it polls the token endpoint with it) and a
`user_code` (8 letters of node-oidc-provider's base-20 alphabet, shown `XXXX-XXXX`). On another
device the user opens `/oidc/device`, enters the code and is sent to experience's sign-in page with an
interaction bound to the `_interaction` cookie, as `/oidc/auth` does (a browser with a live session
is asked to confirm on the consent page instead). Experience reports the outcome over the
`interaction.result` RPC and sends the browser back; `/oidc/device/{uid}` then marks the device code
approved for the signed-in user, or denied.

As in Logto, only Native applications with `customClientMetadata.isDeviceFlow` use the flow.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

import msgspec
from gatehouse_platform.oauth_errors import OAuthError, invalid_request
from gatehouse_schema.ids import generate_id
from gatehouse_schema.queries.management import ClientRecord, get_resource_by_indicator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.oidc import device_store, store
from gatehouse_identity.oidc.auth_request import OIDC_SCOPES, AuthRequest
from gatehouse_identity.oidc.authorization import INTERACTION_TTL, CookieChange
from gatehouse_identity.oidc.clients import ClientCache
from gatehouse_identity.oidc.cookies import INTERACTION_COOKIE, SESSION_COOKIE, CookieSigner
from gatehouse_identity.oidc.token_endpoint import authenticate_client

DEVICE_CODE_TTL = 600  # node-oidc-provider's default lifetime of a device code
POLL_INTERVAL = 5  # RFC 8628 §3.2 default
USER_CODE_CHARSET = "BCDFGHJKLMNPQRSTVWXZ"  # base-20: no vowels, no look-alike digits
USER_CODE_LENGTH = 8
XSRF_COOKIE = "_device_xsrf"
DEVICE_MARKER = "device"  # in an interaction's AuthRequest.extra: the interaction belongs to a device code


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_CHARSET) for _ in range(USER_CODE_LENGTH))


def format_user_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalize_user_code(raw: str) -> str | None:
    """What the user typed, without dashes, spaces and case; None if it cannot be a user code."""
    code = "".join(ch for ch in raw.upper() if ch.isalnum())
    if len(code) != USER_CODE_LENGTH or any(ch not in USER_CODE_CHARSET for ch in code):
        return None
    return code


def check_device_client(client: ClientRecord) -> None:
    native = client.type == "Native" and not client.is_third_party
    if not native or client.custom_client_metadata.get("isDeviceFlow") is not True:
        raise OAuthError("unauthorized_client", "the device authorization grant is not allowed for this client")


def is_device_interaction(interaction_params: Mapping[str, object]) -> bool:
    extra = interaction_params.get("extra")
    return isinstance(extra, dict) and extra.get(DEVICE_MARKER) == "1"


class DeviceAuthorizationResponse(msgspec.Struct, kw_only=True):
    """RFC 8628 §3.2."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


@dataclass
class DeviceOutcome:
    """A redirect (`location`) or a page to show: `form` (enter a code), `done`, `denied` or `error`."""

    location: str | None = None
    page: str = "form"
    message: str | None = None
    status: int = 200
    user_code: str = ""
    cookies: list[CookieChange] = field(default_factory=list)


def parse_device_request(content_type: str | None, body: bytes) -> dict[str, list[str]]:
    if not content_type or content_type.split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded":
        raise invalid_request("only application/x-www-form-urlencoded content-type bodies are supported")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        raise invalid_request("request body is not valid UTF-8") from None
    params: dict[str, list[str]] = {}
    for key, value in pairs:
        if key in params and key != "resource":
            raise invalid_request(f"'{key}' parameter must not be provided twice")
        params.setdefault(key, []).append(value)
    return params


@dataclass(frozen=True)
class LiveAccount:
    account_id: str
    login_at: datetime


class DeviceFlow:
    def __init__(
        self,
        engine: AsyncEngine,
        clients: ClientCache,
        cookies: CookieSigner,
        issuer: str,
        public_url: str,
        *,
        ttl: int = DEVICE_CODE_TTL,
        interval: int = POLL_INTERVAL,
    ) -> None:
        self.engine = engine
        self.clients = clients
        self.cookies = cookies
        self.issuer = issuer
        self.public_url = public_url.rstrip("/")
        self.ttl = ttl
        self.interval = interval

    @property
    def verification_uri(self) -> str:
        return f"{self.issuer}/device"

    # POST /oidc/device/auth

    async def authorize(
        self, tenant_id: str, authorization: str | None, content_type: str | None, body: bytes
    ) -> DeviceAuthorizationResponse:
        params = parse_device_request(content_type, body)
        form = {k: v[0] for k, v in params.items()}
        client = await authenticate_client(self.clients, tenant_id, authorization, form)
        check_device_client(client)
        requested = list(dict.fromkeys((form.get("scope") or "").split()))
        if "openid" not in requested:
            raise invalid_request("openid scope must be requested for the device authorization grant")
        device_code = secrets.token_urlsafe(32)
        async with self.engine.begin() as conn:
            resources = await self._resources(conn, tenant_id, params.get("resource", []))
            code = device_store.DeviceCode(
                id=store.digest(device_code),
                user_code="",
                client_id=client.id,
                scopes=[s for s in requested if s in OIDC_SCOPES],
                resource_scopes=[s for s in requested if s not in OIDC_SCOPES],
                resources=resources,
                status=device_store.PENDING,
                interaction_id=None,
                account_id=None,
                auth_time=None,
                error_description=None,
                poll_interval=self.interval,
                last_polled_at=None,
                expires_at=datetime.now(UTC) + timedelta(seconds=self.ttl),
                consumed_at=None,
            )
            user_code = await self._insert(conn, tenant_id, code)
        shown = format_user_code(user_code)
        return DeviceAuthorizationResponse(
            device_code=device_code,
            user_code=shown,
            verification_uri=self.verification_uri,
            verification_uri_complete=f"{self.verification_uri}?{urlencode({'user_code': shown})}",
            expires_in=self.ttl,
            interval=self.interval,
        )

    @staticmethod
    async def _resources(conn: AsyncConnection, tenant_id: str, values: list[str]) -> list[str]:
        resources = list(dict.fromkeys(v for v in values if v))
        for indicator in resources:
            parts = urlsplit(indicator)
            if not parts.scheme or parts.fragment:
                raise OAuthError("invalid_target", "resource indicator must be an absolute URI without a fragment")
            if await get_resource_by_indicator(conn, tenant_id, indicator) is None:
                raise OAuthError("invalid_target", f"resource indicator is missing, or unknown ({indicator})")
        return resources

    @staticmethod
    async def _insert(conn: AsyncConnection, tenant_id: str, code: device_store.DeviceCode) -> str:
        """Stores the code under a fresh user code, drawing again on the (rare) clash with a live one."""
        for _ in range(5):
            user_code = new_user_code()
            await device_store.delete_expired_user_code(conn, tenant_id, user_code)
            try:
                async with conn.begin_nested():
                    await device_store.insert(conn, tenant_id, replace(code, user_code=user_code))
            except IntegrityError:
                continue
            return user_code
        raise OAuthError("server_error", "could not allocate a user code")

    # GET|POST /oidc/device

    def new_form(self) -> tuple[str, CookieChange]:
        """A token for the code-entry form and the cookie that must come back with it (double submit)."""
        token = secrets.token_urlsafe(16)
        return token, CookieChange(XSRF_COOKIE, self.cookies.sign(XSRF_COOKIE, token), self.ttl)

    async def submit(
        self, tenant_id: str, params: Mapping[str, str], xsrf_cookie: str | None, session_cookie: str | None
    ) -> DeviceOutcome:
        raw = params.get("user_code", "")
        expected = self.cookies.verify(XSRF_COOKIE, xsrf_cookie)
        if expected is None or not secrets.compare_digest(expected, params.get("xsrf", "")):
            return DeviceOutcome(message="The form has expired. Please enter the code again.", status=400)
        user_code = normalize_user_code(raw)
        wrong = DeviceOutcome(message="The code you entered is incorrect. Try again.", status=400, user_code=raw)
        if user_code is None:
            return wrong
        async with self.engine.begin() as conn:
            code = await device_store.lock_by_user_code(conn, tenant_id, user_code)
            if code is None or not _usable(code):
                return wrong
            live = await self._live_account(conn, tenant_id, session_cookie)
            uid = generate_id()
            prompt = "login" if live is None else "consent"
            await store.create_interaction(
                conn,
                tenant_id,
                store.Interaction(
                    id=uid,
                    client_id=code.client_id,
                    params=_interaction_request(code, self.verification_uri).to_params(),
                    prompt=prompt,
                    session_account_id=None if live is None else live.account_id,
                    result=None,
                ),
                datetime.now(UTC),
                INTERACTION_TTL,
            )
            await device_store.update(conn, tenant_id, code.id, interaction_id=uid)
        cookie = CookieChange(INTERACTION_COOKIE, self.cookies.sign(INTERACTION_COOKIE, uid), INTERACTION_TTL)
        return DeviceOutcome(location=self._page(prompt), cookies=[cookie, CookieChange(XSRF_COOKIE, None)])

    def _page(self, prompt: str) -> str:
        return f"{self.public_url}/consent" if prompt == "consent" else f"{self.public_url}/sign-in"

    async def _live_account(self, conn: AsyncConnection, tenant_id: str, cookie: str | None) -> LiveAccount | None:
        token = self.cookies.verify(SESSION_COOKIE, cookie)
        if token is None:
            return None
        session = await store.get_session(conn, tenant_id, store.digest(token))
        if session is None:
            return None
        account = await store.get_account(conn, tenant_id, session.account_id)
        if account is None or account.is_suspended:
            return None
        return LiveAccount(account.id, session.login_at)

    # GET /oidc/device/{uid}

    async def resume(
        self, tenant_id: str, uid: str, interaction_cookie: str | None, session_cookie: str | None
    ) -> DeviceOutcome:
        if self.cookies.verify(INTERACTION_COOKIE, interaction_cookie) != uid:
            return _error("This sign-in was not found in this browser. Please enter the code again.")
        clear = CookieChange(INTERACTION_COOKIE, None)
        async with self.engine.begin() as conn:
            interaction = await store.get_interaction(conn, tenant_id, uid, for_update=True)
            code = await device_store.lock_by_interaction(conn, tenant_id, uid)
            if interaction is None or code is None:
                return _error("This sign-in has expired. Please enter the code again.", clear)
            if interaction.result is None:  # experience has not reported yet: back to its page
                return DeviceOutcome(location=self._page(interaction.prompt))
            await store.delete_interaction(conn, tenant_id, uid)
            if not _usable(code):
                return _error("The code has expired or was already used. Please start again on your device.", clear)
            outcome = await self._decide(conn, tenant_id, interaction, code, session_cookie)
        outcome.cookies.append(clear)
        return outcome

    async def _decide(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        interaction: store.Interaction,
        code: device_store.DeviceCode,
        session_cookie: str | None,
    ) -> DeviceOutcome:
        result = interaction.result or {}
        if result.get("error"):
            reason = result.get("errorDescription") or "End-User aborted interaction"
            return await self._deny(conn, tenant_id, code, reason)
        if result.get("accountId") is not None:
            account_id, auth_time = result["accountId"], datetime.fromisoformat(result["loginAt"])
        else:  # a signed-in browser confirmed on the consent page
            live = await self._live_account(conn, tenant_id, session_cookie)
            if live is None or live.account_id != interaction.session_account_id or not result.get("consent"):
                return _error("Your session has ended. Please enter the code again.")
            account_id, auth_time = live.account_id, live.login_at
        account = await store.get_account(conn, tenant_id, account_id)
        if account is None or account.is_suspended:
            return await self._deny(conn, tenant_id, code, "the signed-in user is not active")
        await device_store.update(
            conn, tenant_id, code.id, status=device_store.APPROVED, account_id=account.id, auth_time=auth_time
        )
        return DeviceOutcome(page="done", message="Your device is now signed in. You can return to it.")

    @staticmethod
    async def _deny(conn: AsyncConnection, tenant_id: str, code: device_store.DeviceCode, reason: str) -> DeviceOutcome:
        await device_store.update(conn, tenant_id, code.id, status=device_store.DENIED, error_description=reason)
        return DeviceOutcome(page="denied", message="The sign-in was cancelled. Your device was not signed in.")


def _usable(code: device_store.DeviceCode) -> bool:
    return code.status == device_store.PENDING and code.consumed_at is None and code.expires_at > datetime.now(UTC)


def _error(message: str, *cookies: CookieChange) -> DeviceOutcome:
    return DeviceOutcome(page="error", message=message, status=400, cookies=list(cookies))


def _interaction_request(code: device_store.DeviceCode, verification_uri: str) -> AuthRequest:
    """The interaction experience reads (`interaction.get`): the device's scopes and resources."""
    return AuthRequest(
        client_id=code.client_id,
        redirect_uri=verification_uri,
        scopes=code.scopes,
        resource_scopes=code.resource_scopes,
        resources=code.resources,
        prompt=[],
        extra={DEVICE_MARKER: "1"},
    )
