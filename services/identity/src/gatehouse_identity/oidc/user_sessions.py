"""A user's OIDC sessions and grants as the Management API sees them, and their revocation.

A session's id is the SHA-256 digest of its `_session` cookie (never the cookie itself); it is also
the `sid` of the ID tokens issued in it and of back-channel logout tokens.

`revoke_account` is what suspension and deletion run inside their own transaction: every grant,
token, code and session of the account goes at once.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from gatehouse_platform.errors import NotFound
from gatehouse_schema.queries.management import application_briefs
from gatehouse_schema.tables.identity import oidc_authorization_codes as codes
from gatehouse_schema.tables.identity import oidc_grants as grants
from gatehouse_schema.tables.identity import oidc_sessions as sessions
from gatehouse_schema.tables.identity import oidc_tokens as tokens
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gatehouse_identity.persistence.users import UserStore

AppType = Literal["firstParty", "thirdParty"]
RevokeTarget = Literal["all", "firstParty"]
OFFLINE_ACCESS = "offline_access"


@dataclass(frozen=True)
class GrantRow:
    id: str
    client_id: str
    account_id: str
    session_id: str | None
    scopes: list[str]
    resources: dict[str, list[str]]
    created_at: datetime
    expires_at: datetime


def _grant_row(row: Any) -> GrantRow:
    return GrantRow(
        row.id,
        row.client_id,
        row.account_id,
        row.session_id,
        list(row.scopes),
        dict(row.resources),
        row.created_at,
        row.expires_at,
    )


async def revoke_account(conn: AsyncConnection, tenant_id: str, account_id: str) -> None:
    """Every session, grant, token and code of the account, on the caller's transaction."""
    for table in (tokens, codes, grants, sessions):
        await conn.execute(sa.delete(table).where(table.c.tenant_id == tenant_id, table.c.account_id == account_id))


async def live_grants(
    conn: AsyncConnection, tenant_id: str, account_id: str, session_id: str | None = None
) -> list[GrantRow]:
    query = sa.select(grants).where(
        grants.c.tenant_id == tenant_id, grants.c.account_id == account_id, grants.c.expires_at > sa.func.now()
    )
    if session_id is not None:
        query = query.where(grants.c.session_id == session_id)
    rows = await conn.execute(query.order_by(grants.c.created_at, grants.c.id))
    return [_grant_row(r) for r in rows]


async def session_client_ids(conn: AsyncConnection, tenant_id: str, session_id: str) -> list[str]:
    """Clients holding a grant in the session (read before logout revokes them)."""
    rows = await conn.execute(
        sa.select(grants.c.client_id)
        .where(grants.c.tenant_id == tenant_id, grants.c.session_id == session_id)
        .order_by(grants.c.created_at)
    )
    return list(dict.fromkeys(rows.scalars()))


@dataclass(frozen=True)
class SessionRow:
    id: str
    account_id: str
    login_at: datetime
    created_at: datetime
    expires_at: datetime
    grants: list[GrantRow]  # the session's live grants, oldest first


@dataclass(frozen=True)
class ListedGrant:
    grant: GrantRow
    application_name: str


def _session(row: Any, session_grants: list[GrantRow]) -> SessionRow:
    return SessionRow(row.id, row.account_id, row.login_at, row.created_at, row.expires_at, session_grants)


