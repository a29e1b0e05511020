"""A cache entry that is missing or expired is loaded once, however many requests ask for it at once:
at the start of a load burst (or when a busy client's entry expires under load) the requests in flight
wait for one query instead of each checking out a connection and querying (a stampede)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from gatehouse_identity.oidc import clients as clients_module
from gatehouse_identity.oidc.clients import ClientCache, SingleFlight
from gatehouse_identity.oidc.token_configs import EMPTY, TokenConfigs
from gatehouse_schema.queries.management import ClientRecord


class FakeEngine:
    def __init__(self) -> None:
        self.connections = 0

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[None]:
        self.connections += 1
        yield None


def record(client_id: str) -> ClientRecord:
    return ClientRecord(
        id=client_id,
        type="MachineToMachine",
        legacy_secret="s",
        secrets=(),
        oidc_client_metadata={},
        custom_client_metadata={},
        is_third_party=False,
        name="app",
        custom_data={},
    )


@pytest.fixture
def slow_get_client(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    async def get_client(_conn: Any, tenant_id: str, client_id: str) -> ClientRecord | None:
        calls.append(client_id)
        await asyncio.sleep(0.02)
        return None if client_id == "gone" else record(client_id)

    monkeypatch.setattr(clients_module, "get_client", get_client)
    return calls


async def test_concurrent_misses_load_a_client_once(slow_get_client: list[str]) -> None:
    engine = FakeEngine()
    cache = ClientCache(engine, ttl=60)  # type: ignore[arg-type]
    results = await asyncio.gather(*(cache.get("t", "app") for _ in range(32)), cache.get("t", "gone"))
    assert slow_get_client.count("app") == 1 and slow_get_client.count("gone") == 1 and engine.connections == 2
    assert all(r is not None and r.id == "app" for r in results[:32]) and results[32] is None
    assert (await cache.get("t", "app")) is results[0] and slow_get_client.count("app") == 1  # cached


async def test_expired_entry_is_reloaded_once(slow_get_client: list[str]) -> None:
    cache = ClientCache(FakeEngine(), ttl=0.0)  # type: ignore[arg-type]  # every entry expired at once
    await cache.get("t", "app")
    await asyncio.gather(*(cache.get("t", "app") for _ in range(16)))
    assert slow_get_client.count("app") == 2


async def test_invalidation_during_a_load_is_not_undone(slow_get_client: list[str]) -> None:
    cache = ClientCache(FakeEngine(), ttl=60)  # type: ignore[arg-type]
    first = asyncio.create_task(cache.get("t", "app"))
    await asyncio.sleep(0.005)  # the load has started
    cache.invalidate("t", "app")
    second = asyncio.create_task(cache.get("t", "app"))  # after the invalidation: a load of its own
    await asyncio.gather(first, second)
    assert slow_get_client.count("app") == 2
    await cache.get("t", "app")
    assert slow_get_client.count("app") == 2  # the second load's result was kept, not the first's


async def test_a_cancelled_caller_does_not_cancel_the_shared_load() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    started = asyncio.Event()

    async def load() -> int:
        started.set()
        await asyncio.sleep(0.02)
        return 7

    first = asyncio.create_task(flight.run("k", load))
    await started.wait()
    second = asyncio.create_task(flight.run("k", load))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == 7
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_errors_reach_every_waiter_and_the_next_call_retries() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise OSError("database unavailable")
        return 1

    results = await asyncio.gather(*(flight.run("k", load) for _ in range(4)), return_exceptions=True)
    assert calls == 1 and all(isinstance(r, OSError) for r in results)
    assert await flight.run("k", load) == 1 and calls == 2


async def test_token_configs_load_once_per_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FakeEngine()
    configs = TokenConfigs(engine, outbox=None, ttl=60)  # type: ignore[arg-type]
    calls = 0

    async def rows(_conn: Any, _tenant_id: str, key: str | None = None) -> dict[str, dict[str, Any]]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        return {}

    monkeypatch.setattr(configs, "_rows", rows)
    results = await asyncio.gather(*(configs.current("t") for _ in range(16)))
    assert calls == 1 and engine.connections == 1 and all(r is EMPTY for r in results)
