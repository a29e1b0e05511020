from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio
from gatehouse_hooks_audit.app import create_app
from gatehouse_hooks_audit.config import HooksAuditSettings
from gatehouse_testing.issuer import TestIssuer
from gatehouse_testing.plugin import running
from httpx import AsyncClient

from .receiver import Receiver, receiving


@pytest_asyncio.fixture(scope="session")
async def client(make_settings: Callable[..., Any], test_issuer: TestIssuer) -> AsyncIterator[AsyncClient]:
    async with running(create_app(make_settings(HooksAuditSettings, identity_url=test_issuer.url))) as c:
        yield c


@pytest_asyncio.fixture(scope="session")
def auth(test_issuer: TestIssuer) -> dict[str, str]:
    return test_issuer.management_headers()


@pytest_asyncio.fixture(scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as r:
        yield r
