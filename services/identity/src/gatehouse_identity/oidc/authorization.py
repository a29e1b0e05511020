"""The authorization endpoint and its interaction handoff, without HTTP.

`/oidc/auth` validates the request, then either issues a code at once (a live session, no login or
consent needed) or stores an interaction and sends the browser to experience's sign-in (or consent)
page with the interaction bound to the `_interaction` cookie. Experience reports the outcome over
RPC (`interaction.result`); the browser then comes back to `/oidc/auth/{uid}` (Logto's resume
route), which creates the session and grant and redirects to the client with the code.
"""

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from gatehouse_platform.errors import NotFound
from gatehouse_platform.oauth_errors import OAuthError, invalid_request
from gatehouse_schema.ids import generate_id
from gatehouse_schema.queries.management import ClientRecord
from gatehouse_schema.rpc.identity import InteractionDetails, InteractionGet, InteractionResult, InteractionResultReply
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.oidc import store
from gatehouse_identity.oidc.auth_request import (
    AuthRequest,
    RedirectableError,
    check_client_and_redirect,
    validate_request,
)
from gatehouse_identity.oidc.clients import ClientCache
from gatehouse_identity.oidc.cookies import INTERACTION_COOKIE, SESSION_COOKIE, CookieSigner

CODE_TTL = 60
INTERACTION_TTL = 3600
SESSION_TTL = 14 * 86400
GRANT_TTL = 14 * 86400


@dataclass(frozen=True)
class CookieChange:
    name: str
    value: str | None  # None: clear the cookie
    max_age: int = 0


@dataclass
class Outcome:
    """Where to send the browser, and the cookies to set or clear on the way."""

    location: str
    cookies: list[CookieChange] = field(default_factory=list)


