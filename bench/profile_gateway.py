"""Where does the gateway's time go? Samples the gateway's granian worker with py-spy while wrk (or
the Python generator) drives `GET /api/applications/{id}` through it, then sums the samples by
package (innermost frame) and by notable function (anywhere on the stack).

    uv run python bench/profile_gateway.py [--duration 15] [--native]

py-spy is not a project dependency: it runs through `uvx py-spy` (uv's tool cache). The summary is
printed and appended to bench/PROFILE.md; the raw collapsed stacks are kept next to it when
--keep-raw is given (load them into speedscope or flamegraph.pl).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # bench/run.py, next to this file

PROFILE = bench.BENCH_DIR / "PROFILE.md"

#: (label, regex on "function (file:line)") in order; the first match names a frame's package.
CATEGORIES: list[tuple[str, str]] = [
    ("gateway proxy (gatehouse_gateway/proxy.py)", r"gatehouse_gateway/proxy\.py"),
    ("gateway routing (gatehouse_gateway/app.py, routes.py)", r"gatehouse_gateway/"),
    ("observability middleware (gatehouse_platform/observability.py)", r"gatehouse_platform/observability\.py"),
    ("trace propagation (gatehouse_platform/tracing.py)", r"gatehouse_platform/tracing\.py"),
    ("OpenTelemetry SDK/API", r"opentelemetry/"),
    ("structlog / logging", r"structlog/|/logging/"),
    ("aiohttp client (connector, request, response)", r"aiohttp/"),
    ("yarl / multidict (URL, headers)", r"yarl/|multidict/"),
    ("litestar", r"litestar/"),
    ("asyncio (streams, tasks, events)", r"asyncio/"),
    ("uvloop", r"uvloop"),
    ("granian", r"granian"),
    ("uuid", r"/uuid\.py"),
    ("contextvars / contextlib", r"contextlib\.py|contextvars"),
]

#: Native leaf frames (with --native), by symbol.
NATIVE: list[tuple[str, str]] = [
    ("idle: waiting in epoll", r"^(epoll_wait|epoll_pwait|uv__io_poll) "),
    ("socket write syscalls (request to upstream, response to client)", r"^(write|writev|send|sendmsg|sendto) \("),
    ("socket read syscalls", r"^(read|readv|recv|recvmsg|recvfrom) \("),
    ("CPython cyclic GC", r"^(gc_collect|collect|gc_collect_main|visit_|subtract_refs|move_unreachable)"),
    ("getrandom (uuid4 request ids)", r"^getrandom "),
    ("thread wake-ups (futex, cond signal)", r"^(pthread_cond|futex|syscall |__lll)"),
    ("CPython interpreter / object code", r"libpython|object\.h|abstract\.h|ceval|_asynciomodule"),
    ("uvloop / libuv (C)", r"loop\.c|uv__|uvloop"),
    ("granian (Rust)", r"_granian"),
    ("other libc", r"libc\.so"),
]

#: Functions whose inclusive share (anywhere on the stack) is reported.
FUNCTIONS: list[tuple[str, str]] = [
    ("Gateway.__rsgi__ (whole request in Python)", r"__rsgi__ \(.*gatehouse_gateway/app\.py"),
    ("Proxy.__call__", r"__call__ \(.*gatehouse_gateway/proxy\.py"),
    ("own routes through the ASGI bridge", r"call_asgi \(.*gatehouse_gateway/asgi_bridge\.py"),
    ("aiohttp ClientSession._request (send + wait for headers)", r"_request \(.*aiohttp/client\.py"),
    ("aiohttp connector connect/acquire", r"connect \(.*aiohttp/connector\.py|_get \(.*aiohttp/connector"),
    ("aiohttp ClientRequest.send / write headers", r"send \(.*aiohttp/client_reqrep\.py|write_headers"),
    ("aiohttp response start / read (headers + body)", r"start \(.*aiohttp/client_reqrep\.py|read \(.*aiohttp"),
    ("aiohttp response.release / close", r"(release|close) \(.*aiohttp/client_reqrep\.py"),
    ("iter_chunked / StreamReader", r"aiohttp/streams\.py"),
    ("tracer.start_as_current_span (both spans)", r"start_as_current_span|start_span \("),
    ("span end / set_attribute", r"\bend \(.*opentelemetry|set_attribute \("),
    ("propagate.inject / extract", r"inject \(.*opentelemetry|extract \(.*opentelemetry"),
    ("structlog bound_contextvars", r"bound_contextvars"),
    ("response to granian (response_bytes / stream)", r"response_bytes|response_stream|send_bytes"),
    ("uuid4().hex", r"uuid4"),
    ("CPython cyclic GC (any caller)", r"gc_collect"),
    ("RouteTable.resolve", r"resolve \(.*gatehouse_gateway/routes\.py"),
]


def worker_pids(gateway_pid: int) -> list[int]:
    """granian's worker processes (children of the gateway's main process), else the main one."""
    kids = bench.children_of(gateway_pid)
    return kids or [gateway_pid]


def thread_cpu(pid: int) -> dict[str, tuple[float, float]]:
    """(user, system) CPU seconds so far of each thread of `pid`, by "name (tid)"."""
    out: dict[str, tuple[float, float]] = {}
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                comm = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
                fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
                out[f"{comm} ({tid})"] = (int(fields[11]) / bench.CLK_TCK, int(fields[12]) / bench.CLK_TCK)
    return out


def py_spy(pid: int, seconds: int, rate: int, out: Path, native: bool) -> subprocess.Popen[bytes]:
    uvx = shutil.which("uvx")
    cmd = [uvx, "py-spy"] if uvx else [sys.executable, "-m", "uv", "tool", "run", "py-spy"]
    cmd += [
        "record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(rate),
        "--format", "raw", "--output", str(out), "--threads", "--full-filenames",
    ]  # fmt: skip
    # --native needs py-spy to stop the process for each sample; without it, sample without stopping
    cmd.append("--native" if native else "--nonblocking")
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def parse_raw(path: Path) -> list[tuple[str, list[str], int]]:
    """(thread, frames outermost first, samples) from py-spy's raw (collapsed) output."""
    stacks = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        joined, _, count = line.rpartition(" ")
        frames = joined.split(";")
        thread = frames.pop(0) if frames and frames[0].startswith("thread (") else "?"
        stacks.append((thread, frames, int(count)))
    return stacks


