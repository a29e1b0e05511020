"""The commands of the Experience API's enterprise SSO sign-in and registration, as experience asks for them over
NATS: `user.identify_sso`, `user.sso_sign_in` and `user.create` with an SSO identity, against the identities kept in
`identity.user_sso_identities` and the events identity's outbox gets."""

import asyncio
import secrets
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from gatehouse_platform.errors import GatehouseError
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.ids import generate_id
from gatehouse_schema.rpc.identity import (
    USER_CREATE,
    USER_IDENTIFY_SSO,
    USER_SSO_SIGN_IN,
    AccountDone,
    CreatedUser,
    CreateUser,
    IdentifySso,
    SsoIdentity,
    SsoSignIn,
    SsoUser,
)
from gatehouse_schema.tables.identity import outbox, user_sso_identities
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

Auth = dict[str, str]
USER_ACTOR = "user"


# Arrangements


async def new_user(client: AsyncClient, auth: Auth, **fields: str) -> dict[str, Any]:
    """A user created through the Management API."""
    body = {"username": f"sso{secrets.token_hex(5)}", **fields}
    created = await client.post("/api/users", json=body, headers=auth)
    assert created.status_code == 200, created.text
    return dict(created.json())


async def get_user(client: AsyncClient, auth: Auth, user_id: str) -> dict[str, Any]:
    found = await client.get(f"/api/users/{user_id}", headers=auth)
    assert found.status_code == 200, found.text
    return dict(found.json())


async def suspend(client: AsyncClient, auth: Auth, user_id: str) -> None:
    done = await client.patch(f"/api/users/{user_id}/is-suspended", json={"isSuspended": True}, headers=auth)
    assert done.status_code == 200, done.text


def an_identity(**fields: Any) -> SsoIdentity:
    """A verified identity of an IdP of its own (a fresh issuer and identity id unless given)."""
    identity_id = fields.pop("identity_id", f"idp-user-{secrets.token_hex(4)}")
    values: dict[str, Any] = {
        "sso_connector_id": f"sso-{secrets.token_hex(4)}",
        "issuer": f"https://idp-{secrets.token_hex(4)}.example.com",
        "identity_id": identity_id,
        "detail": {"id": identity_id, "email": f"{identity_id}@corp.example.com"},
        **fields,
    }
    return SsoIdentity(**values)


async def link(db: AsyncEngine, user_id: str, identity: SsoIdentity) -> None:
    """The user's identity, as an earlier sign-in would have kept it."""
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(user_sso_identities).values(
                tenant_id="default",
                id=generate_id(),
                user_id=user_id,
                issuer=identity.issuer,
                identity_id=identity.identity_id,
                detail=identity.detail,
                sso_connector_id=identity.sso_connector_id,
            )
        )


async def kept(db: AsyncEngine, identity: SsoIdentity) -> list[Any]:
    """The rows kept for the identity's issuer."""
    t = user_sso_identities
    async with db.connect() as conn:
        query = sa.select(t).where(t.c.tenant_id == "default", t.c.issuer == identity.issuer).order_by(t.c.id)
        return list(await conn.execute(query))


async def events(db: AsyncEngine, user_id: str) -> list[dict[str, Any]]:
    """The identity `User.*` events about the user, oldest first: `type`, `data` and `actor` of each envelope."""
    async with db.connect() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.payload).where(outbox.c.subject.like("%.identity.User.%")).order_by(outbox.c.id)
        )
        envelopes = [msgspec.json.decode(payload) for payload in rows.scalars()]
    return [
        {"type": e["type"], "data": e["data"], "actor": e.get("actor")}
        for e in envelopes
        if e.get("subject") == user_id
    ]


# Steps


async def identify(rpc: RpcClient, issuer: str, identity_id: str, email: str | None = None) -> SsoUser:
    request = IdentifySso(issuer=issuer, identity_id=identity_id, email=email)
    return await rpc.call("identity", USER_IDENTIFY_SSO, request, SsoUser)


