"""Use cases of the OIDC key configuration: list, rotate and delete keys; write down due promotions.

Each command is one transaction under the tenant's key lock that changes the key set and appends a
`SigningKey.Rotated` event, so every service's token validator and every identity replica's keyring
reload. New private keys are generated in a worker thread before the transaction opens.
"""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from gatehouse_platform.logging import get_logger
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.events import SYSTEM_ACTOR, Actor, SigningKeyRotated
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.keys.keyring import Keyring, generate_signing_key, new_cookie_key
from gatehouse_identity.keys.rotation import (
    CookieKeyState,
    KeyState,
    after_deletion,
    cookie_keys_after_deletion,
    cookie_keys_rotated,
    newest_first,
    ordered,
    promoted,
    rotated,
)
from gatehouse_identity.keys.store import CookieKeyStore, KeyMaterial, SigningKeyStore, lock_cookie_keys, lock_keys

log = get_logger("gatehouse.identity.keys")

KeyGenerator = Callable[[str], tuple[str, dict[str, Any], dict[str, Any]]]
Clock = Callable[[], datetime]


class KeyType(StrEnum):
    PRIVATE_KEYS = "private-keys"
    COOKIE_KEYS = "cookie-keys"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OidcKeyService:
    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Outbox,
        keyring: Keyring,
        *,
        generate: KeyGenerator = generate_signing_key,
        clock: Clock = _utcnow,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.keyring = keyring
        self.signing = SigningKeyStore()
        self.cookies = CookieKeyStore()
        self.generate = generate
        self.clock = clock

    # private keys

    async def private_keys(self, tenant_id: str) -> list[KeyState]:
        async with self.engine.connect() as conn:
            stored = await self.signing.states(conn, tenant_id)
        now = self.clock()
        if promoted(stored, now) == ordered(stored):
            return ordered(stored)
        async with self.engine.begin() as conn:  # a promotion is due: write it down with its event
            await lock_keys(conn, tenant_id)
            keys = await self._settle(conn, tenant_id, now)
        await self._reload(tenant_id)
        return keys

    async def rotate_private_key(
        self, tenant_id: str, algorithm: str, grace_seconds: float, actor: Actor
    ) -> list[KeyState]:
        alg, private, public = await asyncio.to_thread(self.generate, algorithm)
        async with self.engine.begin() as conn:
            await lock_keys(conn, tenant_id)
            before = await self.signing.states(conn, tenant_id)
            after = rotated(before, private["kid"], alg, self.clock(), grace_seconds)
            await self.signing.replace_set(
                conn, tenant_id, before, after, new={private["kid"]: KeyMaterial(private, public)}
            )
            await self._announce(conn, tenant_id, [k.id for k in after], KeyType.PRIVATE_KEYS, actor)
        await self._reload(tenant_id)
        return after

    async def delete_private_key(self, tenant_id: str, key_id: str, actor: Actor) -> None:
        async with self.engine.begin() as conn:
            await lock_keys(conn, tenant_id)
            before = await self.signing.states(conn, tenant_id)
            current = promoted(before, self.clock())
            after = after_deletion(current, key_id)
            await self.signing.replace_set(conn, tenant_id, before, after)
            await self._announce(conn, tenant_id, [k.id for k in after], KeyType.PRIVATE_KEYS, actor)
        await self._reload(tenant_id)

    async def settle(self, tenant_id: str) -> list[KeyState]:
        """Write down a promotion whose time has come (a no-op when another replica already did)."""
        async with self.engine.begin() as conn:
            await lock_keys(conn, tenant_id)
            return await self._settle(conn, tenant_id, self.clock())

    async def _settle(self, conn: AsyncConnection, tenant_id: str, now: datetime) -> list[KeyState]:
        before = await self.signing.states(conn, tenant_id)
        after = promoted(before, now)
        if after != ordered(before):
            await self.signing.replace_set(conn, tenant_id, before, after)
            await self._announce(conn, tenant_id, [k.id for k in after], KeyType.PRIVATE_KEYS, SYSTEM_ACTOR)
        return after

    # cookie keys

    async def cookie_keys(self, tenant_id: str) -> list[CookieKeyState]:
        async with self.engine.connect() as conn:
            return await self.cookies.states(conn, tenant_id)

    async def rotate_cookie_key(self, tenant_id: str, actor: Actor) -> list[CookieKeyState]:
        async with self.engine.begin() as conn:
            await lock_cookie_keys(conn, tenant_id)
            fresh = new_cookie_key(self.clock())
            after = cookie_keys_rotated(
                await self.cookies.states(conn, tenant_id), CookieKeyState(fresh.id, fresh.created_at)
            )
            await self.cookies.insert(conn, tenant_id, fresh)
            await self.cookies.keep_only(conn, tenant_id, [k.id for k in after])
            await self._announce(conn, tenant_id, [k.id for k in after], KeyType.COOKIE_KEYS, actor)
        await self._reload(tenant_id)
        return after

    async def delete_cookie_key(self, tenant_id: str, key_id: str, actor: Actor) -> None:
        async with self.engine.begin() as conn:
            await lock_cookie_keys(conn, tenant_id)
            after = cookie_keys_after_deletion(await self.cookies.states(conn, tenant_id), key_id)
            await self.cookies.keep_only(conn, tenant_id, [k.id for k in newest_first(after)])
            await self._announce(conn, tenant_id, [k.id for k in after], KeyType.COOKIE_KEYS, actor)
        await self._reload(tenant_id)

    # plumbing

    async def _announce(
        self, conn: AsyncConnection, tenant_id: str, key_ids: list[str], key_type: KeyType, actor: Actor
    ) -> None:
        event = SigningKeyRotated(key_ids=key_ids, key_type=key_type.value)
        await self.outbox.append(conn, event, tenant_id=tenant_id, actor=actor)

    async def _reload(self, tenant_id: str) -> None:
        """This replica answers with the new keys at once; the others reload on the event."""
        if tenant_id == self.keyring.tenant_id:
            await self.keyring.load()

    async def run_promotions(self) -> None:
        """Timer: when the keyring's pending key is due, write the promotion down (and its event).

        Signing does not wait for it (the keyring promotes by the clock); this makes the table, the
        Management API and the other services' validators follow, and drops the old Previous key."""
        keyring = self.keyring
        while True:
            keyring.changed.clear()
            due = keyring.promotion_due_at
            timeout = None if due is None else max(0.0, (due - self.clock()).total_seconds())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):  # not wait_for, which can swallow a cancellation on 3.11
                    await keyring.changed.wait()
                continue  # reloaded: look at the new key set
            try:
                await self.settle(keyring.tenant_id)
                await keyring.load()
            except Exception as exc:
                log.warning("key promotion failed; retrying", error=repr(exc))
                await asyncio.sleep(1.0)
