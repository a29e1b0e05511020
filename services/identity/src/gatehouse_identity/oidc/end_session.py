"""`/oidc/session/end`: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

`id_token_hint` (signed by one of our keys; it may have expired) names the client;
`post_logout_redirect_uri` must be registered for that client. The browser's session ends and the
session's grants are revoked, except those holding `offline_access`: as in Logto (node-oidc-provider),
refresh tokens issued for offline access survive logout. Clients that held a grant in the session
are then sent back-channel logout tokens (`oidc.backchannel`), after the commit and off the request.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass

from gatehouse_platform.oauth_errors import invalid_request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.keys.keyring import Keyring
from gatehouse_identity.oidc import store
from gatehouse_identity.oidc.authorization import CookieChange, with_query
from gatehouse_identity.oidc.backchannel import BackchannelLogout
from gatehouse_identity.oidc.clients import ClientCache
from gatehouse_identity.oidc.cookies import SESSION_COOKIE, CookieSigner
from gatehouse_identity.oidc.user_sessions import session_client_ids

ALGORITHMS = ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512"]


@dataclass(frozen=True)
class Logout:
    location: str | None  # None: show the signed-out page
    cookies: list[CookieChange]


class EndSession:
    def __init__(
        self,
        engine: AsyncEngine,
        clients: ClientCache,
        cookies: CookieSigner,
        keyring: Keyring,
        issuer: str,
        backchannel: BackchannelLogout | None = None,
    ) -> None:
        self.backchannel = backchannel
        self.engine = engine
        self.clients = clients
        self.cookies = cookies
        self.keyring = keyring
        self.issuer = issuer

    def _hint_client(self, hint: str) -> str:
        try:
            keys = KeySet.import_key_set(json.loads(self.keyring.jwks_json))
            claims = jwt.decode(hint, keys, algorithms=ALGORITHMS).claims
        except (JoseError, ValueError, TypeError):
            raise invalid_request("could not validate id_token_hint") from None
        aud = claims.get("aud")
        if claims.get("iss") != self.issuer or not isinstance(aud, str):
            raise invalid_request("id_token_hint was not issued by this provider")
        return aud

    async def end(self, tenant_id: str, params: Mapping[str, str], session_cookie: str | None) -> Logout:
        hint = params.get("id_token_hint")
        client_id = params.get("client_id")
        if hint:
            hinted = self._hint_client(hint)
            if client_id is not None and client_id != hinted:
                raise invalid_request("client_id does not match the id_token_hint audience")
            client_id = hinted
        location = None
        redirect = params.get("post_logout_redirect_uri")
        if redirect:
            client = await self.clients.get(tenant_id, client_id) if client_id else None
            if client is None:
                raise invalid_request("post_logout_redirect_uri requires id_token_hint or client_id")
            if redirect not in (client.oidc_client_metadata.get("postLogoutRedirectUris") or []):
                raise invalid_request("post_logout_redirect_uri not registered")
            location = with_query(redirect, {"state": params.get("state")})
        token = self.cookies.verify(SESSION_COOKIE, session_cookie)
        if token is not None:
            session_id = store.digest(token)
            async with self.engine.begin() as conn:
                session = await store.get_session(conn, tenant_id, session_id)
                client_ids = await session_client_ids(conn, tenant_id, session_id) if session is not None else []
                await store.revoke_session_grants(conn, tenant_id, session_id)
                await store.delete_session(conn, tenant_id, session_id)
            if session is not None and self.backchannel is not None:
                self.backchannel.notify(tenant_id, session.account_id, session_id, client_ids)
        return Logout(location, [CookieChange(SESSION_COOKIE, None)])
