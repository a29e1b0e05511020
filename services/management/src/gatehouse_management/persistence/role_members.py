"""SQL for who holds a role: users (identity's users, read through the schema library) and applications."""

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import sqlalchemy as sa
from gatehouse_platform.db import CompiledQuery
from gatehouse_platform.pagination import Page
from gatehouse_schema.api.applications import Application
from gatehouse_schema.api.roles import FeaturedApplication
from gatehouse_schema.api.users import FeaturedUser, User
from gatehouse_schema.queries import identity as identity_reads
from gatehouse_schema.tables.management import applications, applications_roles, roles, users_roles
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse_management.persistence.applications import row_to_application

FEATURED = 3


@functools.cache
def role_users_query(*, search: bool, paged: bool) -> CompiledQuery:
    """One statement for `GET /api/roles/{id}/users`, compiled once per shape: whether the role exists,
    the total (without a search: an index-only count of the role's links, which are removed when a user
    is deleted; with one: the matching users) and the page of users, newest first. A missing role or an
    empty page still gives one row (`found`, `total`, the user columns NULL).

    Without a search the page walks the role's links in the order of `users_roles_role_user_created`
    (`user_created_at` is the user's `created_at`, copied into the link) and looks each user up by primary
    key until the LIMIT is reached: the same order as sorting the users themselves, and one cheap plan for
    every role size, so PostgreSQL's generic plan serves every execution of the prepared statement instead
    of planning it again each time. With a search the matching users are filtered, counted and sorted."""
    tenant = sa.bindparam("tenant_id", type_=sa.String)
    role = sa.bindparam("role_id", type_=sa.String)
    links = [users_roles.c.tenant_id == tenant, users_roles.c.role_id == role]
    if search:
        ids = sa.select(users_roles.c.user_id).where(*links)
        listed = identity_reads.users_in_select(tenant, ids, sa.bindparam("pattern", type_=sa.String))
        total = sa.select(sa.func.count()).select_from(listed.order_by(None).subquery())
    else:
        listed = (
            identity_reads.linked_users_select(tenant, users_roles.c.user_id)
            .where(*links)
            .order_by(users_roles.c.user_created_at.desc(), users_roles.c.user_id)
        )
        total = sa.select(sa.func.count()).select_from(users_roles).where(*links)
    found = sa.exists().where(roles.c.tenant_id == tenant, roles.c.id == role)
    head = sa.select(found.label("found"), total.scalar_subquery().label("total")).subquery("head")
    if paged:
        listed = listed.limit(sa.bindparam("limit", type_=sa.Integer)).offset(sa.bindparam("offset", type_=sa.Integer))
    page = listed.lateral("page")
    return CompiledQuery(sa.select(head.c.found, head.c.total, *page.c).select_from(head.outerjoin(page, head.c.found)))


