from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import pytest_asyncio
import sqlalchemy as sa
from gatehouse_management.app import create_app
from gatehouse_management.config import ManagementSettings
from gatehouse_platform.db import create_engine
from gatehouse_schema.ids import generate_id
from gatehouse_schema.tables.identity import users
from gatehouse_testing.issuer import TestIssuer
from gatehouse_testing.plugin import running
from httpx import AsyncClient


@pytest_asyncio.fixture(scope="session")
async def client(make_settings: Callable[..., Any], test_issuer: TestIssuer) -> AsyncIterator[AsyncClient]:
    settings = make_settings(ManagementSettings, identity_url=test_issuer.url)
    async with running(create_app(settings)) as c:
        yield c


@pytest_asyncio.fixture(scope="session")
def auth(test_issuer: TestIssuer) -> dict[str, str]:
    return test_issuer.management_headers()


@pytest_asyncio.fixture(scope="session")
async def make_user(database_url: str) -> AsyncIterator[Callable[..., Any]]:
    """Writes identity-owned user rows (as identity would) for the role-assignment routes to read."""
    engine = create_engine(database_url, pool_size=1)

    async def make(name: str = "user", created_at: datetime | None = None, user_id: str | None = None) -> str:
        user_id = user_id or generate_id()
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(users).values(
                    tenant_id="default",
                    id=user_id,
                    username=f"{name}_{user_id}",
                    name=name,
                    profile={},
                    identities={},
                    custom_data={},
                    logto_config={},
                    mfa_verifications=[],
                    is_suspended=False,
                    created_at=created_at or sa.func.now(),
                    updated_at=sa.func.now(),
                )
            )
        return user_id

    yield make
    await engine.dispose()
