"""The whole platform as real processes for the end-to-end tests.

Six granian processes on free ports, over this run's own database (the plugin's `database_url`,
already migrated; `prepare` migrates again, which changes nothing, and seeds the bootstrap app),
this run's stream and subject prefix, with logs and the bootstrap credentials in a temp dir.
The tests talk to the gateway only.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from gatehouse_devstack.stack import SERVICES, Stack, StackConfig, prepare
from gatehouse_testing.plugin import free_port


@dataclass(frozen=True)
class Bootstrap:
    client_id: str
    client_secret: str
    management_resource: str


def _free_ports(names: tuple[str, ...]) -> dict[str, int]:
    ports: dict[str, int] = {}
    while len(ports) < len(names):
        port = free_port()
        if port not in ports.values():
            ports[names[len(ports)]] = port
    return ports


def _log_tails(log_dir: Path, lines: int = 30) -> str:
    out = []
    for log in sorted(log_dir.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        out.append(f"--- {log.name}\n" + "\n".join(tail))
    return "\n".join(out)


@pytest.fixture(scope="session")
def stack(
    database_url: str,
    nats_url: str,
    events_stream: str,
    subject_prefix: str,
    _run_streams: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("stack")
    config = StackConfig(
        database_url=database_url,
        nats_url=nats_url,
        ports=_free_ports(SERVICES),
        events_stream=events_stream,
        subject_prefix=subject_prefix,
        log_dir=base / "logs",
        bootstrap_file=base / "bootstrap.json",
        extra_env={"LOG_LEVEL": "warning", "OUTBOX_POLL_INTERVAL": "0.2", "WORKERS": "1"},
    )
    prepare(config)
    running = Stack(config)
    try:
        try:
            running.start()
        except Exception as exc:
            raise RuntimeError(f"the stack did not start: {exc}\n{_log_tails(base / 'logs')}") from exc
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def gateway_url(stack: Stack) -> str:
    return stack.url("gateway")


@pytest.fixture(scope="session")
def bootstrap(stack: Stack) -> Bootstrap:
    raw = json.loads(stack.config.bootstrap_file.read_text())
    return Bootstrap(raw["client_id"], raw["client_secret"], raw["management_resource"])


@pytest.fixture(scope="session")
def http(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def management_token(http: httpx.Client, bootstrap: Bootstrap) -> str:
    resp = http.post(
        "/oidc/token",
        data={"grant_type": "client_credentials", "resource": bootstrap.management_resource, "scope": "all"},
        auth=(bootstrap.client_id, bootstrap.client_secret),
    )
    assert resp.status_code == 200, resp.text
    token: str = resp.json()["access_token"]
    return token


@pytest.fixture(scope="session")
def auth(management_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {management_token}"}
