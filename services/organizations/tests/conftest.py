from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio
from gatehouse_organizations.app import create_app
from gatehouse_organizations.config import OrganizationsSettings
from gatehouse_testing.issuer import TestIssuer
from gatehouse_testing.plugin import running
from httpx import AsyncClient


@pytest_asyncio.fixture(scope="session")
async def client(make_settings: Callable[..., Any], test_issuer: TestIssuer) -> AsyncIterator[AsyncClient]:
    settings = make_settings(OrganizationsSettings, identity_url=test_issuer.url)
    async with running(create_app(settings)) as c:
        yield c


@pytest_asyncio.fixture(scope="session")
def auth(test_issuer: TestIssuer) -> dict[str, str]:
    return test_issuer.management_headers()
