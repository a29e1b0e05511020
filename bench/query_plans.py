"""Query plans of the management list endpoints, on the seeded bench database.

The exact SQL comes from the services' own code: the same use cases the routes call
(`ApplicationService.search`, `RoleAssignmentService.role_users`) run here on an engine built by
`gatehouse_platform.db.create_engine` (the services' engine: asyncpg dialect, same compilation); a
`before_cursor_execute` listener records every statement SQLAlchemy runs, and `CompiledQuery.fetch` is
wrapped to record the statements compiled once and run on the driver connection (the list routes' path:
one statement per request, no BEGIN/ROLLBACK). The routes' guard runs no SQL (it validates the bearer
token from its cache / identity's JWKS), so these are all the statements of a request.

For each statement:

* **first executions**: `EXPLAIN (ANALYZE, BUFFERS) <statement>` with the parameters bound (a custom
  plan, as PostgreSQL plans a prepared statement's first five executions);
* **steady state**: the statement `PREPARE`d, executed six times (default `plan_cache_mode`), then
  `EXPLAIN (ANALYZE, BUFFERS) EXECUTE`: the plan each pooled connection's prepared statement (asyncpg
  caches them) really runs from then on: the generic plan when PostgreSQL found it no costlier, else a
  custom one. Printed only when its shape differs from the first one;
* when a plan has a sequential scan on a seeded table: the same statement with `enable_seqscan = off`,
  to show what the index path would cost (execution time only).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

SEEDED_TABLES = ("users", "applications", "application_secrets", "roles", "users_roles", "applications_roles")


@dataclass
class Statement:
    endpoint: str
    label: str
    sql: str
    params: tuple[Any, ...]
    plan: str = ""
    steady_plan: str = ""
    steady_generic: bool = False
    no_seqscan_ms: float | None = None
    no_seqscan_indexes: list[str] = field(default_factory=list)

    @property
    def index_scans(self) -> list[str]:
        return index_scans(self.plan)

    @property
    def seq_scans(self) -> list[str]:
        return sorted(set(re.findall(r"Seq Scan on (\S+)", self.plan)))

    @property
    def steady_index_scans(self) -> list[str]:
        return index_scans(self.steady_plan)

    @property
    def steady_seq_scans(self) -> list[str]:
        return sorted(set(re.findall(r"Seq Scan on (\S+)", self.steady_plan)))


@dataclass
class PlanReport:
    statements: list[Statement] = field(default_factory=list)
    server_version: str = ""


def index_scans(plan: str) -> list[str]:
    found: dict[str, None] = {}
    pattern = r"(Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)"
    for kind, index in re.findall(pattern, plan):
        found[f"{index} ({kind})"] = None
    return list(found)


def execution_ms(plan: str) -> float | None:
    m = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return float(m.group(1)) if m else None


def planning_ms(plan: str) -> float | None:
    m = re.search(r"Planning Time: ([\d.]+) ms", plan)
    return float(m.group(1)) if m else None


def shape(plan: str) -> list[str]:
    """The plan's node lines without costs, timings, row counts, buffers or parameter values."""
    out = []
    for line in plan.splitlines():
        if re.match(r"\s*(->\s*)?[A-Z][A-Za-z ]+(?: on | using |\s*\(|$)", line) and "Time:" not in line:
            out.append(re.sub(r"\s*\(cost=.*$|\s*\(actual .*$", "", line).rstrip())
    return out


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


