"""The sweeper of expired OIDC rows, against PostgreSQL: what goes, what stays, batching, the lock.

Rows are written under a tenant of their own, so other tests' rows do not matter (the sweep is global)."""

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from gatehouse_identity.oidc.sweeper import SWEEP_LOCK, OidcSweeper
from gatehouse_schema.tables import identity as t
from sqlalchemy.ext.asyncio import AsyncEngine

PAST = timedelta(days=1)
FUTURE = timedelta(hours=1)


def _id(prefix: str) -> str:
    return prefix + secrets.token_hex(6)


class Rows:
    """Writes OIDC rows of one tenant, each expiring at `now + offset`."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.now = datetime.now(UTC)
        self.inserts: list[tuple[sa.Table, dict[str, Any]]] = []

    def add(self, table: sa.Table, offset: timedelta, prefix: str, **values: Any) -> str:
        row_id = _id(prefix)
        expires = {"expires_at": self.now + offset}
        self.inserts.append((table, {"tenant_id": self.tenant_id, "id": row_id, **expires, **values}))
        return row_id

    def interaction(self, offset: timedelta) -> str:
        return self.add(t.oidc_interactions, offset, "i", client_id="app", params={}, prompt="login")

    def session(self, offset: timedelta) -> str:
        return self.add(t.oidc_sessions, offset, "s", account_id="user", login_at=self.now)

    def grant(self, offset: timedelta, session_id: str | None = None) -> str:
        return self.add(t.oidc_grants, offset, "g", account_id="user", client_id="app", session_id=session_id)

    def code(self, grant_id: str, offset: timedelta) -> str:
        return self.add(
            t.oidc_authorization_codes,
            offset,
            "c",
            grant_id=grant_id,
            client_id="app",
            account_id="user",
            redirect_uri="https://app.example.com/cb",
            scopes=["openid"],
            auth_time=self.now,
        )

    def token(self, grant_id: str, offset: timedelta, kind: str = "access_token", consumed: bool = False) -> str:
        return self.add(
            t.oidc_tokens,
            offset,
            "t",
            kind=kind,
            grant_id=grant_id,
            client_id="app",
            account_id="user",
            scopes=["openid"],
            consumed_at=self.now - timedelta(minutes=1) if consumed else None,
        )

    def device_code(self, offset: timedelta) -> str:
        return self.add(
            t.oidc_device_codes,
            offset,
            "d",
            user_code=secrets.token_hex(4).upper(),
            client_id="app",
            scopes=["openid"],
            poll_interval=5,
        )

    def subject_token(self, user_id: str, offset: timedelta) -> str:
        return self.add(t.subject_tokens, offset, "sub_", user_id=user_id)

    async def write(self, engine: AsyncEngine) -> None:
        async with engine.begin() as conn:
            for table, values in self.inserts:
                await conn.execute(sa.insert(table).values(**values))


async def _present(engine: AsyncEngine, tenant_id: str, table: sa.Table) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(table.c.id).where(table.c.tenant_id == tenant_id))
        return set(rows.scalars())


async def _new_tenant(engine: AsyncEngine) -> tuple[str, str]:
    """A tenant of its own with one user (subject tokens reference users)."""
    tenant_id, user_id = _id("sweep"), _id("u")
    async with engine.begin() as conn:
        await conn.execute(sa.insert(t.users).values(tenant_id=tenant_id, id=user_id, password_expired=False))
    return tenant_id, user_id


async def test_sweep_deletes_expired_rows_and_keeps_live_ones(db: AsyncEngine) -> None:
    tenant_id, user_id = await _new_tenant(db)
    rows = Rows(tenant_id)
    gone: dict[sa.Table, set[str]] = {}
    kept: dict[sa.Table, set[str]] = {}

    def expect(table: sa.Table, row_id: str, *, deleted: bool) -> None:
        (gone if deleted else kept).setdefault(table, set()).add(row_id)

    for offset, deleted in ((-PAST, True), (FUTURE, False)):
        expect(t.oidc_interactions, rows.interaction(offset), deleted=deleted)
        expect(t.oidc_sessions, rows.session(offset), deleted=deleted)
        expect(t.oidc_device_codes, rows.device_code(offset), deleted=deleted)
        expect(t.subject_tokens, rows.subject_token(user_id, offset), deleted=deleted)

    # a device code that expired minutes ago stays, so a polling device is told `expired_token`
    expect(t.oidc_device_codes, rows.device_code(timedelta(minutes=-10)), deleted=False)

    live = rows.grant(FUTURE, session_id=rows.session(FUTURE))
    expect(t.oidc_grants, live, deleted=False)
    expect(t.oidc_authorization_codes, rows.code(live, -PAST), deleted=True)
    expect(t.oidc_authorization_codes, rows.code(live, FUTURE), deleted=False)
    expect(t.oidc_tokens, rows.token(live, -PAST), deleted=True)
    expect(t.oidc_tokens, rows.token(live, FUTURE), deleted=False)
    expect(t.oidc_tokens, rows.token(live, -PAST, "refresh_token", consumed=True), deleted=True)
    # a consumed refresh token that has not expired stays: presenting it again must revoke the grant
    expect(t.oidc_tokens, rows.token(live, FUTURE, "refresh_token", consumed=True), deleted=False)
    expect(t.oidc_tokens, rows.token(live, FUTURE, "refresh_token"), deleted=False)

    # a live grant without tokens or a session stays: its consent still counts until it expires
    expect(t.oidc_grants, rows.grant(FUTURE), deleted=False)
    # an expired grant goes, with the expired tokens and codes it had
    emptied = rows.grant(-PAST)
    rows.token(emptied, -PAST, "refresh_token", consumed=True)
    rows.code(emptied, -PAST)
    expect(t.oidc_grants, emptied, deleted=True)
    # an expired grant under which an access token still lives stays until that token expires
    outlived = rows.grant(-PAST)
    expect(t.oidc_grants, outlived, deleted=False)
    expect(t.oidc_tokens, rows.token(outlived, FUTURE), deleted=False)
    # a grant expired only seconds ago stays for the grace minute
    expect(t.oidc_grants, rows.grant(timedelta(seconds=-5)), deleted=False)
    await rows.write(db)

    removed = await OidcSweeper(db, batch_size=2).sweep()  # small batches: the loop drains every table

    assert removed is not None
    for table in (*gone, *kept):
        present = await _present(db, tenant_id, table)
        assert not gone.get(table, set()) & present, table.name
        assert kept.get(table, set()) <= present, table.name
        assert removed[table.name] >= len(gone.get(table, set())), table.name


async def test_sweep_drains_a_backlog_in_batches(db: AsyncEngine) -> None:
    tenant_id, _ = await _new_tenant(db)
    rows = Rows(tenant_id)
    grant = rows.grant(FUTURE)
    expired = [rows.token(grant, -PAST) for _ in range(25)]
    live = [rows.token(grant, FUTURE) for _ in range(3)]
    await rows.write(db)

    removed = await OidcSweeper(db, batch_size=4).sweep()

    assert removed is not None and removed["oidc_tokens"] >= len(expired)
    assert await _present(db, tenant_id, t.oidc_tokens) == set(live)


async def test_one_sweep_at_a_time(db: AsyncEngine) -> None:
    tenant_id, _ = await _new_tenant(db)
    rows = Rows(tenant_id)
    expired = rows.interaction(-PAST)
    await rows.write(db)
    sweeper = OidcSweeper(db)
    async with db.connect() as other:  # another replica mid-sweep holds the lock
        await other.execute(sa.text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": SWEEP_LOCK})
        assert await sweeper.sweep() is None
        assert expired in await _present(db, tenant_id, t.oidc_interactions)
        await other.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": SWEEP_LOCK})
        await other.commit()
    assert await sweeper.sweep() is not None  # the sweep released its own lock as well
    assert await sweeper.sweep() is not None
    assert expired not in await _present(db, tenant_id, t.oidc_interactions)
