"""`gatehouse-dev run`: the whole platform on one machine (what `make run` calls); also
`gatehouse-dev openapi` (`make openapi`) and `gatehouse-dev events-doc` (`make events-doc`).

Uses DATABASE_URL / NATS_URL when given, else starts PostgreSQL and NATS from PyPI wheels.
Ctrl-C (or SIGTERM) stops every service and server it started.
"""

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from gatehouse_devstack.embedded import EmbeddedNats, EmbeddedPostgres
from gatehouse_devstack.stack import Stack, StackConfig, prepare


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def run(args: argparse.Namespace) -> int:
    servers: list[EmbeddedPostgres | EmbeddedNats] = []
    stack: Stack | None = None
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            pg = EmbeddedPostgres()
            servers.append(pg)
            database_url = _with_database(pg.start(), "gatehouse")
            print(f"embedded PostgreSQL: {database_url}")
        nats_url = os.environ.get("NATS_URL")
        if not nats_url:
            nats = EmbeddedNats()
            servers.append(nats)
            nats_url = nats.start()
            print(f"embedded NATS: {nats_url}")
        config = StackConfig(
            database_url=database_url,
            nats_url=nats_url,
            public_url=os.environ.get("PUBLIC_URL"),
            log_dir=Path(args.log_dir),
            bootstrap_file=Path(os.environ.get("BOOTSTRAP_FILE", ".gatehouse/bootstrap.json")),
        )
        prepare(config, bootstrap=True)
        stack = Stack(config)
        stack.start()
        print(f"Gatehouse is up: {stack.url()} (logs in {args.log_dir})")
        print(f"Management API credentials: {config.bootstrap_file}")
        print(config.bootstrap_file.read_text())
        print("Ctrl-C stops everything.")
        sys.stdout.flush()
        while not stopping:
            for name, proc in stack.procs.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping", file=sys.stderr)
                    stopping = True
            time.sleep(0.2)
        return 0
    finally:
        if stack is not None:
            stack.stop()
        for server in reversed(servers):
            server.stop()
        print("stopped")


def events_doc(args: argparse.Namespace) -> int:
    from gatehouse_devstack.events_doc import check_events_doc, write_events_doc

    out = Path(args.out)
    if args.check:
        if check_events_doc(out):
            return 0
        print(f"{out} is out of date: run `make events-doc`", file=sys.stderr)
        return 1
    write_events_doc(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gatehouse-dev")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="run the whole platform")
    run_p.add_argument("--log-dir", default=".gatehouse/logs")
    openapi_p = sub.add_parser("openapi", help="write the merged OpenAPI document")
    openapi_p.add_argument("--out", default="build/openapi.json")
    events_p = sub.add_parser("events-doc", help="write the event catalogue generated from the event Structs")
    events_p.add_argument("--out", default="docs/events.md")
    events_p.add_argument("--check", action="store_true", help="only check that --out is up to date")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args)
    if args.command == "events-doc":
        return events_doc(args)
    from gatehouse_devstack.openapi_build import write_openapi

    write_openapi(Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
