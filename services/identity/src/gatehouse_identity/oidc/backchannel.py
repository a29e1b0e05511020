"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0).

When a session ends at `/oidc/session/end`, every client that held a grant in it and registered a
`backchannelLogoutUri` (in its `oidcClientMetadata`) is sent a logout token: a JWT signed with the
current key, `typ` `logout+jwt`, carrying `iss`, `aud` (the client), `iat`, `exp`, `jti`, the
back-channel `events` member, `sub` and `sid` (the session id that the ID tokens of the session carry
as `sid`, so it is sent whether or not the client set `backchannelLogoutSessionRequired`).

Sending happens after the logout committed, in a background task off the request path: one POST per
client (`application/x-www-form-urlencoded`, `logout_token=...`), each bounded by `timeout`. A failure
is logged and otherwise ignored, as the specification allows: the RP's session ends when it expires.
"""

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
from gatehouse_platform.logging import get_logger
from gatehouse_schema.ids import generate_id
from joserfc import jwt

from gatehouse_identity.keys.keyring import Keyring
from gatehouse_identity.oidc.clients import ClientCache

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TTL = 120
log = get_logger("gatehouse.identity.backchannel")


class BackchannelLogout:
    def __init__(self, keyring: Keyring, clients: ClientCache, issuer: str, timeout: float = 5.0) -> None:
        self.keyring = keyring
        self.clients = clients
        self.issuer = issuer
        self.timeout = timeout
        self._tasks: set[asyncio.Task[None]] = set()

    def logout_token(self, client_id: str, account_id: str, session_id: str) -> str:
        key = self.keyring.signing_key
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + LOGOUT_TOKEN_TTL,
            "jti": generate_id(),
            "events": {BACKCHANNEL_EVENT: {}},
            "sub": account_id,
            "sid": session_id,
        }
        header = {"alg": key.alg, "typ": "logout+jwt", "kid": key.kid}
        return jwt.encode(header, claims, key.key, algorithms=[key.alg])

    def notify(self, tenant_id: str, account_id: str, session_id: str, client_ids: Sequence[str]) -> None:
        """Schedules the notifications of an ended session; returns at once."""
        if not client_ids:
            return
        task = asyncio.create_task(self._send_all(tenant_id, account_id, session_id, list(client_ids)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Waits for the notifications in flight (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _targets(self, tenant_id: str, client_ids: list[str]) -> list[tuple[str, str]]:
        targets = []
        for client_id in client_ids:
            client = await self.clients.get(tenant_id, client_id)
            uri = client.oidc_client_metadata.get("backchannelLogoutUri") if client is not None else None
            if isinstance(uri, str) and uri:
                targets.append((client_id, uri))
        return targets

    async def _send_all(self, tenant_id: str, account_id: str, session_id: str, client_ids: list[str]) -> None:
        try:
            targets = await self._targets(tenant_id, client_ids)
            if not targets:
                return
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with aiohttp.ClientSession(timeout=timeout) as http:
                await asyncio.gather(
                    *(self._send(http, uri, self.logout_token(cid, account_id, session_id)) for cid, uri in targets)
                )
        except Exception as exc:  # never let a notification failure escape the background task
            log.warning("back-channel logout failed", tenant=tenant_id, error=repr(exc))

    async def _send(self, http: aiohttp.ClientSession, uri: str, token: str) -> None:
        try:
            async with http.post(uri, data={"logout_token": token}, allow_redirects=False) as response:
                if response.status not in (200, 204):
                    log.warning("back-channel logout refused", uri=uri, status=response.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("back-channel logout not delivered", uri=uri, error=repr(exc))