async def _explain(conn: Any, stmt: Statement) -> None:
    """conn: a raw asyncpg connection."""
    rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + stmt.sql, *stmt.params)
    stmt.plan = "\n".join(r[0] for r in rows)
    await conn.execute(f"PREPARE gh_bench_plan AS {stmt.sql}")
    try:
        execute = "EXECUTE gh_bench_plan(" + ", ".join(literal(p) for p in stmt.params) + ")"
        for _ in range(6):
            await conn.fetch(execute)
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + execute)
        stmt.steady_plan = "\n".join(r[0] for r in rows)
        # PostgreSQL's own count, not `$n` in the plan text: InitPlan results print as `$n` in custom plans too
        generic = await conn.fetchval("SELECT generic_plans FROM pg_prepared_statements WHERE name = 'gh_bench_plan'")
        stmt.steady_generic = bool(generic)
    finally:
        await conn.execute("DEALLOCATE gh_bench_plan")
    if any(t.rsplit(".", 1)[-1] in SEEDED_TABLES for t in stmt.seq_scans + stmt.steady_seq_scans):
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + stmt.sql, *stmt.params)
        plan = "\n".join(r[0] for r in rows)
        stmt.no_seqscan_ms = execution_ms(plan)
        stmt.no_seqscan_indexes = index_scans(plan)