class RoleMemberStore:
    # users

    async def user_role_ids(self, conn: AsyncConnection, tenant_id: str, user_id: str) -> set[str]:
        rows = await conn.execute(
            sa.select(users_roles.c.role_id).where(
                users_roles.c.tenant_id == tenant_id, users_roles.c.user_id == user_id
            )
        )
        return set(rows.scalars())

    async def role_user_ids(self, conn: AsyncConnection, tenant_id: str, role_id: str) -> set[str]:
        rows = await conn.execute(
            sa.select(users_roles.c.user_id).where(
                users_roles.c.tenant_id == tenant_id, users_roles.c.role_id == role_id
            )
        )
        return set(rows.scalars())

    async def add_user_roles(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        pairs: Sequence[tuple[str, str]],
        user_created_at: Mapping[str, datetime],
    ) -> None:
        """(user id, role id) pairs; `user_created_at` maps each user to its `created_at` (identity's
        `user_created_at` read), which the link keeps to order the role's users."""
        if pairs:
            await conn.execute(
                sa.insert(users_roles),
                [
                    {"tenant_id": tenant_id, "user_id": u, "role_id": r, "user_created_at": user_created_at[u]}
                    for u, r in pairs
                ],
            )

    async def remove_user_roles(self, conn: AsyncConnection, tenant_id: str, pairs: Sequence[tuple[str, str]]) -> int:
        removed = 0
        for user_id, role_id in pairs:
            result = await conn.execute(
                sa.delete(users_roles).where(
                    users_roles.c.tenant_id == tenant_id,
                    users_roles.c.user_id == user_id,
                    users_roles.c.role_id == role_id,
                )
            )
            removed += result.rowcount or 0
        return removed

    async def add_default_roles(
        self, conn: AsyncConnection, tenant_id: str, user_id: str, user_created_at: datetime
    ) -> list[str]:
        """Links the user (created at `user_created_at`) to the tenant's default User roles it does not
        hold yet; returns the roles added."""
        defaults = sa.select(
            roles.c.tenant_id,
            sa.literal(user_id, sa.String),
            roles.c.id,
            sa.literal(user_created_at, sa.DateTime(timezone=True)),
        ).where(roles.c.tenant_id == tenant_id, roles.c.is_default.is_(True), roles.c.type == "User")
        insert = (
            pg_insert(users_roles)
            .from_select(["tenant_id", "user_id", "role_id", "user_created_at"], defaults)
            .on_conflict_do_nothing()
            .returning(users_roles.c.role_id)
        )
        return sorted((await conn.execute(insert)).scalars())

    async def remove_all_user_roles(self, conn: AsyncConnection, tenant_id: str, user_id: str) -> list[str]:
        """Unlinks the user from every role; returns the roles it held."""
        delete = (
            sa.delete(users_roles)
            .where(users_roles.c.tenant_id == tenant_id, users_roles.c.user_id == user_id)
            .returning(users_roles.c.role_id)
        )
        return sorted((await conn.execute(delete)).scalars())

    async def role_users(
        self, conn: asyncpg.Connection, tenant_id: str, role_id: str, term: str | None, page: Page | None
    ) -> tuple[int, list[User]] | None:
        """The role's users (newest first, Logto's search) and their total; None when the role does not
        exist. Runs on a driver connection (`gatehouse_platform.db.read_connection`): one statement."""
        query = role_users_query(search=bool(term), paged=page is not None)
        params: dict[str, Any] = {"tenant_id": tenant_id, "role_id": role_id}
        if term:
            params["pattern"] = identity_reads.search_pattern(term)
        if page is not None:
            params["limit"], params["offset"] = page.limit, page.offset
        rows = await query.fetch(conn, params)
        if not rows[0]["found"]:
            return None
        listed = [identity_reads.user_from_record(r) for r in rows if r["id"] is not None]
        return (rows[0]["total"] if page is not None else len(listed)), listed

    # applications

    async def application_role_ids(self, conn: AsyncConnection, tenant_id: str, application_id: str) -> set[str]:
        rows = await conn.execute(
            sa.select(applications_roles.c.role_id).where(
                applications_roles.c.tenant_id == tenant_id, applications_roles.c.application_id == application_id
            )
        )
        return set(rows.scalars())

    async def role_application_ids(self, conn: AsyncConnection, tenant_id: str, role_id: str) -> set[str]:
        rows = await conn.execute(
            sa.select(applications_roles.c.application_id).where(
                applications_roles.c.tenant_id == tenant_id, applications_roles.c.role_id == role_id
            )
        )
        return set(rows.scalars())

    async def add_application_roles(
        self, conn: AsyncConnection, tenant_id: str, pairs: Sequence[tuple[str, str]]
    ) -> None:
        """(application id, role id) pairs."""
        if pairs:
            await conn.execute(
                sa.insert(applications_roles),
                [{"tenant_id": tenant_id, "application_id": a, "role_id": r} for a, r in pairs],
            )

    async def remove_application_roles(
        self, conn: AsyncConnection, tenant_id: str, pairs: Sequence[tuple[str, str]]
    ) -> int:
        removed = 0
        for application_id, role_id in pairs:
            result = await conn.execute(
                sa.delete(applications_roles).where(
                    applications_roles.c.tenant_id == tenant_id,
                    applications_roles.c.application_id == application_id,
                    applications_roles.c.role_id == role_id,
                )
            )
            removed += result.rowcount or 0
        return removed

    async def applications_page(
        self, conn: AsyncConnection, tenant_id: str, role_id: str, term: str | None, page: Page | None
    ) -> tuple[int, list[Application]]:
        ids = sa.select(applications_roles.c.application_id).where(
            applications_roles.c.tenant_id == tenant_id, applications_roles.c.role_id == role_id
        )
        where: list[Any] = [applications.c.tenant_id == tenant_id, applications.c.id.in_(ids)]
        if term:
            pattern = f"%{term.strip('%')}%"
            where.append(sa.or_(applications.c.id.ilike(pattern), applications.c.name.ilike(pattern)))
        total = (await conn.execute(sa.select(sa.func.count()).select_from(applications).where(*where))).scalar_one()
        query = (
            sa.select(*[c for c in applications.c if c.name != "secret"])
            .where(*where)
            .order_by(applications.c.created_at.desc(), applications.c.id)
        )
        if page is not None:
            query = query.limit(page.limit).offset(page.offset)
        return total, [row_to_application(r) for r in await conn.execute(query)]

    # statistics for the role list

    async def stats(
        self, conn: AsyncConnection, tenant_id: str, role_ids: Sequence[str]
    ) -> tuple[dict[str, int], dict[str, list[FeaturedUser]], dict[str, int], dict[str, list[FeaturedApplication]]]:
        """Per role: user count, up to three users, application count, up to three applications."""
        ids = list(role_ids)
        user_counts: dict[str, int] = {
            row.role_id: row.n
            for row in await conn.execute(
                sa.select(users_roles.c.role_id, sa.func.count().label("n"))
                .where(users_roles.c.tenant_id == tenant_id, users_roles.c.role_id.in_(ids))
                .group_by(users_roles.c.role_id)
            )
        }
        app_counts: dict[str, int] = {
            row.role_id: row.n
            for row in await conn.execute(
                sa.select(applications_roles.c.role_id, sa.func.count().label("n"))
                .where(applications_roles.c.tenant_id == tenant_id, applications_roles.c.role_id.in_(ids))
                .group_by(applications_roles.c.role_id)
            )
        }
        ranked_users = (
            sa.select(
                users_roles.c.role_id,
                users_roles.c.user_id,
                sa.func.row_number()
                .over(partition_by=users_roles.c.role_id, order_by=users_roles.c.user_id)
                .label("n"),
            )
            .where(users_roles.c.tenant_id == tenant_id, users_roles.c.role_id.in_(ids))
            .subquery()
        )
        user_rows = (
            await conn.execute(
                sa.select(ranked_users.c.role_id, ranked_users.c.user_id).where(ranked_users.c.n <= FEATURED)
            )
        ).all()
        profiles = await identity_reads.featured_users(conn, tenant_id, list({r.user_id for r in user_rows}))
        featured_users: dict[str, list[FeaturedUser]] = {}
        for row in user_rows:
            if row.user_id in profiles:
                featured_users.setdefault(row.role_id, []).append(profiles[row.user_id])
        ranked_apps = (
            sa.select(
                applications_roles.c.role_id,
                applications.c.id,
                applications.c.name,
                applications.c.type,
                sa.func.row_number()
                .over(partition_by=applications_roles.c.role_id, order_by=applications.c.id)
                .label("n"),
            )
            .join(
                applications,
                sa.and_(
                    applications.c.tenant_id == applications_roles.c.tenant_id,
                    applications.c.id == applications_roles.c.application_id,
                ),
            )
            .where(applications_roles.c.tenant_id == tenant_id, applications_roles.c.role_id.in_(ids))
            .subquery()
        )
        featured_apps: dict[str, list[FeaturedApplication]] = {}
        for row in await conn.execute(sa.select(ranked_apps).where(ranked_apps.c.n <= FEATURED)):
            featured_apps.setdefault(row.role_id, []).append(FeaturedApplication(row.id, row.name, row.type))
        return user_counts, featured_users, app_counts, featured_apps
