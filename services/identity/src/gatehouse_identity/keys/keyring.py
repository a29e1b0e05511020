"""The tenant's signing keys in memory: the key that signs now and the public JWKS.

Keys live in identity's `signing_keys` table. The first start of a tenant generates an EC P-384
key (ES384, Logto's default); generation runs in a thread, off the event loop. The keyring is
reloaded when a `SigningKey.Rotated` event arrives.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from gatehouse_schema.tables.identity import signing_keys
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy.ext.asyncio import AsyncEngine

ALGORITHM_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}


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
        self._signing: SigningKey | None = None
        self._jwks: bytes = b'{"keys":[]}'

    @property
    def signing_key(self) -> SigningKey:
        if self._signing is None:
            raise RuntimeError("keyring not loaded")
        return self._signing

    @property
    def jwks_json(self) -> bytes:
        return self._jwks

    async def ensure_key(self) -> None:
        """Generate the tenant's first key if it has none (serialised across replicas by a lock)."""
        async with self.engine.connect() as conn:
            exists = (
                await conn.execute(sa.select(sa.func.count()).where(signing_keys.c.tenant_id == self.tenant_id))
            ).scalar_one()
        if exists:
            return
        alg, private, public = await asyncio.to_thread(generate_signing_key)
        async with self.engine.begin() as conn:
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"keys:{self.tenant_id}"})
            count = (
                await conn.execute(sa.select(sa.func.count()).where(signing_keys.c.tenant_id == self.tenant_id))
            ).scalar_one()
            if count == 0:
                now = datetime.now(UTC)
                await conn.execute(
                    sa.insert(signing_keys).values(
                        tenant_id=self.tenant_id,
                        id=private["kid"],
                        algorithm=alg,
                        private_jwk=private,
                        public_jwk=public,
                        status="Current",
                        effective_at=now,
                        created_at=now,
                    )
                )

    async def load(self) -> None:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(signing_keys)
                    .where(signing_keys.c.tenant_id == self.tenant_id)
                    .order_by(signing_keys.c.created_at.desc())
                )
            ).all()
        current = next((r for r in rows if r.status == "Current"), None)
        if current is None:
            raise RuntimeError(f"tenant {self.tenant_id} has no current signing key")
        self._signing = SigningKey(current.id, current.algorithm, _import_key(current.private_jwk))
        self._jwks = msgspec.json.encode({"keys": [r.public_jwk for r in rows]})