class UserSessionService:
    """`/api/users/{userId}/sessions` and `/grants`: reads and revocations, one transaction each."""

    def __init__(self, engine: AsyncEngine, users: UserStore) -> None:
        self.engine = engine
        self.users = users

    async def _user(self, conn: AsyncConnection, tenant_id: str, user_id: str) -> None:
        if await self.users.record(conn, tenant_id, user_id) is None:
            raise NotFound("entity.not_exists_with_id", name="user", id=user_id)

    async def _session_row(self, conn: AsyncConnection, tenant_id: str, user_id: str, session_id: str) -> Any:
        row = (
            await conn.execute(
                sa.select(sessions).where(
                    sessions.c.tenant_id == tenant_id,
                    sessions.c.id == session_id,
                    sessions.c.account_id == user_id,
                    sessions.c.expires_at > sa.func.now(),
                )
            )
        ).one_or_none()
        if row is None:
            raise NotFound("entity.not_exists_with_id", name="session", id=session_id)
        return row

    async def sessions(self, tenant_id: str, user_id: str) -> list[SessionRow]:
        async with self.engine.connect() as conn:
            await self._user(conn, tenant_id, user_id)
            rows = (
                await conn.execute(
                    sa.select(sessions)
                    .where(
                        sessions.c.tenant_id == tenant_id,
                        sessions.c.account_id == user_id,
                        sessions.c.expires_at > sa.func.now(),
                    )
                    .order_by(sessions.c.created_at.desc(), sessions.c.id)
                )
            ).all()
            by_session: dict[str, list[GrantRow]] = {}
            for grant in await live_grants(conn, tenant_id, user_id):
                if grant.session_id is not None:
                    by_session.setdefault(grant.session_id, []).append(grant)
        return [_session(row, by_session.get(row.id, [])) for row in rows]

    async def session(self, tenant_id: str, user_id: str, session_id: str) -> SessionRow:
        async with self.engine.connect() as conn:
            await self._user(conn, tenant_id, user_id)
            row = await self._session_row(conn, tenant_id, user_id, session_id)
            return _session(row, await live_grants(conn, tenant_id, user_id, session_id))

    async def revoke_session(self, tenant_id: str, user_id: str, session_id: str, target: RevokeTarget | None) -> None:
        """Ends the session. Grants: `all` revokes every one of the session's, `firstParty` those of
        first-party apps; by default those without `offline_access` (as at logout); the rest outlive it."""
        async with self.engine.begin() as conn:
            await self._user(conn, tenant_id, user_id)
            await self._session_row(conn, tenant_id, user_id, session_id)
            session_grants = await live_grants(conn, tenant_id, user_id, session_id)
            parties = await application_briefs(conn, tenant_id, sorted({g.client_id for g in session_grants}))
            doomed = [
                g.id
                for g in session_grants
                if target == "all"
                or (target == "firstParty" and not (parties.get(g.client_id) and parties[g.client_id].is_third_party))
                or (target is None and OFFLINE_ACCESS not in g.scopes)
            ]
            if doomed:
                await conn.execute(sa.delete(grants).where(grants.c.tenant_id == tenant_id, grants.c.id.in_(doomed)))
            await conn.execute(
                sa.update(grants)
                .where(grants.c.tenant_id == tenant_id, grants.c.session_id == session_id)
                .values(session_id=None)
            )
            await conn.execute(
                sa.delete(sessions).where(sessions.c.tenant_id == tenant_id, sessions.c.id == session_id)
            )

    async def grants(self, tenant_id: str, user_id: str, app_type: AppType | None) -> list[ListedGrant]:
        async with self.engine.connect() as conn:
            await self._user(conn, tenant_id, user_id)
            rows = await live_grants(conn, tenant_id, user_id)
            apps = await application_briefs(conn, tenant_id, sorted({g.client_id for g in rows}))
        wanted = None if app_type is None else app_type == "thirdParty"
        return [
            ListedGrant(g, apps[g.client_id].name)
            for g in rows
            if g.client_id in apps and (wanted is None or apps[g.client_id].is_third_party == wanted)
        ]

    async def revoke_grant(self, tenant_id: str, user_id: str, grant_id: str) -> None:
        """Deletes the grant (its codes and tokens go with it); an expired grant of the user is a no-op."""
        async with self.engine.begin() as conn:
            await self._user(conn, tenant_id, user_id)
            found = (
                await conn.execute(
                    sa.delete(grants)
                    .where(grants.c.tenant_id == tenant_id, grants.c.id == grant_id, grants.c.account_id == user_id)
                    .returning(grants.c.id)
                )
            ).one_or_none()
            if found is None:
                raise NotFound("entity.not_exists_with_id", name="grant", id=grant_id)
