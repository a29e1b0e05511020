"""Deletes expired OIDC rows, which every read already ignores, so the tables stop growing.

A timer (`OIDC_SWEEP_INTERVAL`, 600 s by default; 0 turns it off) runs one sweep at a time across
replicas and workers: the sweep holds a session advisory lock (`pg_try_advisory_lock`), and whoever
does not get it skips that round. Each table is emptied of its expired rows in batches (a `LIMIT`ed
subquery of `ctid`s, one transaction per batch), so a large backlog never holds many row locks for
long. The outer `WHERE` repeats the condition, so a row another transaction changed meanwhile (a
grant widened again, say) is re-checked on its new version and kept when it no longer qualifies.

What goes, once past `expires_at`: interactions, authorization codes, device codes (an hour later), access and
refresh tokens (a consumed refresh token stays until it expires, since reuse detection needs it),
sessions, subject tokens and SAML sign-in sessions. A grant goes when it has expired (for a minute, so a
request that read it just before can still insert under it) and no token or code of it is left: an access token may
outlive its grant (opaque access tokens do not extend the grant), and deleting the grant would cascade
to it. A grant is never deleted merely for having no session or tokens: its consent still counts for
the user and client (`store.consented_scopes`) until it expires.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from gatehouse_platform.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = get_logger("gatehouse.identity.sweeper")

SWEEP_LOCK = "identity:oidc-sweeper"
EXPIRED = "expires_at <= now()"
GRANT_GRACE = "1 minute"


@dataclass(frozen=True)
class Sweep:
    table: str  # in the identity schema
    condition: str  # over the table's columns, aliased `x`


SWEEPS: Sequence[Sweep] = (
    Sweep("oidc_interactions", EXPIRED),
    Sweep("oidc_authorization_codes", EXPIRED),
    # kept an hour past expiry, so a device still polling is told `expired_token` (RFC 8628), not `invalid_grant`
    Sweep("oidc_device_codes", "expires_at <= now() - interval '1 hour'"),
    Sweep("oidc_tokens", EXPIRED),  # consumed or not: a consumed refresh token stays until it expires
    Sweep("oidc_sessions", EXPIRED),
    Sweep("subject_tokens", EXPIRED),
    Sweep("saml_sessions", EXPIRED),
    Sweep(  # after the tokens and codes, so a grant whose last ones just went goes in the same round
        "oidc_grants",
        f"expires_at <= now() - interval '{GRANT_GRACE}'"
        " AND NOT EXISTS (SELECT 1 FROM identity.oidc_tokens t WHERE t.tenant_id = x.tenant_id AND t.grant_id = x.id)"
        " AND NOT EXISTS (SELECT 1 FROM identity.oidc_authorization_codes c"
        " WHERE c.tenant_id = x.tenant_id AND c.grant_id = x.id)",
    ),
)


def _batch_delete(sweep: Sweep) -> sa.TextClause:
    table = f"identity.{sweep.table}"
    return sa.text(
        f"DELETE FROM {table} x WHERE x.ctid = ANY(ARRAY("  # constant table names and conditions
        f"SELECT x.ctid FROM {table} x WHERE {sweep.condition} LIMIT :limit)) AND {sweep.condition}"
    )


class OidcSweeper:
    def __init__(self, engine: AsyncEngine, *, interval: float = 600.0, batch_size: int = 1000) -> None:
        self.engine = engine
        self.interval = interval
        self.batch_size = batch_size
        self.statements = [(sweep.table, _batch_delete(sweep)) for sweep in SWEEPS]

    async def sweep(self) -> dict[str, int] | None:
        """One round: the rows deleted per table, or None when another process holds the sweep lock."""
        async with self.engine.connect() as conn:
            locked = (
                await conn.execute(sa.text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": SWEEP_LOCK})
            ).scalar_one()
            await conn.commit()
            if not locked:
                return None
            try:
                return {table: await self._drain(conn, statement) for table, statement in self.statements}
            finally:
                await conn.rollback()
                await conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": SWEEP_LOCK})
                await conn.commit()

    async def _drain(self, conn: AsyncConnection, statement: sa.TextClause) -> int:
        total = 0
        while True:
            deleted = (await conn.execute(statement, {"limit": self.batch_size})).rowcount
            await conn.commit()  # one short transaction per batch
            total += deleted
            if deleted < self.batch_size:
                return total

    async def run(self) -> None:
        """Timer: a sweep every `interval` seconds (the first one an interval after start)."""
        if self.interval <= 0:
            return
        while True:
            await asyncio.sleep(self.interval)
            try:
                removed = await self.sweep()
            except Exception as exc:
                log.warning("oidc sweep failed; retrying next round", error=repr(exc))
                continue
            if removed and any(removed.values()):
                log.info("expired oidc rows deleted", **{k: v for k, v in removed.items() if v})
