"""The command line every service gets: `serve` (granian) and `migrate` (its context schema)."""

import argparse
import asyncio
import os
import shutil
import sys
from collections.abc import Callable, Sequence

from gatehouse_schema.migrations import apply_migrations

from gatehouse_platform.config import Settings, load_settings
from gatehouse_platform.db import create_engine, ensure_database

ExtraCommand = tuple[str, str, Callable[[argparse.Namespace, Settings], int], Callable[[argparse.ArgumentParser], None]]


def serve(app_factory: str, settings: Settings, workers: int, interface: str = "asgi") -> int:
    """Replace this process with granian serving `module:create_app` (signals go straight to it); the
    services are ASGI apps, the gateway's front is RSGI."""
    granian = shutil.which("granian") or os.path.join(os.path.dirname(sys.executable), "granian")
    args = [
        granian,
        "--interface", interface,
        "--host", settings.host,
        "--port", str(settings.port),
        "--workers", str(workers),
        "--loop", "uvloop",
        "--runtime-mode", "st",  # one runtime thread per worker anyway: the single-threaded scheduler is cheaper
        "--http", "1",
        "--backlog", "2048",
        "--log-level", "warning",
        "--no-ws",
        "--factory", app_factory,
    ]  # fmt: skip
    os.execv(granian, args)
    return 0  # not reached


async def _migrate(settings: Settings, schema: str) -> list[int]:
    await ensure_database(settings.database_url)
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        return await apply_migrations(engine, schema)
    finally:
        await engine.dispose()


def service_main(
    settings_cls: type[Settings],
    app_factory: str,
    schema: str | None,
    extra: Sequence[ExtraCommand] = (),
    argv: Sequence[str] | None = None,
    interface: str = "asgi",
) -> int:
    parser = argparse.ArgumentParser(prog=f"gatehouse-{settings_cls().service_name.replace('_', '-')}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_p = sub.add_parser("serve", help="serve the HTTP API")
    serve_p.add_argument("--workers", type=int, default=None, help="default: WORKERS, else the service's own default")
    if schema is not None:
        sub.add_parser("migrate", help=f"apply the `{schema}` schema migrations and exit")
    handlers = {}
    for name, help_text, run, configure in extra:
        configure(sub.add_parser(name, help=help_text))
        handlers[name] = run
    args = parser.parse_args(argv)
    settings = load_settings(settings_cls)
    if args.command == "serve":
        return serve(app_factory, settings, args.workers or settings.workers, interface)
    if args.command == "migrate" and schema is not None:
        applied = asyncio.run(_migrate(settings, schema))
        print(f"{schema}: applied {applied or 'nothing (up to date)'}")
        return 0
    return handlers[args.command](args, settings)
