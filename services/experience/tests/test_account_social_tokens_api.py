"""`GET /api/my-account/identities/{target}/access-token`: the provider access token kept for the caller's
social identity, refreshed through its connector once expired, behind the `social` field and the `identities`
scope; with the real identity service and a real (test) provider."""

from typing import Any

import sqlalchemy as sa
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.tables.identity import secrets
from gatehouse_testing.fake_provider import FakeProvider
from gatehouse_testing.oidc_flow import REDIRECT
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from .accountkit import ALL_EDIT, account_center, rpc, signed_in
from .flowkit import error, make_connector, oidc_code, provider

__all__ = ["provider", "rpc"]

SCOPES = "openid profile identities"


async def linked(
    identity: AsyncClient,
    db: AsyncEngine,
    auth: dict[str, str],
    provider: FakeProvider,
    user_id: str,
    *,
    refresh_token: bool = True,
) -> str:
    """A connector with token storage and the user's identity linked through it; returns the target."""
    connector_id, target = await make_connector(db, provider, token_storage=True)
    code = oidc_code(provider, f"ext-{user_id}", "st", redirect_uri=REDIRECT, refresh_token=refresh_token)
    body = {"connectorId": connector_id, "connectorData": {"code": code, "state": "st", "redirectUri": REDIRECT}}
    response = await identity.post(f"/api/users/{user_id}/identities", json=body, headers=auth)
    assert response.status_code == 200, response.text
    return target


async def expire(db: AsyncEngine, user_id: str) -> None:
    async with db.begin() as conn:
        await conn.execute(
            sa.update(secrets)
            .where(secrets.c.user_id == user_id)
            .values(metadata=secrets.c.metadata.op("||")(sa.cast({"expiresAt": 1}, secrets.c.metadata.type)))
        )


async def test_the_kept_access_token_is_returned(
    client: AsyncClient,
    identity: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    provider: FakeProvider,
) -> None:
    user, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    await account_center(db, fields={**ALL_EDIT, "social": "ReadOnly"})
    target = await linked(identity, db, auth, provider, user["id"])
    got = await client.get(f"/api/my-account/identities/{target}/access-token", headers=bearer)
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    assert body["access_token"] in provider.access_tokens
    assert body["token_type"] == "Bearer" and body["scope"] == "openid profile email"
    assert 3500 < body["expires_in"] <= 3600


async def test_an_expired_token_is_refreshed_through_the_connector(
    client: AsyncClient,
    identity: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    provider: FakeProvider,
) -> None:
    user, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    await account_center(db, fields={**ALL_EDIT, "social": "Edit"})
    target = await linked(identity, db, auth, provider, user["id"])
    url = f"/api/my-account/identities/{target}/access-token"
    first = (await client.get(url, headers=bearer)).json()["access_token"]
    await expire(db, user["id"])
    refreshed = await client.get(url, headers=bearer)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["access_token"] not in (first, None) and refreshed.json()["expires_in"] > 3000
    assert (await client.get(url, headers=bearer)).json()["access_token"] == refreshed.json()["access_token"]


async def test_an_expired_token_without_a_refresh_token_is_401_and_forgotten(
    client: AsyncClient,
    identity: AsyncClient,
    rpc: RpcClient,
    db: AsyncEngine,
    auth: dict[str, str],
    provider: FakeProvider,
) -> None:
    user, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    await account_center(db, fields={**ALL_EDIT, "social": "Edit"})
    target = await linked(identity, db, auth, provider, user["id"], refresh_token=False)
    await expire(db, user["id"])
    url = f"/api/my-account/identities/{target}/access-token"
    error(await client.get(url, headers=bearer), 401, "secrets.third_party_token_set.access_token_expired")
    error(await client.get(url, headers=bearer), 404, "secrets.third_party_token_set.token_not_found")


async def test_no_kept_token_is_404_and_the_scope_and_field_are_required(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    _, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    _, narrow = await signed_in(identity, rpc, db, auth)
    await account_center(db, fields={**ALL_EDIT, "social": "ReadOnly"})
    url = "/api/my-account/identities/nowhere/access-token"
    error(await client.get(url, headers=bearer), 404, "secrets.third_party_token_set.token_not_found")
    error(await client.get(url, headers=narrow), 401, "auth.unauthorized")
    await account_center(db, fields={**ALL_EDIT, "social": "Off"})
    error(await client.get(url, headers=bearer), 400, "account_center.field_not_enabled")
