"""Where does management's time go on the list and create endpoints? Starts the isolated platform with
the management suite's seeded tenant (bench/seed_tenant.py), drives one endpoint at a time with the
benchmark's load (16 connections, through the gateway unless `--direct`), samples management's granian
worker with py-spy and sums the samples by package (innermost frame) and by notable function (anywhere
on the stack).

    uv run python bench/profile_management.py [--endpoint apps|role-users|create ...] [--duration 12]
                                              [--direct] [--native] [--keep-raw]

py-spy runs through `uvx py-spy` (uv's tool cache), as in bench/profile_gateway.py. The summary is
printed and appended to bench/PROFILE.md.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import re
import shutil
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import profile_gateway as spy  # bench/profile_gateway.py: py-spy runner, raw parser, thread CPU
import run as bench  # bench/run.py

ENDPOINTS = {
    "apps": bench.LIST_APPS,
    "role-users": bench.LIST_ROLE_USERS,
    "create": bench.CREATE_APP,
}

#: (label, regex on the innermost frame "function (file:line)"), first match wins.
CATEGORIES: list[tuple[str, str]] = [
    (
        "asyncpg bind/execute: Cython protocol + socket write to PostgreSQL (see the note)",
        r"__do_execute \(.*asyncpg/prepared_stmt\.py",
    ),
    ("asyncpg simple query: BEGIN / ROLLBACK + socket write (see the note)", r"execute \(.*asyncpg/connection\.py"),
    ("SQLAlchemy: SQL compilation (compiler, cache key)", r"sqlalchemy/sql/(compiler|cache_key|traversals)\.py"),
    ("SQLAlchemy: statement construction (select/where/elements)", r"sqlalchemy/sql/"),
    ("SQLAlchemy: asyncpg dialect adaptor (incl. JSONB decoding)", r"sqlalchemy/dialects/"),
    ("SQLAlchemy: engine/result (execute, rows)", r"sqlalchemy/engine/"),
    ("SQLAlchemy: pool", r"sqlalchemy/pool/"),
    ("SQLAlchemy: asyncio glue (greenlet, AsyncConnection)", r"sqlalchemy/(ext/asyncio|util/_?concurrency)"),
    ("SQLAlchemy: other", r"sqlalchemy/"),
    ("asyncpg (other Python parts)", r"asyncpg/"),
    ("row -> msgspec struct (persistence / queries)", r"gatehouse_management/persistence/|gatehouse_schema/queries/"),
    ("management services / routes", r"gatehouse_management/"),
    ("token validation / guard (gatehouse_platform)", r"gatehouse_platform/(tokens|guards)\.py"),
    ("observability middleware / logging", r"gatehouse_platform/(observability|logging|tracing)\.py|structlog/"),
    ("gatehouse_platform: other", r"gatehouse_platform/"),
    ("litestar: response encoding (msgspec JSON)", r"litestar/(response|serialization)/"),
    ("litestar: kwargs / DI / routing / middleware", r"litestar/"),
    ("msgspec (Python parts)", r"msgspec/"),
    ("OpenTelemetry (non-recording spans, propagation)", r"opentelemetry/"),
    ("asyncio", r"asyncio/"),
    ("greenlet", r"greenlet"),
    ("granian", r"granian"),
]

#: Functions whose inclusive share (anywhere on the stack) is reported.
FUNCTIONS: list[tuple[str, str]] = [
    (
        "route handler (list_applications / list_role_users / create_application)",
        r"(list_applications|list_role_users|create_application) \(.*gatehouse_management/api/",
    ),
    ("management_api_guard (bearer token check)", r"management_api_guard \("),
    ("TokenValidator.validate", r"validate \(.*gatehouse_platform/tokens\.py"),
    ("litestar authorize_connection (guards; copies the handler's opts)", r"authorize_connection \("),
    ("AsyncConnection.execute (a statement: compile + round trip + rows)", r"execute \(.*sqlalchemy/ext/asyncio/"),
    ("  SQL compilation (_compile_w_cache)", r"_compile_w_cache|compile \(.*sqlalchemy/sql/"),
    ("  cache key generation (_generate_cache_key)", r"_generate_cache_key"),
    ("  asyncpg prepare / execute (dialect adaptor)", r"_prepare_and_execute \("),
    ("  JSONB decoding (the dialect's json_deserializer)", r"_jsonb_decoder"),
    (
        "statement construction (sa.select / where / order_by / limit)",
        r"(select|where|order_by|limit|offset|in_|__eq__|operate|_generative) \(.*sqlalchemy/sql/",
    ),
    (
        "list statement (count + page: fetch_page, or CompiledQuery.fetch on the driver connection)",
        r"fetch_page \(|CompiledQuery\.fetch \(",
    ),
    (
        "BEGIN (asyncpg Transaction.start, on the first statement)",
        r"start \(.*asyncpg/transaction\.py",
    ),
    ("ROLLBACK / COMMIT (asyncpg Transaction)", r"(__rollback|__commit|rollback|commit) \(.*asyncpg/transaction\.py"),
    (
        "engine.connect / pool checkout",
        r"(connect|_connection_for_bind|checkout|_checkout) \(.*sqlalchemy/(ext/asyncio|pool)",
    ),
    ("connection close / pool return", r"(close|_finalize_fairy|_checkin|__aexit__) \(.*sqlalchemy/(pool|ext/asyncio)"),
    (
        "row -> struct (row_to_application / record_to_application / to_user / user_from_record / to_role)",
        r"(row_to_application|record_to_application|to_user|user_from_record|to_role) \(",
    ),
    ("outbox append (create)", r"append \(.*gatehouse_platform/outbox\.py"),
    (
        "litestar response: encode JSON (msgspec)",
        r"encode_json|default_serializer|to_asgi_response|render \(.*litestar/response",
    ),
    ("litestar kwargs / dependency resolution / parameter validation", r"litestar/_kwargs/|litestar/_signature/"),
    ("observability middleware (wraps the whole request)", r"__call__ \(.*gatehouse_platform/observability\.py"),
    ("OpenTelemetry", r"opentelemetry/"),
    ("structlog", r"structlog/"),
    ("CPython cyclic GC (any caller, --native)", r"gc_collect"),
]

NOTE = (
    "Note: py-spy counts a sample whenever the thread is runnable (state R), also while it waits for a "
    "CPU. On a saturated 2-CPU machine the worker is often preempted right after a write() that wakes a "
    "PostgreSQL backend, so the asyncpg bind/execute rows (and `write` with --native) include that "
    "waiting; the thread table's CPU seconds are exact. The other shares are on-CPU Python work."
)


def category_of(frames: list[str]) -> str:
    if not frames:
        return "no Python frame (native thread)"
    leaf = frames[-1]
    if re.search(r"_spawn_asgi_lifespan_worker|\(granian/server/", leaf):
        return "native code under the event loop (uvloop I/O, granian, asyncpg's Cython protocol; --native resolves)"
    for label, pattern in CATEGORIES:
        if re.search(pattern, leaf):
            return label
    m = re.search(r"\((?:.*/)?([^/]+/[^/]+)\.py:\d+\)", leaf)
    if m:
        return f"other Python: {m.group(1)}.py"
    for label, pattern in spy.NATIVE:
        if re.search(pattern, leaf):
            return label
    m = re.search(r"\(([^)]+)\)$", leaf)
    return f"native: {m.group(1) if m else leaf[:50]}"


def summarize(stacks: list[tuple[str, list[str], int]], requests: int) -> list[str]:
    main = [(frames, n) for thread, frames, n in stacks if "MainThread" in thread]
    if not main:
        main = [(frames, n) for _, frames, n in stacks]
    total = sum(n for _, n in main)
    by_cat: collections.Counter[str] = collections.Counter()
    by_leaf: collections.Counter[str] = collections.Counter()
    by_fn: collections.Counter[str] = collections.Counter()
    for frames, n in main:
        by_cat[category_of(frames)] += n
        by_leaf[spy.short(frames[-1]) if frames else "(none)"] += n
        joined = ";".join(frames)
        for label, pattern in FUNCTIONS:
            if re.search(pattern, joined):
                by_fn[label] += n

    def pct(n: int) -> str:
        return f"{n / total * 100:.1f}%" if total else "-"

    out = [
        f"py-spy: {total} samples of management's worker main thread; ~{requests} requests in the sampled window.",
        "",
        "Main thread, self time by package (innermost frame):",
        "",
        "| Package | share |",
        "| --- | ---: |",
    ]
    out += [f"| {label} | {pct(n)} |" for label, n in by_cat.most_common(22)]
    out += ["", "Main thread, inclusive time of notable functions (anywhere on the stack):", ""]
    out += ["| Function | share |", "| --- | ---: |"]
    out += [f"| {label} | {pct(by_fn[label])} |" for label, _ in FUNCTIONS if by_fn[label]]
    out += ["", "Main thread, top 25 innermost frames:", "", "| Frame | share |", "| --- | ---: |"]
    out += [f"| `{frame}` | {pct(n)} |" for frame, n in by_leaf.most_common(25)]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", action="append", choices=sorted(ENDPOINTS), help="default: all three")
    parser.add_argument("--duration", type=int, default=12, help="seconds sampled per endpoint")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--direct", action="store_true", help="drive management directly, not via the gateway")
    parser.add_argument("--native", action="store_true", help="also sample native frames (stops the process)")
    parser.add_argument("--keep-raw", action="store_true", help="keep the collapsed stacks in bench/")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()
    endpoints = args.endpoint or ["apps", "role-users", "create"]

    tool = bench.choose_tool(args.tool)
    started = dt.datetime.now(dt.UTC)
    load_before = bench.loadavg()
    run = bench.Run(
        started=started,
        machine=bench.machine_info(),
        commit=bench.git_commit(),
        command="",
        tool=tool,
        load_before=load_before,
        settings={},
        suites=("management",),
    )
    suffix = bench.DIRECT if args.direct else bench.VIA_GATEWAY

    def drive(p: bench.Platform, target: bench.Target, seconds: float, sample: bench.CpuSampler) -> bench.LoadResult:
        if tool.startswith("wrk"):
            return bench.run_wrk(target, args.connections, 2, seconds, 0, p.workdir, sample)
        return bench.run_python(target, args.connections, seconds, 0, sample)

    sections: list[str] = []
    with bench.running_platform(run.settings, before_start=bench.seed_management_tenant(run)) as p:
        token = bench.fetch_token(bench.token_target(p))
        targets = bench.management_targets(p, token, run)
        sample = p.sampler()
        mgmt_pid = p.stack.procs["management"].pid
        worker = spy.worker_pids(mgmt_pid)[0]
        for key in endpoints:
            name = ENDPOINTS[key] + suffix
            target = next((t for t in targets if t.name == name), None)
            if target is None:  # the create benchmark exists only via the gateway: build the direct one
                base = next(t for t in targets if t.name == ENDPOINTS[key] + bench.VIA_GATEWAY)
                target = bench.Target(
                    name,
                    base.method,
                    base.url.replace(p.stack.url("gateway"), p.stack.url("management")),
                    base.headers,
                    base.body,
                    base.body_parts,
                )
            print(f"-> {name}: warm-up 2 s, then py-spy for {args.duration} s", flush=True)
            drive(p, target, 2, sample)
            raw = p.workdir / f"management-{key}-{worker}.txt"
            result: list[bench.LoadResult] = []
            threads_before = spy.thread_cpu(worker)

            def load(t: bench.Target = target, out: list[bench.LoadResult] = result) -> None:
                out.append(drive(p, t, args.duration + 2, sample))

            loader = threading.Thread(target=load)
            loader.start()
            time.sleep(1.0)
            proc = spy.py_spy(worker, args.duration, args.rate, raw, args.native)
            spy_out = proc.communicate(timeout=args.duration + 120)[0].decode(errors="replace")
            loader.join()
            threads_after = spy.thread_cpu(worker)
            if not raw.exists():
                raise SystemExit(f"py-spy wrote nothing:\n{spy_out}")
            stacks = spy.parse_raw(raw)
            if args.keep_raw:
                shutil.copy(raw, bench.BENCH_DIR / f"management-{key}-profile.collapsed.txt")
            r = result[0]
            n = max(r.requests, 1)
            thread_rows = []
            for tname, (user, system) in threads_after.items():
                ub, sb = threads_before.get(tname, (0.0, 0.0))
                du, ds = user - ub, system - sb
                if du + ds >= 0.01:
                    thread_rows.append(
                        f"| {tname} | {du + ds:.2f} | {du:.2f} | {ds:.2f} | {(du + ds) / n * 1000:.3f} |"
                    )
            mode = "stops the process per sample" if args.native else "nonblocking"
            sections += [
                f"### {name}",
                "",
                f"- Load: {r.rps:.1f} req/s, p50 {r.p50_ms:.2f} ms, p99 {r.p99_ms:.2f} ms, non-200 {r.non_200} "
                f"over {args.duration + 2} s (py-spy {mode})",
                f"- CPU per request: management {r.cpu_s.get('management', 0) / n * 1000:.3f} ms, "
                f"gateway {r.cpu_s.get('gateway', 0) / n * 1000:.3f} ms, "
                f"postgres {r.cpu_s.get('postgres', 0) / n * 1000:.3f} ms; machine busy "
                f"{r.machine_busy_s / r.machine_total_s * 100 if r.machine_total_s else 0:.0f}%",
                "",
                "Management worker CPU by thread:",
                "",
                "| thread | CPU s | user s | sys s | ms/req |",
                "| --- | ---: | ---: | ---: | ---: |",
                *thread_rows,
                "",
                *summarize(stacks, round(r.rps * args.duration)),
                "",
            ]
    machine = bench.machine_info()
    header = [
        f"## Management profile {started.strftime('%Y-%m-%d %H:%M:%S')} UTC",
        "",
        f"- Machine: {machine['nproc']} CPUs, {machine['cpu']}; "
        f"load average {load_before} before, {bench.loadavg()} after (shared machine)",
        f"- Git commit: `{bench.git_commit()}`",
        f"- Command: `{' '.join(['uv run python bench/profile_management.py', *sys.argv[1:]])}`",
        f"- Load: {tool}, {args.connections} connections, "
        f"{'straight to management' if args.direct else 'via the gateway'}; tenant seeded by bench/seed_tenant.py",
        "",
        NOTE,
        "",
    ]
    text = "\n".join(header + sections)
    print()
    print(text)
    with spy.PROFILE.open("a") as f:
        f.write("\n" + text)
    print(f"appended to {spy.PROFILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
