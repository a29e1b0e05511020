"""Signed cookies (`_interaction`, `_session`): `<value>.<HMAC-SHA256>`, keyed per tenant.

Keys live in `identity.oidc_cookie_keys`; the newest signs, every stored key verifies, so adding a
key rotates without breaking cookies already handed out. The first start creates one key.
"""

import base64
import hashlib
import hmac
import secrets

import sqlalchemy as sa
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables.identity import oidc_cookie_keys
from sqlalchemy.ext.asyncio import AsyncEngine

INTERACTION_COOKIE = "_interaction"
SESSION_COOKIE = "_session"


def _mac(key: bytes, name: str, value: str) -> str:
    digest = hmac.new(key, f"{name}={value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class CookieSigner:
    def __init__(self, engine: AsyncEngine, tenant_id: str) -> None:
        self.engine = engine
        self.tenant_id = tenant_id
        self._keys: list[bytes] = []

    async def load(self) -> None:
        """Read the tenant's keys, creating the first one if there is none (one writer wins)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"cookie-keys:{self.tenant_id}"}
            )
            query = (
                sa.select(oidc_cookie_keys.c.secret)
                .where(oidc_cookie_keys.c.tenant_id == self.tenant_id)
                .order_by(oidc_cookie_keys.c.created_at.desc())
            )
            keys = list((await conn.execute(query)).scalars())
            if not keys:
                secret = secrets.token_urlsafe(32)
                await conn.execute(
                    sa.insert(oidc_cookie_keys).values(tenant_id=self.tenant_id, id=generate_id(), secret=secret)
                )
                keys = [secret]
        self._keys = [k.encode() for k in keys]

    def sign(self, name: str, value: str) -> str:
        return f"{value}.{_mac(self._keys[0], name, value)}"

    def verify(self, name: str, cookie: str | None) -> str | None:
        """The value of a cookie whose signature any current key produced, else None."""
        if not cookie or "." not in cookie:
            return None
        value, _, mac = cookie.rpartition(".")
        for key in self._keys:
            if hmac.compare_digest(mac.encode(), _mac(key, name, value).encode()):
                return value
        return None
