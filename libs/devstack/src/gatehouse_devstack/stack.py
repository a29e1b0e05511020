"""Runs the whole platform as real processes: migrate, seed, start the six services, wait for health.

`make run` uses it with the default ports; the end-to-end tests use it with free ports, their own
database and their own stream and subject names, so they never collide with a running stack.
"""

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from gatehouse_platform.db import create_engine, ensure_database
from gatehouse_schema.migrations import migrate_all

SERVICES: tuple[str, ...] = (
    "identity",
    "management",
    "organizations",
    "hooks_audit",
    "experience",
    "gateway",
)
DEFAULT_PORTS: dict[str, int] = {
    "gateway": 3001,
    "identity": 3101,
    "management": 3102,
    "organizations": 3103,
    "hooks_audit": 3104,
    "experience": 3105,
}


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


@dataclass
class StackConfig:
    database_url: str
    nats_url: str
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    public_url: str | None = None
    events_stream: str = "GATEHOUSE_EVENTS"
    subject_prefix: str = "gatehouse"
    log_dir: Path | None = None
    bootstrap_file: Path = Path(".gatehouse/bootstrap.json")
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url,
            NATS_URL=self.nats_url,
            PUBLIC_URL=self.public_url or f"http://127.0.0.1:{self.ports['gateway']}",
            EVENTS_STREAM=self.events_stream,
            SUBJECT_PREFIX=self.subject_prefix,
            BOOTSTRAP_FILE=str(self.bootstrap_file),
        )
        for name in SERVICES:
            if name != "gateway":
                env[f"{name.upper()}_URL"] = f"http://127.0.0.1:{self.ports[name]}"
        if not env.get("SECRET_VAULT_KEK"):
            env["SECRET_VAULT_KEK"] = local_vault_key(self.bootstrap_file.parent / "secret_vault_kek")
        env.update(self.extra_env)
        return env


def local_vault_key(path: Path) -> str:
    """The local stack's secret vault key (base64 of 32 random bytes), made once and kept beside the
    bootstrap credentials (mode 0600), so token sets stored by one run open in the next."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = base64.b64encode(os.urandom(32)).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


async def prepare_database(database_url: str) -> None:
    """Create the database if needed and apply every context's migrations."""
    await ensure_database(database_url)
    engine = create_engine(database_url, pool_size=1)
    try:
        await migrate_all(engine)
    finally:
        await engine.dispose()


def seed(config: StackConfig, bootstrap: bool) -> None:
    args = [_bin("gatehouse-management"), "seed"] + (["--bootstrap"] if bootstrap else [])
    subprocess.run(args, env=config.env(), check=True, stdout=subprocess.DEVNULL)


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[object] = []

    def url(self, service: str = "gateway") -> str:
        return f"http://127.0.0.1:{self.config.ports[service]}"

    def start_service(self, name: str) -> None:
        env = self.config.env()
        env["PORT"] = str(self.config.ports[name])
        out: int | object = subprocess.DEVNULL
        if self.config.log_dir is not None:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.config.log_dir / f"{name}.log", "ab")
            self._logs.append(out)
        cmd = [_bin(f"gatehouse-{name.replace('_', '-')}"), "serve"]
        self.procs[name] = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)  # type: ignore[arg-type]

    def wait_healthy(self, names: tuple[str, ...] | None = None, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for name in names or tuple(self.procs):
            while True:
                proc = self.procs[name]
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}")
                try:
                    with urllib.request.urlopen(self.url(name) + "/ready", timeout=1) as resp:
                        if resp.status == 200:
                            break
                except Exception:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} did not become ready")
                time.sleep(0.1)

    def start(self) -> None:
        for name in SERVICES:
            self.start_service(name)
        self.wait_healthy()

    def stop_service(self, name: str, timeout: float = 10.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        for name in list(self.procs):
            proc = self.procs[name]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name in list(self.procs):
            self.stop_service(name)
        for log in self._logs:
            log.close()  # type: ignore[attr-defined]
        self._logs.clear()

    def __enter__(self) -> "Stack":
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def prepare(config: StackConfig, bootstrap: bool = True) -> None:
    asyncio.run(prepare_database(config.database_url))
    seed(config, bootstrap)