async def _capture(database_url: str, tenant_id: str, role_id: str, small_role: tuple[str, int] | None) -> PlanReport:
    import sqlalchemy as sa
    from gatehouse_management.persistence.applications import ApplicationFilter, ApplicationStore
    from gatehouse_management.persistence.role_members import RoleMemberStore
    from gatehouse_management.persistence.roles import RoleStore
    from gatehouse_management.services.applications import ApplicationService
    from gatehouse_management.services.role_assignments import RoleAssignmentService
    from gatehouse_platform.db import CompiledQuery, create_engine
    from gatehouse_platform.pagination import parse_page

    engine = create_engine(database_url, pool_size=1)
    report = PlanReport()
    recorded: list[tuple[str, tuple[Any, ...]]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        recorded.append((statement, tuple(parameters or ())))

    # the list routes run compiled statements on the driver connection (gatehouse_platform.db.read_connection),
    # which SQLAlchemy's events do not see: record those at CompiledQuery.fetch
    original_fetch = CompiledQuery.fetch

    async def recording_fetch(self: CompiledQuery, conn: Any, params: Any) -> Any:
        recorded.append((self.sql, tuple(self.args(params))))
        return await original_fetch(self, conn, params)

    CompiledQuery.fetch = recording_fetch  # type: ignore[method-assign]

    try:
        async with engine.connect() as conn:  # the dialect's first-connect queries are not the routes'
            report.server_version = str((await conn.execute(sa.text("SHOW server_version"))).scalar_one())
        sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
        page = parse_page("1", "20", optional=True)  # `?page=1&page_size=20`, as the routes parse it
        # the routes' calls: list_applications (no filters) and list_role_users (no search)
        await ApplicationService(engine, ApplicationStore(), None).search(
            tenant_id, ApplicationFilter(types=(), is_third_party=None, exclude_role_id=None), page
        )
        apps = list(recorded)
        recorded.clear()
        assignments = RoleAssignmentService(engine, RoleStore(), RoleMemberStore(), ApplicationStore(), None)
        await assignments.role_users(tenant_id, role_id, None, page)
        users = list(recorded)
        recorded.clear()
        small: list[tuple[str, tuple[Any, ...]]] = []
        if small_role is not None:
            await assignments.role_users(tenant_id, small_role[0], None, page)
            small = list(recorded)
        sa.event.remove(engine.sync_engine, "before_cursor_execute", record)
        CompiledQuery.fetch = original_fetch  # type: ignore[method-assign]
        endpoint_apps = "GET /api/applications?page=1&page_size=20"
        endpoint_users = "GET /api/roles/{id}/users?page=1&page_size=20"
        labels_apps = ["count (Total-Number) and page"]
        labels_users = ["role check (404), count (Total-Number) and page"]
        captured = [(endpoint_apps, labels_apps, apps), (endpoint_users, labels_users, users)]
        if small_role is not None:  # another role: the same statements, other estimates
            captured.append((f"{endpoint_users} (a role with {small_role[1]} users)", labels_users, small))
        for endpoint, labels, found in captured:
            for i, (sql, params) in enumerate(found):
                label = labels[i] if len(found) == len(labels) else f"statement {i + 1}"
                report.statements.append(Statement(endpoint, label, sql, params))
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            for stmt in report.statements:
                await _explain(driver, stmt)
            await conn.rollback()
    finally:
        CompiledQuery.fetch = original_fetch  # type: ignore[method-assign]
        await engine.dispose()
    return report


def capture(database_url: str, tenant_id: str, role_id: str, small_role: tuple[str, int] | None = None) -> PlanReport:
    """Plans for the applications list and the role-users list of `role_id` (the benchmarked role),
    plus the role-users statements of `small_role` (id, user count) when given."""
    return asyncio.run(_capture(database_url, tenant_id, role_id, small_role))


def render(report: PlanReport) -> list[str]:
    lines = [
        "",
        f"### Query plans of the list endpoints (PostgreSQL {report.server_version}, seeded database)",
        "",
        "Captured before the load (see bench/query_plans.py): the exact statements of each request, recorded "
        "from the services' own code, with `EXPLAIN (ANALYZE, BUFFERS)`. *first* = the plan of a prepared "
        "statement's first five executions (custom, parameters known); *steady* = the plan after five "
        "executions (what each pooled connection runs under load: generic or custom, as "
        "`pg_prepared_statements` counts them; a custom plan is planned again at every execution, so its "
        "planning time is PostgreSQL CPU per request too). The routes' guard runs no SQL.",
        "",
        "| Endpoint | statement | uses an index | indexes (first) | seq scans (first) | first ms "
        "| steady plan | steady: indexes / seq scans | steady ms | steady planning ms |",
        "| --- | --- | --- | --- | --- | ---: | --- | --- | ---: | ---: |",
    ]
    for s in report.statements:
        same = shape(s.plan) == shape(s.steady_plan)
        uses = bool(s.index_scans) and not s.seq_scans
        uses_steady = bool(s.steady_index_scans) and not s.steady_seq_scans
        verdict = "yes" if uses and uses_steady else ("partly" if s.index_scans or s.steady_index_scans else "**no**")
        if s.seq_scans or s.steady_seq_scans:
            verdict += " (seq scan)"
        steady = ("generic" if s.steady_generic else "custom") + (", same shape" if same else ", **other shape**")
        steady_idx = ", ".join(s.steady_index_scans) or "none"
        steady_seq = ", ".join(s.steady_seq_scans) or "none"
        lines.append(
            f"| {s.endpoint} | {s.label} | {verdict} | {', '.join(s.index_scans) or 'none'} | "
            f"{', '.join(s.seq_scans) or 'none'} | {execution_ms(s.plan) or 0:.3f} | {steady} | "
            f"{steady_idx} / {steady_seq} | {execution_ms(s.steady_plan) or 0:.3f} | "
            f"{planning_ms(s.steady_plan) or 0:.3f} |"
        )
    for s in report.statements:
        params = ", ".join(f"${i + 1} = {literal(p)}" for i, p in enumerate(s.params))
        lines += [
            "",
            f"#### {s.endpoint}: {s.label}",
            "",
            "```sql",
            s.sql,
            "```",
            "",
            f"Parameters: {params}",
            "",
            "First executions:",
            "",
            "```text",
            s.plan,
            "```",
        ]
        if shape(s.plan) != shape(s.steady_plan):
            lines += [
                "",
                f"Steady state ({'generic' if s.steady_generic else 'custom'} plan):",
                "",
                "```text",
                s.steady_plan,
                "```",
            ]
        else:
            lines += [
                "",
                f"Steady state: the same plan shape ({'generic' if s.steady_generic else 'custom'} plan), "
                f"execution {execution_ms(s.steady_plan) or 0:.3f} ms.",
            ]
        if s.no_seqscan_ms is not None:
            lines += [
                "",
                f"With `enable_seqscan = off` (custom plan) the planner uses "
                f"{', '.join(s.no_seqscan_indexes) or 'no index'} instead: execution {s.no_seqscan_ms:.3f} ms "
                f"(vs {execution_ms(s.plan) or 0:.3f} ms as planned above).",
            ]
    return lines
