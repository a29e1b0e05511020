from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import nats
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_identity.app import create_app
from gatehouse_identity.config import IdentitySettings
from gatehouse_platform.db import create_engine
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.ids import generate_id, generate_secret
from gatehouse_schema.tables import management as m
from gatehouse_testing.issuer import TestIssuer
from gatehouse_testing.plugin import running
from gatehouse_testing.vault import VAULT_KEK
from httpx import AsyncClient
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

RESOURCE = "https://api.example.com"


@dataclass(frozen=True)
class Client:
    id: str
    secret: str


@pytest_asyncio.fixture(scope="session")
async def client(make_settings: Callable[..., Any], test_issuer: TestIssuer) -> AsyncIterator[AsyncClient]:
    """Identity, trusting the test issuer's Management API tokens; cheap argon2 parameters for speed."""
    settings = make_settings(
        IdentitySettings,
        identity_url=test_issuer.url,
        password_hash_memory_kib=256,
        password_hash_time_cost=1,
        secret_vault_kek=VAULT_KEK,
    )
    async with running(create_app(settings)) as c:
        yield c


@pytest_asyncio.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A small engine of the tests' own, for arranging and inspecting rows."""
    engine = create_engine(database_url, pool_size=3)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(scope="session")
async def rpc(nats_url: str, subject_prefix: str) -> AsyncIterator[RpcClient]:
    """An RPC client as experience has one, to report interaction results."""
    nc = await nats.connect(nats_url)
    yield RpcClient(nc, subject_prefix, 5.0)
    await nc.close()


@pytest_asyncio.fixture
async def browser(client: AsyncClient) -> AsyncIterator[AsyncClient]:
    """The same app, with a cookie jar of its own (one browser per test)."""
    async with AsyncClient(transport=client._transport, base_url="http://127.0.0.1") as b:
        yield b


@pytest_asyncio.fixture(scope="session")
def auth(test_issuer: TestIssuer) -> dict[str, str]:
    return test_issuer.management_headers()


@pytest_asyncio.fixture(scope="session")
async def seed(database_url: str) -> AsyncIterator[Callable[..., Any]]:
    """Writes management-owned rows the token endpoint reads (as management would have)."""
    engine = create_engine(database_url, pool_size=2)

    async def make_client(app_type: str = "MachineToMachine", scopes: tuple[str, ...] = ("read", "write")) -> Client:
        app_id, secret = generate_id(), generate_secret()
        async with engine.begin() as conn:
            await conn.execute(
                insert(m.resources)
                .values(
                    tenant_id="default",
                    id="api-example",
                    name="Example",
                    indicator=RESOURCE,
                    is_default=False,
                    access_token_ttl=600,
                )
                .on_conflict_do_nothing()
            )
            await conn.execute(
                sa.insert(m.applications).values(
                    tenant_id="default",
                    id=app_id,
                    name="app",
                    secret=secret,
                    type=app_type,
                    oidc_client_metadata={"redirectUris": [], "postLogoutRedirectUris": []},
                    custom_client_metadata={},
                    custom_data={},
                    is_third_party=False,
                    app_level_access_control_enabled=False,
                )
            )
            role_id = generate_id()
            await conn.execute(
                sa.insert(m.roles).values(
                    tenant_id="default",
                    id=role_id,
                    name=f"role-{role_id}",
                    description="r",
                    type="MachineToMachine",
                    is_default=False,
                )
            )
            for name in scopes:
                await conn.execute(
                    insert(m.scopes)
                    .values(tenant_id="default", id=f"scope-{name}", resource_id="api-example", name=name)
                    .on_conflict_do_nothing()
                )
                await conn.execute(
                    sa.insert(m.roles_scopes).values(tenant_id="default", role_id=role_id, scope_id=f"scope-{name}")
                )
            await conn.execute(
                sa.insert(m.applications_roles).values(tenant_id="default", application_id=app_id, role_id=role_id)
            )
        return Client(app_id, secret)

    yield make_client
    await engine.dispose()
