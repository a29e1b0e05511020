"""What the Account API tests share: the account center row, a signed-in user with an access token, the
`rpc` fixture the sign-in needs, the password verification helper (the error check is `flowkit.error`); and for
the social identity tests, the `kit` fixture of what they talk to."""

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import nats
import pytest
import pytest_asyncio
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.tables.management import account_centers
from gatehouse_testing.fake_provider import FakeProvider
from gatehouse_testing.oidc_flow import make_flow_app, sign_in_and_exchange
from httpx import AsyncClient, Response
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from .flowkit import make_connector

PASSWORD = "Account-pa55word!"
ALL_EDIT = {f: "Edit" for f in ("name", "avatar", "username", "email", "phone", "profile", "customData", "password")}
IDENTITIES_SCOPES = "openid profile identities"


@pytest_asyncio.fixture(scope="module")
async def rpc(nats_url: str, subject_prefix: str) -> AsyncIterator[RpcClient]:
    nc = await nats.connect(nats_url)
    yield RpcClient(nc, subject_prefix, 5.0)
    await nc.close()


async def account_center(db: AsyncEngine, enabled: bool = True, fields: dict[str, str] | None = None) -> None:
    """Management's account center row, as its `PATCH /api/account-center` writes it."""
    values = {"enabled": enabled, "fields": ALL_EDIT if fields is None else fields}
    async with db.begin() as conn:
        await conn.execute(
            insert(account_centers)
            .values(tenant_id="default", id="default", webauthn_related_origins=[], **values)
            .on_conflict_do_update(index_elements=[account_centers.c.tenant_id], set_=values)
        )


async def signed_in(
    identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str], scope: str = "openid profile"
) -> tuple[dict[str, Any], dict[str, str]]:
    """A new user and the Authorization header of the access token its sign-in to a new app gave."""
    name = f"acc{secrets.token_hex(5)}"
    body = {"username": name, "primaryEmail": f"{name}@example.com", "password": PASSWORD, "name": "Ada"}
    created = await identity.post("/api/users", json=body, headers=auth)
    assert created.status_code == 200, created.text
    user = dict(created.json())
    return user, await bearer_of(identity, rpc, db, user["id"], scope)


async def bearer_of(
    identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, user_id: str, scope: str = "openid profile"
) -> dict[str, str]:
    """The Authorization header of the access token the user's sign-in to a new app gave."""
    app = await make_flow_app(db)
    async with AsyncClient(transport=identity._transport, base_url="http://127.0.0.1") as browser:
        tokens = await sign_in_and_exchange(identity, browser, rpc, app, user_id, scope=scope)
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def verify_password(client: AsyncClient, bearer: dict[str, str], password: str = PASSWORD) -> Response:
    return await client.post("/api/verifications/password", json={"password": password}, headers=bearer)


@dataclass(frozen=True)
class SocialKit:
    """What a test of the Account API's social identities talks to: experience (`client`), identity and the RPC
    its sign-in needs, the database, the Management API's `auth` and the test provider."""

    client: AsyncClient
    identity: AsyncClient
    rpc: RpcClient
    db: AsyncEngine
    auth: dict[str, str]
    provider: FakeProvider

    async def signed_in(self, *, identities: bool = True) -> tuple[dict[str, Any], dict[str, str]]:
        """A new user and its bearer, of the `identities` scope unless turned off."""
        scope = IDENTITIES_SCOPES if identities else "openid profile"
        return await signed_in(self.identity, self.rpc, self.db, self.auth, scope=scope)

    async def social_field(self, access: str) -> None:
        """The account center, every field editable but `social`, which is `access` (Edit, ReadOnly, Off)."""
        await account_center(self.db, fields={**ALL_EDIT, "social": access})

    async def connector(self, *, token_storage: bool = False) -> tuple[str, str]:
        """A new OIDC connector of the provider: its id and target."""
        return await make_connector(self.db, self.provider, token_storage=token_storage)

    async def access_token(self, target: str, bearer: dict[str, str]) -> Response:
        """`GET /api/my-account/identities/{target}/access-token`."""
        return await self.client.get(f"/api/my-account/identities/{target}/access-token", headers=bearer)


@pytest.fixture(scope="module")
def kit(
    client: AsyncClient,
    identity: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    provider: FakeProvider,
) -> SocialKit:
    """The `SocialKit` (import it into a test module with `rpc` and `flowkit.provider`)."""
    return SocialKit(client, identity, rpc, db, auth, provider)
