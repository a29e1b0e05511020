"""`GET /api/my-account/identities/{target}/access-token`: the provider access token kept for the caller's
social identity, refreshed through its connector once expired, behind the `social` field and the `identities`
scope; with the real identity service and a real (test) provider."""

from typing import Any

import sqlalchemy as sa
from gatehouse_schema.tables.identity import secrets
from gatehouse_testing.oidc_flow import REDIRECT
from sqlalchemy.ext.asyncio import AsyncEngine

from .accountkit import SocialKit, kit, rpc
from .flowkit import error, oidc_code, provider

__all__ = ["kit", "provider", "rpc"]


async def linked(kit: SocialKit, user_id: str, *, refresh_token: bool = True) -> str:
    """A connector with token storage and the user's identity linked through it; returns the target."""
    connector_id, target = await kit.connector(token_storage=True)
    code = oidc_code(kit.provider, f"ext-{user_id}", "st", redirect_uri=REDIRECT, refresh_token=refresh_token)
    body = {"connectorId": connector_id, "connectorData": {"code": code, "state": "st", "redirectUri": REDIRECT}}
    response = await kit.identity.post(f"/api/users/{user_id}/identities", json=body, headers=kit.auth)
    assert response.status_code == 200, response.text
    return target


async def expire(db: AsyncEngine, user_id: str) -> None:
    async with db.begin() as conn:
        await conn.execute(
            sa.update(secrets)
            .where(secrets.c.user_id == user_id)
            .values(metadata=secrets.c.metadata.op("||")(sa.cast({"expiresAt": 1}, secrets.c.metadata.type)))
        )


async def test_the_kept_access_token_is_returned(kit: SocialKit) -> None:
    user, bearer = await kit.signed_in()
    await kit.social_field("ReadOnly")
    target = await linked(kit, user["id"])
    got = await kit.access_token(target, bearer)
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    assert body["access_token"] in kit.provider.access_tokens
    assert body["token_type"] == "Bearer" and body["scope"] == "openid profile email"
    assert 3500 < body["expires_in"] <= 3600


async def test_an_expired_token_is_refreshed_through_the_connector(kit: SocialKit) -> None:
    user, bearer = await kit.signed_in()
    await kit.social_field("Edit")
    target = await linked(kit, user["id"])
    first = (await kit.access_token(target, bearer)).json()["access_token"]
    await expire(kit.db, user["id"])
    refreshed = await kit.access_token(target, bearer)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["access_token"] not in (first, None) and refreshed.json()["expires_in"] > 3000
    assert (await kit.access_token(target, bearer)).json()["access_token"] == refreshed.json()["access_token"]


async def test_an_expired_token_without_a_refresh_token_is_401_and_forgotten(kit: SocialKit) -> None:
    user, bearer = await kit.signed_in()
    await kit.social_field("Edit")
    target = await linked(kit, user["id"], refresh_token=False)
    await expire(kit.db, user["id"])
    error(await kit.access_token(target, bearer), 401, "secrets.third_party_token_set.access_token_expired")
    error(await kit.access_token(target, bearer), 404, "secrets.third_party_token_set.token_not_found")


async def test_no_kept_token_is_404_and_the_scope_and_field_are_required(kit: SocialKit) -> None:
    _, bearer = await kit.signed_in()
    _, narrow = await kit.signed_in(identities=False)
    await kit.social_field("ReadOnly")
    error(await kit.access_token("nowhere", bearer), 404, "secrets.third_party_token_set.token_not_found")
    error(await kit.access_token("nowhere", narrow), 401, "auth.unauthorized")
    await kit.social_field("Off")
    error(await kit.access_token("nowhere", bearer), 400, "account_center.field_not_enabled")
