"""`make bench`: start the whole platform as real processes and measure it under load.

Every run gets its own database (`gh_bench_<id>`), its own JetStream stream and subject prefix
(`GH_BENCH_<ID>_EVENTS`, `ghbench<id>`) and free ports, so it never collides with a running
`make run` (3001/31xx) or with a test run; all of them are removed at the end.

Benchmarks (16 concurrent connections, 2 s warm-up, then 10 s measured), `--suite gateway|management|identity|all`:

gateway suite
1. `POST /oidc/token` (client_credentials, client_secret_basic, bootstrap app) through the gateway.
2. `GET /api/applications/{id}` with a Bearer token, through the gateway and straight to the
   management service, and the ratio gateway/direct.

management suite (tenant seeded by bench/seed_tenant.py: 10,000 users, 1,000 applications, 200 roles;
query plans of the list endpoints captured by bench/query_plans.py before the services start)
3. `GET /api/applications?page=1&page_size=20` through the gateway and straight to management.
4. `GET /api/roles/{id}/users?page=1&page_size=20` (the role with 2,000 users), the same two ways.
5. `POST /api/applications` (a new SPA per request) through the gateway.
   3-5 are checked against the issue's targets (≥ 1,500 req/s and p99 < 50 ms for 3 and 4, ≥ 300/s for 5).

identity suite (through the gateway; targets of the identity issue, p99 < 50 ms each)
6. `POST /oidc/token` client_credentials (≥ 1,000/s), 7. refresh_token (≥ 600/s: a pool of refresh tokens
   from authorization-code flows of an app with `rotateRefreshToken: false`), 8. introspection of an opaque
   access token (≥ 1,500/s), 9. discovery and 10. JWKS (≥ 4,000/s each).

Then the RSS of every service (process tree: granian main process plus its worker) and the CPU
time each service used per phase. Results are appended to bench/RESULTS.md (see bench/README.md).

Load comes from `wrk` when it is on PATH (a Lua script does the POST and counts non-200
responses), else from an asyncio + aiohttp generator in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "RESULTS.md"
MANAGEMENT_RESOURCE = "https://default.logto.app/api"
RATIO_TARGET = 0.80
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- helpers


def free_port(taken: set[int]) -> int:
    """A free port that is not 3001 or 31xx (where `make run` lives) and not already chosen."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        if port == 3001 or 3100 <= port <= 3199 or port in taken:
            continue
        taken.add(port)
        return port


def children_of(pid: int) -> list[int]:
    kids: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: the fields start after the last ')'
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            kids.append(int(entry))
    return kids


def process_tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children_of(p))
    return tree


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # after the ')': state(0) ppid(1) ... utime(11) stime(12)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def postgres_backends(db_name: str) -> list[int]:
    """Local PostgreSQL backends serving `db_name` (their process title names the database)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {db_name} " in title:
            found.append(int(entry))
    return found


def children_cpu_seconds(pid: int) -> float:
    """CPU seconds of the reaped children of `pid` (for the postmaster: backends that have exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[13]) + int(fields[14])) / CLK_TCK


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class Sample:
    cpu: dict[str, float]  # CPU seconds so far, per service (process tree) and "postgres"
    counters: dict[str, int]  # pg_stat_database counters of this run's database
    others: dict[int, tuple[str, float]]  # every other process: pid -> (name, CPU seconds so far)