def with_query(url: str, params: dict[str, str | None]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def error_location(issuer: str, exc: RedirectableError) -> str:
    return with_query(
        exc.redirect_uri,
        {
            "error": exc.error.error,
            "error_description": exc.error.error_description,
            "state": exc.state,
            "iss": issuer,
        },
    )


@dataclass(frozen=True)
class LiveSession:
    token_id: str  # digest of the cookie's session token
    account: store.Account
    login_at: datetime


class AuthorizationService:
    def __init__(self, engine: AsyncEngine, clients: ClientCache, cookies: CookieSigner, issuer: str, public_url: str):
        self.engine = engine
        self.clients = clients
        self.cookies = cookies
        self.issuer = issuer
        self.public_url = public_url.rstrip("/")

    # /oidc/auth

    async def authorize(self, tenant_id: str, params: dict[str, list[str]], session_cookie: str | None) -> Outcome:
        client_ids = params.get("client_id") or [""]
        if len(client_ids) > 1:
            raise invalid_request("'client_id' parameter must not be provided twice")
        if not client_ids[0]:
            raise invalid_request("missing required parameter 'client_id'")
        client = await self.clients.get(tenant_id, client_ids[0])
        redirect_uri, state = check_client_and_redirect(params, client)
        assert client is not None
        try:
            async with self.engine.begin() as conn:
                req = await validate_request(conn, tenant_id, client, redirect_uri, params)
                return await self._decide(conn, tenant_id, client, req, session_cookie)
        except OAuthError as exc:
            return Outcome(error_location(self.issuer, RedirectableError(exc, redirect_uri, state)))

    async def _decide(
        self, conn: AsyncConnection, tenant_id: str, client: ClientRecord, req: AuthRequest, session_cookie: str | None
    ) -> Outcome:
        session = await self._live_session(conn, tenant_id, session_cookie)
        now = datetime.now(UTC)
        need_login = (
            session is None
            or "login" in req.prompt
            or (req.max_age is not None and (now - session.login_at).total_seconds() > req.max_age)
        )
        need_consent = session is not None and await self._needs_consent(
            conn, tenant_id, client, req, session.account.id
        )
        if "none" in req.prompt:
            if need_login:
                raise OAuthError("login_required", "End-User authentication is required")
            if need_consent:
                raise OAuthError("consent_required", "End-User consent is required")
        if not need_login and not need_consent and session is not None:
            return Outcome(await self._issue_code(conn, tenant_id, client, req, session, consented=False))
        uid = generate_id()
        prompt = "login" if need_login else "consent"
        await store.create_interaction(
            conn,
            tenant_id,
            store.Interaction(
                id=uid,
                client_id=client.id,
                params=req.to_params(),
                prompt=prompt,
                session_account_id=None if session is None else session.account.id,
                result=None,
            ),
            now,
            INTERACTION_TTL,
        )
        return Outcome(
            self._page(prompt, req),
            [CookieChange(INTERACTION_COOKIE, self.cookies.sign(INTERACTION_COOKIE, uid), INTERACTION_TTL)],
        )

    def _page(self, prompt: str, req: AuthRequest) -> str:
        if prompt == "consent":
            return f"{self.public_url}/consent"
        if req.interaction_mode in ("signUp", "register"):
            return f"{self.public_url}/register"
        return f"{self.public_url}/sign-in"

    async def _live_session(self, conn: AsyncConnection, tenant_id: str, cookie: str | None) -> LiveSession | None:
        token = self.cookies.verify(SESSION_COOKIE, cookie)
        if token is None:
            return None
        session = await store.get_session(conn, tenant_id, store.digest(token))
        if session is None:
            return None
        account = await store.get_account(conn, tenant_id, session.account_id)
        if account is None or account.is_suspended:
            return None
        return LiveSession(session.id, account, session.login_at)

    async def _needs_consent(
        self, conn: AsyncConnection, tenant_id: str, client: ClientRecord, req: AuthRequest, account_id: str
    ) -> bool:
        """First-party apps never ask; third-party apps need consent to every requested scope."""
        if not client.is_third_party:
            return False
        if "consent" in req.prompt:
            return True
        consented = await store.consented_scopes(conn, tenant_id, account_id, client.id)
        return not set(req.scopes + req.resource_scopes) <= consented

    async def _issue_code(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        client: ClientRecord,
        req: AuthRequest,
        session: LiveSession,
        *,
        consented: bool,
    ) -> str:
        now = datetime.now(UTC)
        grant = await store.upsert_grant(
            conn,
            tenant_id,
            store.Grant(
                id=generate_id(),
                account_id=session.account.id,
                client_id=client.id,
                session_id=session.token_id,
                scopes=req.scopes + (req.resource_scopes if consented else []),
                resources={r: req.resource_scopes for r in req.resources},
            ),
            consented,
            now + timedelta(seconds=GRANT_TTL),
        )
        code = secrets.token_urlsafe(32)
        await store.insert_code(
            conn,
            tenant_id,
            store.Code(
                id=store.digest(code),
                grant_id=grant.id,
                client_id=client.id,
                account_id=session.account.id,
                redirect_uri=req.redirect_uri,
                code_challenge=req.code_challenge,
                code_challenge_method=req.code_challenge_method,
                scopes=req.scopes,
                resource=None,
                nonce=req.nonce,
                auth_time=session.login_at,
                expires_at=now + timedelta(seconds=CODE_TTL),
                consumed_at=None,
            ),
        )
        return with_query(req.redirect_uri, {"code": code, "state": req.state, "iss": self.issuer})

    # GET /oidc/auth/{uid}

    async def resume(
        self, tenant_id: str, uid: str, interaction_cookie: str | None, session_cookie: str | None
    ) -> Outcome:
        if self.cookies.verify(INTERACTION_COOKIE, interaction_cookie) != uid:
            raise invalid_request("interaction session not found: the interaction cookie is missing or does not match")
        clear = CookieChange(INTERACTION_COOKIE, None)
        async with self.engine.begin() as conn:
            interaction = await store.get_interaction(conn, tenant_id, uid, for_update=True)
            if interaction is None:
                raise invalid_request("interaction session not found or expired")
            req = AuthRequest.from_params(interaction.params)
            if req.extra.get("device") == "1":  # a device authorization finishes at /oidc/device/{uid}
                return Outcome(f"{self.issuer}/device/{uid}")
            client = await self.clients.get(tenant_id, interaction.client_id)
            if client is None:
                raise OAuthError("invalid_client", "client is invalid")
            result = interaction.result
            if result is None:  # experience has not reported yet: back to its page
                return Outcome(self._page(interaction.prompt, req))
            try:
                return await self._finish(conn, tenant_id, client, req, interaction, result, session_cookie, clear)
            except OAuthError as exc:
                await store.delete_interaction(conn, tenant_id, uid)
                redirect = RedirectableError(exc, req.redirect_uri, req.state)
                return Outcome(error_location(self.issuer, redirect), [clear])

    async def _finish(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        client: ClientRecord,
        req: AuthRequest,
        interaction: store.Interaction,
        result: dict[str, Any],
        session_cookie: str | None,
        clear: CookieChange,
    ) -> Outcome:
        if result.get("error"):
            raise OAuthError("access_denied", result.get("errorDescription") or "End-User aborted interaction")
        cookies = [clear]
        session = await self._live_session(conn, tenant_id, session_cookie)
        account_id = result.get("accountId")
        if account_id is not None:  # a fresh sign-in: a new session replaces the browser's old one
            account = await store.get_account(conn, tenant_id, account_id)
            if account is None:
                raise OAuthError("access_denied", "the signed-in user does not exist")
            if account.is_suspended:
                raise OAuthError("access_denied", "the user is suspended")
            if session is not None:
                await store.delete_session(conn, tenant_id, session.token_id)
            token = secrets.token_urlsafe(32)
            login_at = datetime.fromisoformat(result["loginAt"])
            await store.create_session(conn, tenant_id, store.digest(token), account.id, login_at, SESSION_TTL)
            session = LiveSession(store.digest(token), account, login_at)
            cookies.append(CookieChange(SESSION_COOKIE, self.cookies.sign(SESSION_COOKIE, token), SESSION_TTL))
        elif session is None or session.account.id != interaction.session_account_id:
            raise OAuthError("login_required", "the session of the consenting user has ended")
        consented = bool(result.get("consent"))
        if not consented and await self._needs_consent(conn, tenant_id, client, req, session.account.id):
            await store.update_interaction(
                conn, tenant_id, interaction.id, prompt="consent", session_account_id=session.account.id, result=None
            )
            return Outcome(self._page("consent", req), cookies[1:])
        await store.delete_interaction(conn, tenant_id, interaction.id)
        return Outcome(await self._issue_code(conn, tenant_id, client, req, session, consented=consented), cookies)

    # RPC: interaction.get / interaction.result

    async def details(self, tenant_id: str, request: InteractionGet) -> InteractionDetails:
        uid = request.uid
        if request.cookie is not None:
            uid = self.cookies.verify(INTERACTION_COOKIE, request.cookie)
            if uid is None or (request.uid is not None and request.uid != uid):
                raise NotFound("session.not_found")
        if uid is None:
            raise NotFound("session.not_found")
        async with self.engine.connect() as conn:
            interaction = await store.get_interaction(conn, tenant_id, uid)
        if interaction is None:
            raise NotFound("session.not_found")
        req = AuthRequest.from_params(interaction.params)
        client = await self.clients.get(tenant_id, interaction.client_id)
        return InteractionDetails(
            uid=uid,
            client_id=interaction.client_id,
            prompt=interaction.prompt,
            scopes=req.scopes,
            resource_scopes=req.resource_scopes,
            resources=req.resources,
            login_hint=req.login_hint,
            ui_locales=req.ui_locales,
            interaction_mode=req.interaction_mode,
            session_account_id=interaction.session_account_id,
            is_third_party=client is not None and client.is_third_party,
        )

    async def record_result(self, tenant_id: str, request: InteractionResult) -> InteractionResultReply:
        async with self.engine.begin() as conn:
            interaction = await store.get_interaction(conn, tenant_id, request.uid, for_update=True)
            if interaction is None:
                raise NotFound("session.not_found")
            result: dict[str, Any] = dict(interaction.result or {})
            if request.error is not None:
                result = {"error": request.error, "errorDescription": request.error_description}
            elif request.account_id is not None:
                if await store.get_account(conn, tenant_id, request.account_id) is None:
                    raise NotFound("entity.not_exists_with_id", name="user", id=request.account_id)
                signed_in_at = datetime.now(UTC)
                result = {
                    "accountId": request.account_id,
                    "loginAt": signed_in_at.isoformat(),
                    "consent": request.consent,
                }
                # the user's `lastSignInAt`, as Logto keeps it (no data-hook event for it, as in Logto)
                await store.record_sign_in(conn, tenant_id, request.account_id, signed_in_at)
            elif request.consent and interaction.session_account_id is not None:
                result["consent"] = True
            else:
                raise OAuthError("invalid_request", "an interaction result needs accountId, consent or error")
            await store.update_interaction(conn, tenant_id, request.uid, result=result)
        return InteractionResultReply(redirect_to=f"{self.issuer}/auth/{request.uid}")
