"""Experience with the real identity service beside it (in process, over this run's NATS and database):
the sign-in flow's every step is an RPC to identity."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio
from gatehouse_experience.app import create_app
from gatehouse_experience.config import ExperienceSettings
from gatehouse_identity.app import create_app as create_identity_app
from gatehouse_identity.config import IdentitySettings
from gatehouse_platform.db import create_engine
from gatehouse_testing.issuer import TestIssuer
from gatehouse_testing.plugin import running
from gatehouse_testing.vault import VAULT_KEK
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine


@pytest_asyncio.fixture(scope="session")
async def identity(make_settings: Callable[..., Any], test_issuer: TestIssuer) -> AsyncIterator[AsyncClient]:
    settings = make_settings(
        IdentitySettings,
        identity_url=test_issuer.url,
        password_hash_memory_kib=256,
        password_hash_time_cost=1,
        secret_vault_kek=VAULT_KEK,
    )
    async with running(create_identity_app(settings)) as c:
        yield c


@pytest_asyncio.fixture(scope="session")
async def client(
    make_settings: Callable[..., Any], test_issuer: TestIssuer, identity: AsyncClient
) -> AsyncIterator[AsyncClient]:
    async with running(create_app(make_settings(ExperienceSettings, identity_url=test_issuer.url))) as c:
        yield c


@pytest_asyncio.fixture(scope="session")
def auth(test_issuer: TestIssuer) -> dict[str, str]:
    return test_issuer.management_headers()


@pytest_asyncio.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()