async def sso_sign_in(rpc: RpcClient, user_id: str, identity: SsoIdentity, **fields: Any) -> AccountDone:
    request = SsoSignIn(user_id=user_id, identity=identity, **fields)
    return await rpc.call("identity", USER_SSO_SIGN_IN, request, AccountDone)


async def register(rpc: RpcClient, **fields: Any) -> CreatedUser:
    return await rpc.call("identity", USER_CREATE, CreateUser(**fields), CreatedUser, timeout=10.0)


async def refused(call: Any, status: int, code: str) -> GatehouseError:
    with pytest.raises(GatehouseError) as raised:
        await call
    assert (raised.value.status, raised.value.code) == (status, code)
    return raised.value


# user.identify_sso


async def test_identify_finds_the_user_of_the_identity_before_anyone_with_the_idps_email(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    owner = await new_user(client, auth)
    other = await new_user(client, auth, primaryEmail=f"o{secrets.token_hex(4)}@corp.example.com")
    identity = an_identity()
    await link(db, owner["id"], identity)

    found = await identify(rpc, identity.issuer, identity.identity_id, email=other["primaryEmail"])
    assert (found.user_id, found.mfa_factors, found.by_email) == (owner["id"], [], False)
    found = await identify(rpc, identity.issuer, identity.identity_id)
    assert (found.user_id, found.by_email) == (owner["id"], False)

    # an identity is (issuer, identity id): the same id at another IdP is not the owner's
    elsewhere = identify(rpc, "https://other-idp.example.com", identity.identity_id)
    await refused(elsewhere, 404, "user.identity_not_exist")


async def test_identify_falls_back_to_the_user_of_the_idps_email_case_insensitively(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    email = f"Grace.{secrets.token_hex(4)}@Corp.Example.com"
    user = await new_user(client, auth, primaryEmail=email)
    bound = await client.post(f"/api/users/{user['id']}/mfa-verifications", json={"type": "Totp"}, headers=auth)
    assert bound.status_code == 200, bound.text
    identity = an_identity()

    for asked in (email, email.lower(), email.upper()):
        found = await identify(rpc, identity.issuer, identity.identity_id, email=asked)
        assert (found.user_id, found.mfa_factors, found.by_email) == (user["id"], ["Totp"], True)
    # identifying links nothing: that waits for the sign-in's submit
    assert await kept(db, identity) == []


async def test_identify_without_the_identity_or_the_email_is_404(
    client: AsyncClient, auth: Auth, rpc: RpcClient
) -> None:
    await new_user(client, auth, primaryEmail=f"k{secrets.token_hex(4)}@corp.example.com")
    identity = an_identity()
    await refused(identify(rpc, identity.issuer, identity.identity_id), 404, "user.identity_not_exist")
    unknown = f"nobody-{secrets.token_hex(4)}@corp.example.com"
    await refused(identify(rpc, identity.issuer, identity.identity_id, email=unknown), 404, "user.identity_not_exist")


async def test_identify_refuses_a_suspended_user_found_either_way(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    by_identity = await new_user(client, auth)
    by_email = await new_user(client, auth, primaryEmail=f"s{secrets.token_hex(4)}@corp.example.com")
    identity = an_identity()
    await link(db, by_identity["id"], identity)
    await suspend(client, auth, by_identity["id"])
    await suspend(client, auth, by_email["id"])

    await refused(identify(rpc, identity.issuer, identity.identity_id), 401, "user.suspended")
    other = an_identity()
    await refused(identify(rpc, other.issuer, other.identity_id, email=by_email["primaryEmail"]), 401, "user.suspended")


# user.sso_sign_in


async def test_sign_in_links_the_identity_of_a_user_found_by_email(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    user = await new_user(client, auth, primaryEmail=f"l{secrets.token_hex(4)}@corp.example.com")
    identity = an_identity(detail={"id": "x", "email": user["primaryEmail"], "name": "Linked"})
    before = await events(db, user["id"])

    done = await sso_sign_in(rpc, user["id"], identity, link=True)
    assert done.user_id == user["id"]
    [row] = await kept(db, identity)
    assert (row.user_id, row.issuer, row.identity_id, row.sso_connector_id, row.detail) == (
        user["id"],
        identity.issuer,
        identity.identity_id,
        identity.sso_connector_id,
        identity.detail,
    )
    # the link announces the connector (organizations' just-in-time provisioning); the user's data is unchanged
    assert (await events(db, user["id"]))[len(before) :] == [
        {
            "type": "User.SsoIdentity.Linked",
            "data": {"userId": user["id"], "ssoConnectorId": identity.sso_connector_id},
            "actor": {"type": USER_ACTOR, "id": user["id"]},
        }
    ]
    # the next sign-in finds the user by the identity
    found = await identify(rpc, identity.issuer, identity.identity_id)
    assert (found.user_id, found.by_email) == (user["id"], False)


async def test_sign_in_replaces_the_stored_detail_of_the_users_identity(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    user = await new_user(client, auth)
    identity = an_identity(detail={"id": "x", "email": "old@corp.example.com", "department": "R&D"})
    await link(db, user["id"], identity)
    [stored] = await kept(db, identity)
    before = await events(db, user["id"])

    latest = {"id": "x", "email": "new@corp.example.com"}
    await sso_sign_in(rpc, user["id"], SsoIdentity(**{**msgspec.structs.asdict(identity), "detail": latest}))
    [row] = await kept(db, identity)
    assert (row.id, row.user_id, row.sso_connector_id) == (stored.id, user["id"], identity.sso_connector_id)
    assert row.detail == latest  # replaced, not merged
    assert row.updated_at > stored.updated_at and row.created_at == stored.created_at

    # an identity the user already has is refreshed, not linked again, even when asked to link it
    again = {"id": "x", "email": "again@corp.example.com"}
    await sso_sign_in(rpc, user["id"], SsoIdentity(**{**msgspec.structs.asdict(identity), "detail": again}), link=True)
    [row] = await kept(db, identity)
    assert (row.id, row.detail) == (stored.id, again)
    assert (await events(db, user["id"]))[len(before) :] == []


async def test_sign_in_syncs_the_name_and_avatar_only_when_asked(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    user = await new_user(client, auth, name="Before")
    identity = an_identity()
    await link(db, user["id"], identity)
    before = await events(db, user["id"])

    await sso_sign_in(rpc, user["id"], identity)  # the connector does not sync the profile
    after = await get_user(client, auth, user["id"])
    assert (after["name"], after["avatar"]) == ("Before", None)
    assert (await events(db, user["id"]))[len(before) :] == []

    avatar = "https://cdn.example.com/grace.png"
    await sso_sign_in(rpc, user["id"], identity, name="Grace", avatar=avatar)
    after = await get_user(client, auth, user["id"])
    assert (after["name"], after["avatar"]) == ("Grace", avatar)
    [updated] = (await events(db, user["id"]))[len(before) :]
    assert updated["type"] == "User.Data.Updated" and updated["actor"] == {"type": USER_ACTOR, "id": user["id"]}
    assert updated["data"]["changed"] == ["avatar", "name"]
    assert (updated["data"]["data"]["name"], updated["data"]["data"]["avatar"]) == ("Grace", avatar)

    # what the IdP still says changes nothing; what it says anew changes only that
    seen = await events(db, user["id"])
    await sso_sign_in(rpc, user["id"], identity, name="Grace", avatar=avatar)
    assert (await events(db, user["id"]))[len(seen) :] == []
    await sso_sign_in(rpc, user["id"], identity, name="Grace Hopper", avatar=avatar)
    [renamed] = (await events(db, user["id"]))[len(seen) :]
    assert (renamed["type"], renamed["data"]["changed"]) == ("User.Data.Updated", ["name"])
    assert (await get_user(client, auth, user["id"]))["name"] == "Grace Hopper"


async def test_sign_in_with_the_identity_of_another_user_is_refused_and_applies_nothing(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    owner, other = await new_user(client, auth), await new_user(client, auth, name="Other")
    identity = an_identity()
    await link(db, owner["id"], identity)
    before = await events(db, other["id"])

    latest = SsoIdentity(**{**msgspec.structs.asdict(identity), "detail": {"id": "stolen"}})
    for linking in (True, False):
        taken = sso_sign_in(rpc, other["id"], latest, link=linking, name="Thief")
        await refused(taken, 422, "user.identity_already_in_use")

    [row] = await kept(db, identity)
    assert (row.user_id, row.detail) == (owner["id"], identity.detail)
    assert (await get_user(client, auth, other["id"]))["name"] == "Other"
    assert (await events(db, other["id"]))[len(before) :] == []


async def test_racing_sign_ins_and_registration_give_the_identity_to_one_user(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    first, second = await new_user(client, auth), await new_user(client, auth)
    identity = an_identity()
    username = f"sso{secrets.token_hex(5)}"

    outcomes = await asyncio.gather(
        sso_sign_in(rpc, first["id"], identity, link=True),
        sso_sign_in(rpc, second["id"], identity, link=True),
        register(rpc, username=username, sso_identity=identity),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(winners) == 1
    assert [(e.status, e.code) for e in losers if isinstance(e, GatehouseError)] == [
        (422, "user.identity_already_in_use")
    ] * 2
    [row] = await kept(db, identity)
    assert row.user_id == winners[0].user_id


async def test_sign_in_of_an_unknown_user_is_404(rpc: RpcClient, db: AsyncEngine) -> None:
    identity, missing = an_identity(), generate_id()
    await refused(sso_sign_in(rpc, missing, identity, link=True), 404, "entity.not_exists_with_id")
    assert await kept(db, identity) == []


# user.create with an SSO identity


async def test_create_with_an_sso_identity_keeps_it_for_the_new_user(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    email = f"new.{secrets.token_hex(4)}@corp.example.com"
    identity = an_identity(detail={"id": "n", "email": email, "name": "New"})

    created = await register(rpc, primary_email=email, name="New", sso_identity=identity)
    user = await get_user(client, auth, created.user_id)
    assert (user["primaryEmail"], user["name"], user["identities"]) == (email, "New", {})
    [row] = await kept(db, identity)
    assert (row.user_id, row.issuer, row.identity_id, row.sso_connector_id, row.detail) == (
        created.user_id,
        identity.issuer,
        identity.identity_id,
        identity.sso_connector_id,
        identity.detail,
    )
    found = await identify(rpc, identity.issuer, identity.identity_id)
    assert (found.user_id, found.by_email) == (created.user_id, False)

    # one transaction: `User.Created`, then `User.Registered` naming the connector; nobody is signed in yet
    history = await events(db, created.user_id)
    assert [(e["type"], e["actor"]) for e in history] == [("User.Created", None), ("User.Registered", None)]
    assert history[0]["data"]["data"]["id"] == created.user_id
    assert history[1]["data"] == {
        "userId": created.user_id,
        "primaryEmail": email,
        "ssoConnectorId": identity.sso_connector_id,
    }


async def test_create_refuses_an_sso_identity_a_user_has(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    owner = await new_user(client, auth)
    identity = an_identity()
    await link(db, owner["id"], identity)
    username = f"sso{secrets.token_hex(5)}"

    await refused(register(rpc, username=username, sso_identity=identity), 422, "user.identity_already_in_use")
    # nothing of the registration is left: no user, no second row, no events
    assert (await client.get("/api/users", params={"search": username}, headers=auth)).json() == []
    [row] = await kept(db, identity)
    assert row.user_id == owner["id"]
    async with db.connect() as conn:
        payloads = (await conn.execute(sa.select(outbox.c.payload))).scalars()
        assert not any(username.encode() in payload for payload in payloads)