def all_processes() -> dict[int, tuple[str, float]]:
    out: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            head, _, tail = Path(f"/proc/{entry}/stat").read_text().rpartition(")")
            fields = tail.split()
            name = head.split("(", 1)[1]
            if name in ("postgres", "python", "python3", "granian"):  # the title or command says more
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                name = cmd.strip()[:60] or name
        except (OSError, IndexError):
            continue
        out[int(entry)] = (name, (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return out


def top_others(before: Sample, after: Sample, exclude: set[int], n: int = 3) -> list[tuple[str, float]]:
    """The processes outside this run that used the most CPU between two samples (alive at both)."""
    used: dict[str, float] = {}
    for pid, (name, cpu) in after.others.items():
        if pid in exclude or pid not in before.others:
            continue
        delta = cpu - before.others[pid][1]
        if delta > 0:
            used[name] = used.get(name, 0.0) + delta
    return sorted(used.items(), key=lambda kv: -kv[1])[:n]


class CpuSampler:
    """CPU seconds so far of each service's process tree and of PostgreSQL, plus the database's
    session and transaction counters.

    PostgreSQL = the live backends of this run's database + the CPU of backends that exited
    (the postmaster's reaped-children time, which counts exited backends of every database on the
    server: approximate when other sessions use the same server). Only works for a local server.
    """

    def __init__(self, pids: dict[str, int], db_name: str, admin_url: str) -> None:
        self.pids = pids
        self.db_name = db_name
        self.admin_url = admin_url
        self.postmaster: int | None = None
        self.ours: set[int] = set()  # pids of this run (services, backends, this process)

    def pg_counters(self) -> dict[str, int]:
        import asyncpg

        async def query() -> dict[str, int]:
            conn = await asyncpg.connect(self.admin_url, timeout=5)
            try:
                await conn.execute("SELECT pg_stat_clear_snapshot()")
                row = await conn.fetchrow(
                    "SELECT sessions, xact_commit + xact_rollback AS xacts FROM pg_stat_database WHERE datname = $1",
                    self.db_name,
                )
            finally:
                await conn.close()
            return {"sessions": int(row["sessions"]), "xacts": int(row["xacts"])} if row else {}

        try:
            return asyncio.run(query())
        except Exception:
            return {}

    def __call__(self) -> Sample:
        cpu = {name: sum(cpu_seconds(p) for p in process_tree(pid)) for name, pid in self.pids.items()}
        backends = postgres_backends(self.db_name)
        if self.postmaster is None and backends:
            self.postmaster = parent_of(backends[0])
        reaped = children_cpu_seconds(self.postmaster) if self.postmaster else 0.0
        cpu["postgres"] = sum(cpu_seconds(p) for p in backends) + reaped
        self.ours = {os.getpid(), *backends, *(p for pid in self.pids.values() for p in process_tree(pid))}
        return Sample(cpu, self.pg_counters(), all_processes())


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, all CPUs, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / CLK_TCK, sum(fields) / CLK_TCK


def machine_info() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {"nproc": str(os.cpu_count()), "cpu": model, "mem": mem}


def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + (" (with uncommitted changes)" if dirty else "")


def invoked_as(argv: list[str]) -> str:
    extra = " ".join(argv)
    if os.environ.get("MAKELEVEL"):
        return "make bench" + (f" (args: {extra})" if extra else "")
    return "uv run python bench/run.py" + (f" {extra}" if extra else "")


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# --------------------------------------------------------------------------- results


@dataclass
class LoadResult:
    name: str
    requests: int
    duration_s: float
    non_200: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)  # per service, during the measured window
    client_cpu_s: float = 0.0
    pg_counters: dict[str, int] = field(default_factory=dict)  # deltas over the measured window
    rest_top: list[tuple[str, float]] = field(default_factory=list)  # busiest other processes
    machine_busy_s: float = 0.0  # whole machine, all CPUs, during the measured window
    machine_total_s: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0


@dataclass
class Target:
    name: str
    method: str
    url: str
    headers: dict[str, str]
    body: str = ""
    # a body unique per request: prefix + "<load thread>-<request number>" + suffix (POST benchmarks)
    body_parts: tuple[str, str] | None = None
    # bodies taken in turn, each load thread from its own offset (a pool of refresh tokens)
    body_cycle: tuple[str, ...] | None = None

    def numbered_body(self, thread: int, n: int) -> str:
        if self.body_cycle is not None:
            return self.body_cycle[(n * 7 + thread * 13) % len(self.body_cycle)]
        if self.body_parts is None:
            return self.body
        return f"{self.body_parts[0]}{thread}-{n}{self.body_parts[1]}"


# --------------------------------------------------------------------------- wrk

WRK_LUA = """
wrk.method = {method}
wrk.body = {body}
{headers}

local threads = {{}}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
{request}

function init(args)
  non200 = 0
  codes = {{}}
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    codes[status] = (codes[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  local codes_out = {{}}
  for _, t in ipairs(threads) do
    bad = bad + t:get("non200")
    for code, n in pairs(t:get("codes")) do
      codes_out[#codes_out + 1] = string.format('"%d": %d', code, n)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {{"requests": %d, "duration_us": %d, "non200": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "status": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "codes": {{%s}}}}\\n',
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(codes_out, ", ")))
end
"""


def lua_str(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid Lua string literal for ASCII content


WRK_NUMBERED_REQUEST = """
local counter = 0
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, {prefix} .. tid .. "-" .. counter .. {suffix})
end
"""


WRK_CYCLE_REQUEST = """
local bodies = {{{bodies}}}
local counter = 0
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[(counter * 7 + tid * 13) % #bodies + 1])
end
"""


def wrk_script(target: Target, workdir: Path) -> Path:
    headers = "\n".join(f"wrk.headers[{lua_str(k)}] = {lua_str(v)}" for k, v in target.headers.items())
    request = ""
    if target.body_cycle is not None:
        request = WRK_CYCLE_REQUEST.format(bodies=", ".join(lua_str(b) for b in target.body_cycle))
    elif target.body_parts is not None:  # a Lua request() per request: slower for wrk, fine at a few 100/s
        prefix, suffix = (lua_str(part) for part in target.body_parts)
        request = WRK_NUMBERED_REQUEST.format(prefix=prefix, suffix=suffix)
    text = WRK_LUA.format(method=lua_str(target.method), body=lua_str(target.body), headers=headers, request=request)
    path = workdir / f"{re.sub(r'[^a-z0-9]+', '_', target.name.lower())}.lua"
    path.write_text(text)
    return path


def children_cpu() -> float:
    r = os.times()
    return r.children_user + r.children_system


def run_wrk(
    target: Target,
    connections: int,
    threads: int,
    duration: float,
    warmup: float,
    workdir: Path,
    sample: CpuSampler,
) -> LoadResult:
    script = wrk_script(target, workdir)

    def once(seconds: float) -> dict[str, Any]:
        cmd = [
            "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(script), target.url,
        ]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
        if out.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
        data: dict[str, Any] = json.loads(line[len("WRKJSON ") :])
        return data

    if warmup > 0:
        once(warmup)
    cpu_before = sample()
    client_before = children_cpu()
    machine_before = machine_cpu()
    data = once(duration)
    machine_after = machine_cpu()
    client_cpu = children_cpu() - client_before
    cpu_after = sample()
    return LoadResult(
        name=target.name,
        requests=data["requests"],
        duration_s=data["duration_us"] / 1e6,
        non_200=data["non200"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        statuses={str(k): v for k, v in data["codes"].items()},
        cpu_s={k: cpu_after.cpu[k] - cpu_before.cpu[k] for k in cpu_after.cpu},
        pg_counters={k: v - cpu_before.counters.get(k, 0) for k, v in cpu_after.counters.items()},
        rest_top=top_others(cpu_before, cpu_after, sample.ours),
        client_cpu_s=client_cpu,
        machine_busy_s=machine_after[0] - machine_before[0],
        machine_total_s=machine_after[1] - machine_before[1],
    )


# --------------------------------------------------------------------------- python generator


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


async def _python_load(target: Target, connections: int, duration: float, warmup: float) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    codes: dict[str, int] = {}
    state = {"errors": 0, "non200": 0, "requests": 0}
    now = time.perf_counter  # uvloop's loop.time() has only millisecond resolution
    start = now()
    measure_from = start + warmup
    stop_at = measure_from + duration
    body = target.body.encode() if target.body else None
    numbered = target.body_parts is not None or target.body_cycle is not None
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=10)
    session = aiohttp.ClientSession(connector=connector, timeout=timeout, skip_auto_headers=("User-Agent",))
    async with session as s:

        async def worker(index: int) -> None:
            sent = 0
            while True:
                t0 = now()
                if t0 >= stop_at:
                    return
                status = 0
                sent += 1
                data = target.numbered_body(index, sent).encode() if numbered else body
                try:
                    request = s.request(target.method, target.url, headers=target.headers, data=data)
                    async with request as resp:
                        await resp.read()
                        status = resp.status
                except Exception:
                    status = -1
                t1 = now()
                if t0 < measure_from or t1 > stop_at:
                    continue  # warm-up, or finished after the window closed
                state["requests"] += 1
                latencies.append(t1 - t0)
                if status == -1:
                    state["errors"] += 1
                elif status != 200:
                    state["non200"] += 1
                    codes[str(status)] = codes.get(str(status), 0) + 1

        await asyncio.gather(*(worker(i + 1) for i in range(connections)))
    latencies.sort()
    return {
        "requests": state["requests"],
        "duration_s": duration,
        "non200": state["non200"],
        "errors": state["errors"],
        "p50": percentile(latencies, 50) * 1000,
        "p90": percentile(latencies, 90) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "max": (latencies[-1] * 1000) if latencies else 0.0,
        "codes": codes,
    }


def run_python(target: Target, connections: int, duration: float, warmup: float, sample: CpuSampler) -> LoadResult:
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run

    # CPU counters: sampled around the whole call; warm-up is subtracted proportionally (approximate).
    cpu_before = sample()
    t_before = os.times()
    machine_before = machine_cpu()
    data = runner(_python_load(target, connections, duration, warmup))
    machine_after = machine_cpu()
    t_after = os.times()
    cpu_after = sample()
    share = duration / (duration + warmup)
    return LoadResult(
        name=target.name,
        requests=data["requests"],
        duration_s=data["duration_s"],
        non_200=data["non200"],
        socket_errors=data["errors"],
        p50_ms=data["p50"],
        p90_ms=data["p90"],
        p99_ms=data["p99"],
        max_ms=data["max"],
        statuses=data["codes"],
        cpu_s={k: (cpu_after.cpu[k] - cpu_before.cpu[k]) * share for k in cpu_after.cpu},
        pg_counters={k: round((v - cpu_before.counters.get(k, 0)) * share) for k, v in cpu_after.counters.items()},
        rest_top=[(k, v * share) for k, v in top_others(cpu_before, cpu_after, sample.ours)],
        client_cpu_s=((t_after.user - t_before.user) + (t_after.system - t_before.system)) * share,
        machine_busy_s=(machine_after[0] - machine_before[0]) * share,
        machine_total_s=(machine_after[1] - machine_before[1]) * share,
    )


# --------------------------------------------------------------------------- HTTP checks


def http(method: str, url: str, headers: dict[str, str], body: str = "") -> tuple[int, bytes]:
    status, _, data = http_with_headers(method, url, headers, body)
    return status, data


def http_with_headers(
    method: str, url: str, headers: dict[str, str], body: str = ""
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=body.encode() if body else None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read()


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Goal:
    min_rps: float
    max_p99_ms: float | None = None

    def met(self, r: LoadResult) -> bool:
        ok = r.rps >= self.min_rps and r.non_200 == 0 and r.socket_errors == 0
        return ok and (self.max_p99_ms is None or r.p99_ms < self.max_p99_ms)

    def shortfall(self, r: LoadResult) -> str:
        """What of the target a result misses."""
        missed = []
        if r.rps < self.min_rps:
            missed.append(f"{r.rps / self.min_rps * 100:.0f} % of the rate")
        if self.max_p99_ms is not None and r.p99_ms >= self.max_p99_ms:
            missed.append(f"p99 {r.p99_ms:.0f} ms")
        if r.non_200 or r.socket_errors:
            missed.append(f"{r.non_200 + r.socket_errors} errors")
        return ", ".join(missed)

    def describe(self) -> str:
        p99 = f", p99 < {self.max_p99_ms:g} ms" if self.max_p99_ms is not None else ""
        return f"≥ {self.min_rps:,.0f} req/s{p99}, all 200"


@dataclass
class Run:
    started: dt.datetime
    machine: dict[str, str]
    commit: str
    command: str
    tool: str
    load_before: str
    settings: dict[str, str]
    results: list[LoadResult] = field(default_factory=list)
    rss: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    load_after: str = ""
    notes: list[str] = field(default_factory=list)
    suites: tuple[str, ...] = ("gateway", "management")
    seeded: Any = None  # seed_tenant.SeedResult of the management suite
    plans: Any = None  # query_plans.PlanReport of the management suite
    goals: dict[str, Goal] = field(default_factory=dict)  # benchmark name -> the target


def delete_streams(nats_url: str, names: list[str]) -> None:
    import nats

    async def delete() -> None:
        nc = await nats.connect(nats_url, connect_timeout=3, max_reconnect_attempts=1)
        js = nc.jetstream()
        for name in names:
            with contextlib.suppress(Exception):
                await js.delete_stream(name)
        await nc.close()

    with contextlib.suppress(Exception):
        asyncio.run(delete())


def drop_database(admin_url: str, name: str) -> None:
    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


@dataclass
class Platform:
    stack: Any  # gatehouse_devstack.stack.Stack
    creds: dict[str, str]
    db_name: str
    workdir: Path
    admin_url: str
    database_url: str = ""

    def sampler(self) -> CpuSampler:
        pids = {name: proc.pid for name, proc in self.stack.procs.items()}
        return CpuSampler(pids, self.db_name, self.admin_url)


@contextlib.contextmanager
def running_platform(
    settings: dict[str, str], before_start: Callable[[str, dict[str, str]], None] | None = None
) -> Iterator[Platform]:
    """The six services as real processes on free ports, with their own database and streams,
    all removed on the way out. `settings` gets what a report should say about the setup;
    `before_start(database_url, bootstrap credentials)` runs after the migrations and the bootstrap
    seed, before the services start (the management suite seeds its tenant there)."""
    from gatehouse_devstack.stack import SERVICES, Stack, StackConfig, prepare
    from gatehouse_identity.config import IdentitySettings
    from gatehouse_management.config import ManagementSettings
    from gatehouse_platform.config import Settings
    from gatehouse_platform.messaging import dead_letter_stream
    from gatehouse_testing.servers import nats_server, postgres_server

    run_id = secrets.token_hex(4)
    db_name = f"gh_bench_{run_id}"
    stream = f"GH_BENCH_{run_id.upper()}_EVENTS"
    workdir = Path(tempfile.mkdtemp(prefix=f"gh_bench_{run_id}_"))
    keep_workdir = False

    with postgres_server() as admin_url, nats_server() as nats_url:
        base = admin_url.rsplit("/", 1)[0]
        taken: set[int] = set()
        ports = {name: free_port(taken) for name in SERVICES}
        config = StackConfig(
            database_url=f"{base}/{db_name}",
            nats_url=nats_url,
            ports=ports,
            events_stream=stream,
            subject_prefix=f"ghbench{run_id}",
            log_dir=workdir / "logs",
            bootstrap_file=workdir / "bootstrap.json",
        )
        server = urllib.parse.urlsplit(admin_url)
        settings.update(
            {
                "PostgreSQL": f"{server.hostname}:{server.port or 5432}, database `{db_name}` (dropped after)",
                "NATS": f"{nats_url}, stream `{stream}` (deleted after)",
                "ports": ", ".join(f"{k} {v}" for k, v in ports.items()),
                "granian workers per service": os.environ.get("WORKERS")
                or f"management {ManagementSettings().workers}, identity {IdentitySettings().workers}, "
                f"the others {Settings().workers} (defaults)",
                "LOG_LEVEL": os.environ.get("LOG_LEVEL", "info (default)"),
                "DB_POOL_SIZE": os.environ.get("DB_POOL_SIZE", f"{Settings().db_pool_size} (default)"),
            }
        )
        for knob in ("UPSTREAM_POOL_SIZE", "OTEL_EXPORTER_OTLP_ENDPOINT", "RPC_TIMEOUT"):
            if os.environ.get(knob):
                settings[knob] = os.environ[knob]
        print(f"bench {run_id}: database {db_name}, stream {stream}, ports {ports}", flush=True)
        stack = Stack(config)
        try:
            t0 = time.monotonic()
            prepare(config, bootstrap=True)
            creds = json.loads(config.bootstrap_file.read_text())
            if before_start is not None:
                before_start(config.database_url, creds)
            stack.start()
            print(f"stack up in {time.monotonic() - t0:.1f} s (logs in {workdir / 'logs'})", flush=True)
            yield Platform(stack, creds, db_name, workdir, admin_url, config.database_url)
        except BaseException:
            keep_workdir = True
            raise
        finally:
            stack.stop()
            with contextlib.suppress(Exception):
                drop_database(admin_url, db_name)
            delete_streams(nats_url, [stream, dead_letter_stream(stream)])
            if keep_workdir:
                print(f"logs kept in {workdir / 'logs'}", file=sys.stderr)
            else:
                shutil.rmtree(workdir, ignore_errors=True)


def token_target(p: Platform) -> Target:
    basic = base64.b64encode(f"{p.creds['client_id']}:{p.creds['client_secret']}".encode()).decode()
    body = urllib.parse.urlencode({"grant_type": "client_credentials", "resource": MANAGEMENT_RESOURCE, "scope": "all"})
    return Target(
        "POST /oidc/token via gateway",
        "POST",
        f"{p.stack.url('gateway')}/oidc/token",
        {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"},
        body,
    )


def fetch_token(target: Target) -> str:
    """One token request, which must answer 200 with an access token."""
    status, body = http(target.method, target.url, target.headers, target.body)
    payload = json.loads(body) if body.startswith(b"{") else {}
    if status != 200 or "access_token" not in payload:
        raise RuntimeError(f"token request failed: {status} {body[:300]!r}")
    print(f"token check ok (expires_in={payload.get('expires_in')})", flush=True)
    token: str = payload["access_token"]
    return token


GET_APP = "GET /api/applications/{id}"
LIST_APPS = "GET /api/applications?page=1&page_size=20"
LIST_ROLE_USERS = "GET /api/roles/{id}/users?page=1&page_size=20"
CREATE_APP = "POST /api/applications"
VIA_GATEWAY, DIRECT = " via gateway", " direct to management"
#: the issue's targets for the management suite (through the gateway, 16 clients, seeded tenant)
MANAGEMENT_GOALS = {
    LIST_APPS + VIA_GATEWAY: Goal(1500, 50),
    LIST_ROLE_USERS + VIA_GATEWAY: Goal(1500, 50),
    CREATE_APP + VIA_GATEWAY: Goal(300),
}
CREATE_BODY = (  # the name gets "<load thread>-<request number>"
    '{"name":"bench-',
    '","type":"SPA","oidcClientMetadata":{"redirectUris":["https://b.example/cb"],"postLogoutRedirectUris":[]}}',
)


def application_targets(p: Platform, access_token: str) -> tuple[Target, Target]:
    """GET the bootstrap app through the gateway and straight to management; both must answer 200."""
    path = f"/api/applications/{p.creds['client_id']}"
    bearer = {"Authorization": f"Bearer {access_token}"}
    gw = Target(GET_APP + VIA_GATEWAY, "GET", p.stack.url("gateway") + path, bearer)
    direct = Target(GET_APP + DIRECT, "GET", p.stack.url("management") + path, bearer)
    for t in (gw, direct):
        status, body = http(t.method, t.url, t.headers)
        if status != 200:
            raise RuntimeError(f"{t.name}: {status} {body[:300]!r}")
    print("GET application check ok (gateway and direct)", flush=True)
    return gw, direct


def seed_management_tenant(run: Run) -> Callable[[str, dict[str, str]], None]:
    """The hook that seeds the tenant and captures the list endpoints' query plans before the start."""

    def hook(database_url: str, creds: dict[str, str]) -> None:
        import query_plans
        import seed_tenant

        run.seeded = seed_tenant.seed(database_url, creds["tenant_id"])
        counts = ", ".join(f"{k} {v}" for k, v in run.seeded.counts.items())
        print(f"seeded tenant {creds['tenant_id']} in {run.seeded.seconds:.1f} s: {counts}", flush=True)
        small = (run.seeded.small_role_id, run.seeded.small_role_users)
        run.plans = query_plans.capture(database_url, creds["tenant_id"], run.seeded.big_role_id, small)
        print(f"captured {len(run.plans.statements)} query plans", flush=True)

    return hook


def management_targets(p: Platform, access_token: str, run: Run) -> list[Target]:
    """The management suite's targets; each must answer 200 once (the lists with 20 items and the
    seeded total in `Total-Number`) before it is measured."""
    bearer = {"Authorization": f"Bearer {access_token}"}
    gw, mg = p.stack.url("gateway"), p.stack.url("management")
    apps = "/api/applications?page=1&page_size=20"
    users = f"/api/roles/{run.seeded.big_role_id}/users?page=1&page_size=20"
    json_bearer = {**bearer, "Content-Type": "application/json"}
    import seed_tenant

    expected_totals = {apps: run.seeded.counts["management.applications"], users: seed_tenant.BIG_ROLE_USERS}
    targets = [
        Target(LIST_APPS + VIA_GATEWAY, "GET", gw + apps, bearer),
        Target(LIST_APPS + DIRECT, "GET", mg + apps, bearer),
        Target(LIST_ROLE_USERS + VIA_GATEWAY, "GET", gw + users, bearer),
        Target(LIST_ROLE_USERS + DIRECT, "GET", mg + users, bearer),
        Target(CREATE_APP + VIA_GATEWAY, "POST", gw + "/api/applications", json_bearer, body_parts=CREATE_BODY),
    ]
    for t in targets:
        status, headers, body = http_with_headers(t.method, t.url, t.headers, t.numbered_body(0, 0))
        if status != 200:
            raise RuntimeError(f"{t.name}: {status} {body[:300]!r}")
        payload = json.loads(body)
        if t.method == "GET":
            total = {k.lower(): v for k, v in headers.items()}.get("total-number")
            path = t.url.split("/", 3)[3]
            want = expected_totals["/" + path]
            if not isinstance(payload, list) or len(payload) != 20 or total != str(want):
                raise RuntimeError(f"{t.name}: {len(payload)} items, Total-Number {total} (expected 20 and {want})")
        elif payload.get("type") != "SPA" or not payload.get("id"):
            raise RuntimeError(f"{t.name}: unexpected answer {body[:300]!r}")
    print("management checks ok (lists: 20 items and the seeded totals; POST: 200 with the new app)", flush=True)
    run.goals.update(MANAGEMENT_GOALS)
    return targets


TOKEN_CC = "POST /oidc/token (client_credentials)"
TOKEN_REFRESH = "POST /oidc/token (refresh_token)"
INTROSPECT = "POST /oidc/token/introspection"
DISCOVERY = "GET /oidc/.well-known/openid-configuration"
JWKS = "GET /oidc/jwks"
#: the identity issue's targets (through the gateway, 16 clients)
IDENTITY_GOALS = {
    TOKEN_CC + VIA_GATEWAY: Goal(1000, 50),
    TOKEN_REFRESH + VIA_GATEWAY: Goal(600, 50),
    INTROSPECT + VIA_GATEWAY: Goal(1500, 50),
    DISCOVERY + VIA_GATEWAY: Goal(4000, 50),
    JWKS + VIA_GATEWAY: Goal(4000, 50),
}
REFRESH_POOL = 64  # refresh tokens, each from its own authorization-code flow (own grant and session)
BENCH_REDIRECT = "https://bench.example.com/callback"


async def _sign_in_flows(p: Platform, mgmt_bearer: dict[str, str], flows: int) -> dict[str, Any]:
    """A Traditional app (rotateRefreshToken false) and a user, then `flows` authorization-code flows
    through the gateway, the sign-in reported with the interaction RPC as the experience service does
    (services/identity/tests/test_oidc_authorization_code.py). Returns the app and the tokens."""
    import hashlib

    import httpx
    import nats
    from gatehouse_platform.rpc import RpcClient
    from gatehouse_schema.rpc.identity import InteractionResult, InteractionResultReply

    gw = p.stack.url("gateway")
    async with httpx.AsyncClient(base_url=gw, timeout=10) as api:
        created = await api.post(
            "/api/applications",
            headers=mgmt_bearer,
            json={
                "name": "bench-identity",
                "type": "Traditional",
                "oidcClientMetadata": {"redirectUris": [BENCH_REDIRECT], "postLogoutRedirectUris": []},
                "customClientMetadata": {"rotateRefreshToken": False},
            },
        )
        if created.status_code != 200:
            raise RuntimeError(f"create app: {created.status_code} {created.text[:300]}")
        app_id = created.json()["id"]
        secrets_resp = await api.get(f"/api/applications/{app_id}/secrets", headers=mgmt_bearer)
        app_secret = secrets_resp.json()[0]["value"]
        name = f"bench{secrets.token_hex(4)}"
        user = await api.post("/api/users", headers=mgmt_bearer, json={"username": name, "name": "Bench"})
        if user.status_code != 200:
            raise RuntimeError(f"create user: {user.status_code} {user.text[:300]}")
        user_id = user.json()["id"]
    basic = {"Authorization": "Basic " + base64.b64encode(f"{app_id}:{app_secret}".encode()).decode()}
    nc = await nats.connect(p.stack.config.nats_url)
    rpc = RpcClient(nc, p.stack.config.subject_prefix, 5.0)
    refresh: list[str] = []
    access: list[str] = []
    try:
        for _ in range(flows):
            async with httpx.AsyncClient(base_url=gw, timeout=10) as browser:
                verifier = secrets.token_urlsafe(48)
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
                started = await browser.get(
                    "/oidc/auth",
                    params={
                        "client_id": app_id,
                        "redirect_uri": BENCH_REDIRECT,
                        "response_type": "code",
                        "scope": "openid offline_access profile",
                        "prompt": "consent",  # as in Logto, offline_access is granted only with a consent prompt
                        "state": secrets.token_hex(8),
                        "code_challenge": challenge.decode(),
                        "code_challenge_method": "S256",
                    },
                )
                cookie = browser.cookies.get("_interaction")
                if started.status_code != 303 or not cookie:
                    raise RuntimeError(f"/oidc/auth: {started.status_code} {started.text[:300]}")
                reply = await rpc.call(
                    "identity",
                    "interaction.result",
                    InteractionResult(uid=cookie.rpartition(".")[0], account_id=user_id),
                    InteractionResultReply,
                )
                done = await browser.get(urllib.parse.urlsplit(reply.redirect_to).path)
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(done.headers.get("location", "")).query)
                if done.status_code != 303 or "code" not in query:
                    raise RuntimeError(f"resume: {done.status_code} {done.headers.get('location')}")
                tokens = await browser.post(
                    "/oidc/token",
                    headers=basic,
                    data={
                        "grant_type": "authorization_code",
                        "code": query["code"][0],
                        "redirect_uri": BENCH_REDIRECT,
                        "code_verifier": verifier,
                    },
                )
                body = tokens.json()
                if tokens.status_code != 200 or "refresh_token" not in body:
                    raise RuntimeError(f"code exchange: {tokens.status_code} {tokens.text[:300]}")
                refresh.append(body["refresh_token"])
                access.append(body["access_token"])
    finally:
        await nc.close()
    return {"app_id": app_id, "basic": basic, "refresh": refresh, "access": access}


def identity_targets(p: Platform, access_token: str, run: Run) -> list[Target]:
    """The identity suite's targets, each checked once (200 and the expected payload) before it is measured."""
    t0 = time.monotonic()
    flows = asyncio.run(_sign_in_flows(p, {"Authorization": f"Bearer {access_token}"}, REFRESH_POOL))
    print(f"{len(flows['refresh'])} authorization-code flows in {time.monotonic() - t0:.1f} s", flush=True)
    run.settings["identity suite"] = (
        f"refresh_token: a pool of {len(flows['refresh'])} refresh tokens, each from its own authorization-code "
        "flow (scope `openid offline_access profile`, own grant and session), taken in turn, of one Traditional "
        "app with `rotateRefreshToken: false` (so a token stays valid when reused; each refresh still locks the "
        "token row, checks grant and user, and signs a new ID token and access token); introspection: one of "
        "the flows' opaque access tokens, introspected by its own client (client_secret_basic); "
        "client_credentials: the bootstrap M2M app, `resource` = the management API, `scope=all`"
    )
    gw = p.stack.url("gateway")
    form = {"Content-Type": "application/x-www-form-urlencoded", **flows["basic"]}
    refresh_bodies = tuple(
        urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": t}) for t in flows["refresh"]
    )
    cc = token_target(p)
    targets = [
        Target(TOKEN_CC + VIA_GATEWAY, cc.method, cc.url, cc.headers, cc.body),
        Target(TOKEN_REFRESH + VIA_GATEWAY, "POST", gw + "/oidc/token", form, body_cycle=refresh_bodies),
        Target(
            INTROSPECT + VIA_GATEWAY,
            "POST",
            gw + "/oidc/token/introspection",
            form,
            urllib.parse.urlencode({"token": flows["access"][0]}),
        ),
        Target(DISCOVERY + VIA_GATEWAY, "GET", gw + "/oidc/.well-known/openid-configuration", {}),
        Target(JWKS + VIA_GATEWAY, "GET", gw + "/oidc/jwks", {}),
    ]
    for t in targets:
        status, body = http(t.method, t.url, t.headers, t.numbered_body(0, 0))
        payload = json.loads(body) if body.startswith(b"{") else {}
        expected = {
            TOKEN_CC: "access_token",
            TOKEN_REFRESH: "id_token",
            INTROSPECT: "active",
            DISCOVERY: "issuer",
            JWKS: "keys",
        }[t.name.removesuffix(VIA_GATEWAY)]
        if status != 200 or not payload.get(expected):
            raise RuntimeError(f"{t.name}: {status} {body[:300]!r}")
    print("identity checks ok (tokens, introspection active, discovery, JWKS)", flush=True)
    run.goals.update(IDENTITY_GOALS)
    return targets


def benchmark(args: argparse.Namespace, run: Run) -> None:
    hook = seed_management_tenant(run) if "management" in run.suites else None
    with running_platform(run.settings, before_start=hook) as p:
        sample = p.sampler()
        token = token_target(p)
        access_token = fetch_token(token)

        def load(target: Target) -> LoadResult:
            print(
                f"-> {target.name}: {args.connections} connections, {args.warmup:g} s warm-up + {args.duration:g} s",
                flush=True,
            )
            if run.tool.startswith("wrk"):
                r = run_wrk(target, args.connections, args.threads, args.duration, args.warmup, p.workdir, sample)
            else:
                r = run_python(target, args.connections, args.duration, args.warmup, sample)
            print(
                f"   {r.rps:8.1f} req/s  p50 {r.p50_ms:.2f} ms  p99 {r.p99_ms:.2f} ms  "
                f"non-200 {r.non_200}  socket errors {r.socket_errors}",
                flush=True,
            )
            return r

        if "gateway" in run.suites:
            gw_target, direct_target = application_targets(p, access_token)
            run.results.append(load(token))
            for i in range(args.rounds):  # ABBA order, so a drift in background load hits both sides alike
                pair = (gw_target, direct_target) if i % 2 == 0 else (direct_target, gw_target)
                for target in pair:
                    run.results.append(load(target))
        suites: list[tuple[str, Callable[[], list[Target]]]] = [
            # management before identity, which adds an application (the lists check the total); its POST
            # last, since it grows the table
            ("management", lambda: management_targets(p, access_token, run)),
            ("identity", lambda: identity_targets(p, access_token, run)),
        ]
        for suite, targets in suites:
            if suite not in run.suites:
                continue
            try:
                for target in targets():
                    run.results.append(load(target))
            except RuntimeError as exc:  # a failed check: report what was measured, and why the rest is missing
                print(f"{suite} suite stopped: {exc}", file=sys.stderr, flush=True)
                run.notes.append(f"**The {suite} suite stopped early**: {exc}")
        for name, proc in p.stack.procs.items():
            run.rss[name] = [(pid, rss_kib(pid)) for pid in process_tree(proc.pid)]


# --------------------------------------------------------------------------- report


def fmt_ms(v: float) -> str:
    return f"{v:.2f}"


def render(run: Run, duration: float, warmup: float, connections: int) -> str:
    m = run.machine
    lines = [
        f"## {run.started.strftime('%Y-%m-%d %H:%M:%S')} UTC",
        "",
        f"- Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}, {m['mem']} RAM; "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}",
        f"- Git commit: `{run.commit}`",
        f"- Command: `{run.command}`",
        f"- Load tool: {run.tool}; {connections} concurrent connections, "
        f"{warmup:g} s warm-up then {duration:g} s measured per benchmark",
        f"- Conditions: load average {run.load_before} before, {run.load_after} after "
        "(the machine is shared; other sessions may have been running tests at the same time); "
        "load generator, six services, PostgreSQL and NATS all on the same machine",
    ]
    lines.append(f"- Suites: {', '.join(run.suites)}")
    for k, v in run.settings.items():
        lines.append(f"- {k}: {v}")
    if run.seeded is not None:
        counts = ", ".join(f"`{k}` {v:,}" for k, v in run.seeded.counts.items())
        lines.append(
            f"- Seeded tenant `{run.seeded.tenant_id}` (bench/seed_tenant.py, COPY then VACUUM ANALYZE, "
            f"{run.seeded.seconds:.1f} s, before the services started; the gateway suite ran on it too): "
            f"rows {counts}; {run.seeded.distribution}"
        )
    lines += [
        "",
        "| Benchmark | req/s | p50 ms | p90 ms | p99 ms | max ms | requests | non-200 | socket errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in run.results:
        codes = f" ({', '.join(f'{k}: {v}' for k, v in r.statuses.items())})" if r.statuses else ""
        lines.append(
            f"| {r.name} | {r.rps:.1f} | {fmt_ms(r.p50_ms)} | {fmt_ms(r.p90_ms)} | {fmt_ms(r.p99_ms)} | "
            f"{fmt_ms(r.max_ms)} | {r.requests} | {r.non_200}{codes} | {r.socket_errors} |"
        )
    gw = [r for r in run.results if r.name == GET_APP + VIA_GATEWAY]
    direct = [r for r in run.results if r.name == GET_APP + DIRECT]
    if gw and direct:
        gw_rps = statistics.median(r.rps for r in gw)
        direct_rps = statistics.median(r.rps for r in direct)
        ratio = gw_rps / direct_rps if direct_rps else 0.0
        added_p50 = statistics.median(r.p50_ms for r in gw) - statistics.median(r.p50_ms for r in direct)
        verdict = "meets the target" if ratio >= RATIO_TARGET else "BELOW the target"
        lines += [
            "",
            f"Gateway/direct throughput ratio for `GET /api/applications/{{id}}`: **{ratio:.2f}** "
            f"({gw_rps:.1f} / {direct_rps:.1f} req/s; target ≥ {RATIO_TARGET:.2f}: {verdict}). "
            f"Added p50 latency through the gateway: {added_p50:.2f} ms.",
        ]
    goals = [(r, run.goals[r.name]) for r in run.results if r.name in run.goals]
    if goals:
        lines += [
            "",
            "Targets (the issues: through the gateway, 16 clients; the management lists on the seeded tenant):",
            "",
            "| Benchmark | target | result | verdict |",
            "| --- | --- | --- | --- |",
        ]
        for r, goal in goals:
            errors = r.non_200 + r.socket_errors
            result = f"{r.rps:,.1f} req/s, p99 {r.p99_ms:.2f} ms" + (f", {errors} errors" if errors else "")
            verdict = "met" if goal.met(r) else f"**missed** ({goal.shortfall(r)})"
            lines.append(f"| {r.name} | {goal.describe()} | {result} | {verdict} |")
        for name in (LIST_APPS, LIST_ROLE_USERS):
            via = next((r for r in run.results if r.name == name + VIA_GATEWAY), None)
            direct_r = next((r for r in run.results if r.name == name + DIRECT), None)
            if via and direct_r and direct_r.rps:
                n = max(direct_r.requests, 1)
                lines += [
                    "",
                    f"`{name}`: gateway/direct {via.rps / direct_r.rps:.2f} ({via.rps:.1f} / {direct_r.rps:.1f} "
                    f"req/s); straight to management it costs {direct_r.cpu_s.get('management', 0) / n * 1000:.2f} "
                    f"ms of management CPU and {direct_r.cpu_s.get('postgres', 0) / n * 1000:.2f} ms of PostgreSQL "
                    "CPU per request.",
                ]
    if run.results:
        main_services = ("identity", "management", "gateway", "postgres")
        lines += [
            "",
            "Where the CPU went during each measured window (CPU seconds; a service = its whole process tree; "
            "`3 others` = organizations + hooks_audit + experience; `postgres` = this run's backends plus "
            "exited backends; `rest` = everything else on the machine: NATS, other sessions' work, kernel; "
            "`busy` = the machine's CPU use, all CPUs; `ms/req` = CPU ms per request; "
            "`new PG conns` = sessions opened to this run's database, from pg_stat_database):",
            "",
            "| Benchmark | identity | management | gateway | postgres | 3 others | load client | rest | busy "
            "| identity ms/req | management ms/req | gateway ms/req | postgres ms/req | new PG conns "
            "| PG xacts/req |",
            "| --- |" + " ---: |" * 15,
        ]
        for r in run.results:
            others = sum(v for k, v in r.cpu_s.items() if k not in main_services)
            mine = sum(r.cpu_s.values()) + r.client_cpu_s
            rest = max(0.0, r.machine_busy_s - mine)
            busy = f"{r.machine_busy_s / r.machine_total_s * 100:.0f}%" if r.machine_total_s else "?"
            n = max(r.requests, 1)
            sessions = r.pg_counters.get("sessions")
            xacts = r.pg_counters.get("xacts")
            lines.append(
                f"| {r.name} | "
                + " | ".join(f"{r.cpu_s.get(k, 0.0):.2f}" for k in main_services)
                + f" | {others:.2f} | {r.client_cpu_s:.2f} | {rest:.2f} | {busy} | "
                + " | ".join(f"{r.cpu_s.get(k, 0.0) / n * 1000:.2f}" for k in main_services)
                + f" | {'?' if sessions is None else sessions} | {'?' if xacts is None else f'{xacts / n:.2f}'} |"
            )
        lines += ["", "Busiest processes outside this run in each window (the `rest` column), CPU seconds:", ""]
        for r in run.results:
            top = ", ".join(f"`{name}` {cpu:.2f}" for name, cpu in r.rest_top) or "none measurable"
            lines.append(f"- {r.name}: {top}")
    if run.rss:
        lines += [
            "",
            "RSS after the run (VmRSS, summed over the granian process tree):",
            "",
            "| Service | processes | RSS MiB |",
            "| --- | ---: | ---: |",
        ]
        total = 0
        for name, procs in run.rss.items():
            kib = sum(k for _, k in procs)
            total += kib
            detail = " + ".join(f"{k / 1024:.1f}" for _, k in procs)
            lines.append(f"| {name} | {len(procs)} | {kib / 1024:.1f} ({detail}) |")
        lines.append(f"| **total** | | **{total / 1024:.1f}** |")
    for note in run.notes:
        lines += ["", note]
    if run.plans is not None:
        import query_plans

        lines += query_plans.render(run.plans)
    return "\n".join(lines) + "\n"


def append_results(text: str) -> None:
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Benchmark results\n\n"
            "Appended by `make bench` (`bench/run.py`), newest last. "
            "See bench/README.md for what is measured.\n\n"
        )
    with RESULTS.open("a") as f:
        f.write("\n" + text)


def choose_tool(requested: str) -> str:
    wrk = shutil.which("wrk")
    if requested == "python" or (requested == "auto" and wrk is None):
        import aiohttp

        why = " (wrk not found)" if requested == "auto" else ""
        return f"python asyncio + aiohttp {aiohttp.__version__} generator{why}"
    if wrk is None:
        raise SystemExit("--tool wrk given but wrk is not on PATH (apt-get install -y wrk)")
    out = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    version = (out.stdout + out.stderr).split("[")[0].strip() or "wrk"
    return f"wrk ({version}) with a Lua script"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per benchmark")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before each benchmark")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (clients)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--rounds", type=int, default=2, help="gateway/direct pairs for the GET benchmark (ABBA order; median)"
    )
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--suite",
        choices=("gateway", "management", "identity", "all"),
        default="all",
        help="gateway: token + GET by id (gateway vs direct); management: seeded tenant, list and create "
        "endpoints, query plans; identity: token grants, introspection, discovery, JWKS; "
        "all: the three on one platform (default)",
    )
    parser.add_argument("--no-write", action="store_true", help="print the results, do not append them")
    parser.add_argument("--note", default="", help="a line of text to add to the report")
    args = parser.parse_args(argv)

    def on_term(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # run the cleanup in `finally`

    signal.signal(signal.SIGTERM, on_term)

    run = Run(
        started=dt.datetime.now(dt.UTC),
        machine=machine_info(),
        commit=git_commit(),
        command=invoked_as(argv),
        tool=choose_tool(args.tool),
        load_before=loadavg(),
        settings={},
        suites=("gateway", "management", "identity") if args.suite == "all" else (args.suite,),
    )
    print(f"load tool: {run.tool}", flush=True)
    if args.note:
        run.notes.append(f"Note: {args.note}")
    try:
        benchmark(args, run)
    except KeyboardInterrupt:
        print("interrupted: services stopped, database dropped, streams deleted", file=sys.stderr)
        return 130
    run.load_after = loadavg()
    text = render(run, args.duration, args.warmup, args.connections)
    print()
    print(text)
    if not args.no_write:
        append_results(text)
        print(f"appended to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