def category_of(frames: list[str]) -> str:
    if not frames:
        return "no Python frame (native thread)"
    leaf = frames[-1]
    if re.search(r"_spawn_asgi_lifespan_worker|\(granian/server/", leaf):
        # the worker's outermost Python frame: the sample is in the C/Rust code it runs (uvloop's loop,
        # socket I/O, granian's callbacks), which only --native resolves
        return "native code under the event loop (uvloop I/O, granian glue; --native resolves it)"
    # Python frames whose self time is really the native call they make (without --native)
    if re.search(r"send_with_id \(", leaf):
        return "granian send() of the response to the client (native, under the middleware's send wrapper)"
    if re.search(r"StreamWriter\._write \(", leaf):
        return "transport.write() of the request to the upstream (native, under aiohttp's StreamWriter)"
    for label, pattern in CATEGORIES:
        if re.search(pattern, leaf):
            return label
    m = re.search(r"\((?:.*/)?([^/]+/[^/]+)\.py:\d+\)", leaf)
    if m:
        return f"other Python: {m.group(1)}.py"
    for label, pattern in NATIVE:
        if re.search(pattern, leaf):
            return label
    m = re.search(r"\(([^)]+)\)$", leaf)
    return f"native: {m.group(1) if m else leaf[:50]}"


def short(frame: str) -> str:
    """`fn (/long/path/site-packages/pkg/mod.py:12)` -> `fn (pkg/mod.py)`."""
    return re.sub(r"\((?:[^()]*/)?([^/()]+/[^/()]+?)(?::\d+)?\)$", r"(\1)", frame)


