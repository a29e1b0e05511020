"""The tenant's signing keys in memory: the key that signs now and the public JWKS.

Keys live in identity's `signing_keys` table. The first start of a tenant generates an EC P-384
signing key (ES384, Logto's default) and, in `oidc_cookie_keys`, a cookie key; generation runs in a
thread, off the event loop. The keyring is reloaded when a `SigningKey.Rotated` event arrives.

The JWKS publishes the `Current`, `Next` and `Previous` public keys. A `Next` key starts signing at
its `effective_at` without waiting for anyone to write the promotion down: every replica compares
the clock with the time it loaded from the table (see `rotation.promoted`).
"""

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from gatehouse_schema.ids import generate_id, generate_secret
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy.ext.asyncio import AsyncEngine

from gatehouse_identity.keys.rotation import (
    JWKS_ORDER,
    KeyState,
    KeyStatus,
    find,
    ordered,
    promoted,
    promotion_due_at,
)
from gatehouse_identity.keys.store import (
    CookieKey,
    CookieKeyStore,
    KeyMaterial,
    SigningKeyStore,
    lock_cookie_keys,
    lock_keys,
)

ALGORITHM_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
COOKIE_KEY_ID_LENGTH = 21


def generate_signing_key(algorithm: str = "EC") -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(alg, private JWK, public JWK) of a new key. CPU-bound: call it in a thread."""
    key: ECKey | RSAKey
    if algorithm == "RSA":
        key, alg = RSAKey.generate_key(2048, private=True, auto_kid=True), "RS256"
    else:
        key, alg = ECKey.generate_key("P-384", private=True, auto_kid=True), "ES384"
    private = key.as_dict(private=True)
    public = key.as_dict(private=False)
    for jwk in (private, public):
        jwk["alg"] = alg
        jwk["use"] = "sig"
    return alg, private, public


def new_cookie_key(now: datetime) -> CookieKey:
    """A random secret, as Logto's `generateOidcCookieKey`."""
    return CookieKey(generate_id(COOKIE_KEY_ID_LENGTH), generate_secret(32), now)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    key: ECKey | RSAKey


def _import_key(jwk: dict[str, Any]) -> ECKey | RSAKey:
    return RSAKey.import_key(jwk) if jwk["kty"] == "RSA" else ECKey.import_key(jwk)


class Keyring:
    def __init__(self, engine: AsyncEngine, tenant_id: str) -> None:
        self.engine = engine
        self.tenant_id = tenant_id
        self.signing_keys = SigningKeyStore()
        self.cookie_store = CookieKeyStore()
        self.changed = asyncio.Event()  # set on every load: wakes the promotion timer
        self._states: list[KeyState] = []
        self._material: dict[str, KeyMaterial] = {}
        self._imported: dict[str, ECKey | RSAKey] = {}
        self._signing: SigningKey | None = None
        self._jwks: bytes = b'{"keys":[]}'
        self._due: float | None = None  # epoch seconds when the pending Next key starts signing
        self._load_lock = asyncio.Lock()

    @property
    def signing_key(self) -> SigningKey:
        self._catch_up()
        if self._signing is None:
            raise RuntimeError("keyring not loaded")
        return self._signing

    @property
    def jwks_json(self) -> bytes:
        self._catch_up()
        return self._jwks

    @property
    def promotion_due_at(self) -> datetime | None:
        return promotion_due_at(self._states)

    async def ensure_key(self) -> None:
        """Generate the tenant's first signing and cookie keys if it has none (one writer across replicas)."""
        async with self.engine.connect() as conn:
            has_signing = bool(await self.signing_keys.states(conn, self.tenant_id))
            has_cookie = bool(await self.cookie_store.all(conn, self.tenant_id))
        if has_signing and has_cookie:
            return
        generated = None if has_signing else await asyncio.to_thread(generate_signing_key)
        async with self.engine.begin() as conn:
            await lock_keys(conn, self.tenant_id)
            now = datetime.now(UTC)
            if generated is not None and not await self.signing_keys.states(conn, self.tenant_id):
                alg, private, public = generated
                first = KeyState(private["kid"], alg, KeyStatus.CURRENT, now, now)
                await self.signing_keys.insert(conn, self.tenant_id, first, KeyMaterial(private, public))
            await lock_cookie_keys(conn, self.tenant_id)
            if not await self.cookie_store.all(conn, self.tenant_id):
                await self.cookie_store.insert(conn, self.tenant_id, new_cookie_key(now))

    async def load(self) -> None:
        async with self._load_lock:
            async with self.engine.connect() as conn:
                keys = await self.signing_keys.with_material(conn, self.tenant_id)
            if find([state for state, _ in keys], KeyStatus.CURRENT) is None:
                raise RuntimeError(f"tenant {self.tenant_id} has no current signing key")
            self._material = {state.id: material for state, material in keys}
            self._imported = {
                kid: self._imported.get(kid) or _import_key(m.private_jwk) for kid, m in self._material.items()
            }
            self._publish([state for state, _ in keys])
        self.changed.set()

    def _catch_up(self) -> None:
        """A pending key whose time has come signs from now on, in every replica, table written or not."""
        if self._due is not None and time.time() >= self._due:
            self._publish(promoted(self._states, datetime.now(UTC)))

    def _publish(self, states: list[KeyState]) -> None:
        current = find(states, KeyStatus.CURRENT)
        assert current is not None
        self._states = ordered(states)
        self._signing = SigningKey(current.id, current.algorithm, self._imported[current.id])
        public = [self._material[k.id].public_jwk for k in ordered(states, JWKS_ORDER)]
        self._jwks = msgspec.json.encode({"keys": public})
        due = promotion_due_at(states)
        self._due = due.timestamp() if due is not None else None