def summarize(stacks: list[tuple[str, list[str], int]], seconds: float, rate: int, requests: int) -> list[str]:
    main = [(frames, n) for thread, frames, n in stacks if "MainThread" in thread]
    if not main:  # py-spy without thread names: take everything
        main = [(frames, n) for _, frames, n in stacks]
    total = sum(n for _, n in main)
    by_cat: collections.Counter[str] = collections.Counter()
    by_leaf: collections.Counter[str] = collections.Counter()
    by_fn: collections.Counter[str] = collections.Counter()
    for frames, n in main:
        by_cat[category_of(frames)] += n
        by_leaf[short(frames[-1]) if frames else "(none)"] += n
        joined = ";".join(frames)
        for label, pattern in FUNCTIONS:
            if re.search(pattern, joined):
                by_fn[label] += n
    other_threads = collections.Counter({t: 0 for t, _, _ in stacks})
    for thread, _, n in stacks:
        other_threads[thread] += n
    idle = by_cat.get("idle: waiting in epoll", 0)

    def pct(n: int) -> str:
        return f"{n / total * 100:.1f}%" if total else "-"

    out = [
        f"py-spy: {total} samples of the worker's main (Python) thread at {rate} Hz over {seconds:g} s "
        f"({idle} of them idle in epoll; without --native py-spy leaves idle samples out); "
        f"~{requests} requests in that window. Samples per thread: "
        + ", ".join(f"{t} {n}" for t, n in other_threads.most_common()),
        "",
        "Main thread, self time by package (innermost frame):",
        "",
        "| Package | share |",
        "| --- | ---: |",
    ]
    out += [f"| {label} | {pct(n)} |" for label, n in by_cat.most_common(20)]
    out += ["", "Main thread, inclusive time of notable functions (anywhere on the stack):", ""]
    out += ["| Function | share |", "| --- | ---: |"]
    out += [f"| {label} | {pct(by_fn[label])} |" for label, _ in FUNCTIONS if by_fn[label]]
    out += ["", "Main thread, top 25 innermost frames:", "", "| Frame | share |", "| --- | ---: |"]
    out += [f"| `{frame}` | {pct(n)} |" for frame, n in by_leaf.most_common(25)]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds sampled (the load runs 2 s longer)")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--native", action="store_true", help="also sample native (C/Rust) frames (stops the process)")
    parser.add_argument("--keep-raw", action="store_true", help="keep the collapsed stacks in bench/")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()

    tool = bench.choose_tool(args.tool)
    started = dt.datetime.now(dt.UTC)
    settings: dict[str, str] = {}
    load_before = bench.loadavg()

    def drive(p: bench.Platform, target: bench.Target, seconds: float, sample: bench.CpuSampler) -> bench.LoadResult:
        if tool.startswith("wrk"):
            return bench.run_wrk(target, args.connections, 2, seconds, 0, p.workdir, sample)
        return bench.run_python(target, args.connections, seconds, 0, sample)

    with bench.running_platform(settings) as p:
        gw, _direct = bench.application_targets(p, bench.fetch_token(bench.token_target(p)))
        sample = p.sampler()
        gateway_pid = p.stack.procs["gateway"].pid
        worker = worker_pids(gateway_pid)[0]
        drive(p, gw, 2, sample)  # warm the gateway's upstream pool and code paths
        raw = p.workdir / f"gateway-{worker}.txt"
        result: list[bench.LoadResult] = []
        threads_before = {pid: thread_cpu(pid) for pid in (gateway_pid, worker)}
        loader = threading.Thread(target=lambda: result.append(drive(p, gw, args.duration + 2, sample)))
        loader.start()
        time.sleep(1.0)  # sample only while the load runs
        spy = py_spy(worker, args.duration, args.rate, raw, args.native)
        spy_out = spy.communicate(timeout=args.duration + 120)[0].decode(errors="replace")
        loader.join()
        threads_after = {pid: thread_cpu(pid) for pid in (gateway_pid, worker)}
        if not raw.exists():
            raise SystemExit(f"py-spy wrote nothing:\n{spy_out}")
        stacks = parse_raw(raw)
        if args.keep_raw:
            shutil.copy(raw, bench.BENCH_DIR / "gateway-profile.collapsed.txt")
    r = result[0]
    n = max(r.requests, 1)
    thread_rows = []
    for pid, role in ((worker, "worker"), (gateway_pid, "main process")):
        for name, (user, system) in threads_after[pid].items():
            user_before, system_before = threads_before[pid].get(name, (0.0, 0.0))
            du, ds = user - user_before, system - system_before
            if du + ds >= 0.01:
                thread_rows.append(
                    f"| {role} | {name} | {du + ds:.2f} | {du:.2f} | {ds:.2f} | {(du + ds) / n * 1000:.3f} |"
                )
    machine = bench.machine_info()
    header = [
        f"## Gateway profile {started.strftime('%Y-%m-%d %H:%M:%S')} UTC",
        "",
        f"- Machine: {machine['nproc']} CPUs, {machine['cpu']}; "
        f"load average {load_before} before, {bench.loadavg()} after (shared machine)",
        f"- Git commit: `{bench.git_commit()}`",
        f"- Command: `{' '.join(['uv run python bench/profile_gateway.py', *sys.argv[1:]])}`",
        f"- Load: {tool}, {args.connections} connections, `GET /api/applications/{{id}}` via the gateway for "
        f"{args.duration + 2} s: {r.rps:.1f} req/s, p50 {r.p50_ms:.2f} ms, p99 {r.p99_ms:.2f} ms "
        f"(while sampled: py-spy {'stops the process per sample' if args.native else 'does not stop it'})",
        f"- CPU per request in that window: gateway {r.cpu_s.get('gateway', 0) / n * 1000:.3f} ms, "
        f"management {r.cpu_s.get('management', 0) / n * 1000:.3f} ms, "
        f"postgres {r.cpu_s.get('postgres', 0) / n * 1000:.3f} ms; "
        f"new PostgreSQL connections: {r.pg_counters.get('sessions', '?')} for {r.requests} requests",
        "",
        "Gateway CPU by thread (from /proc/<pid>/task, exact; `sys` = in the kernel, e.g. loopback TCP):",
        "",
        "| process | thread | CPU s | user s | sys s | ms/req |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        *thread_rows,
        "",
    ]
    text = "\n".join(header + summarize(stacks, args.duration, args.rate, round(r.rps * args.duration))) + "\n"
    print()
    print(text)
    if not PROFILE.exists():
        PROFILE.write_text("# Gateway profiles\n\nAppended by `bench/profile_gateway.py`, newest last.\n")
    with PROFILE.open("a") as f:
        f.write("\n" + text)
    print(f"appended to {PROFILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
