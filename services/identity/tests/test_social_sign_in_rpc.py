"""The commands of the Experience API's social sign-in, as experience asks for them over NATS:
`secret.seal_token_set`, `user.identify_social`, `user.social_sign_in` and `user.create` with a social
identity."""

import base64
import json
import secrets

import pytest
import sqlalchemy as sa
from gatehouse_identity.domain.secret_vault import Sealed, SecretVault
from gatehouse_platform.errors import GatehouseError
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.ids import generate_id
from gatehouse_schema.rpc.identity import (
    SECRET_SEAL_TOKEN_SET,
    USER_CREATE,
    USER_IDENTIFY_SOCIAL,
    USER_SOCIAL_SIGN_IN,
    AccountDone,
    CreatedUser,
    CreateUser,
    IdentifySocial,
    ProviderTokens,
    SealedTokenSet,
    SocialIdentity,
    SocialSignIn,
    VerifiedUser,
)
from gatehouse_schema.tables import management as m
from gatehouse_schema.tables.identity import secrets as secrets_table
from gatehouse_schema.tables.identity import users
from gatehouse_testing.vault import VAULT_KEK
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

Auth = dict[str, str]


async def connector(db: AsyncEngine, *, token_storage: bool = True) -> tuple[str, str]:
    connector_id, target = generate_id(), f"rpc-{generate_id()[:8].lower()}"
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(m.connectors).values(
                tenant_id="default",
                id=connector_id,
                connector_id="oidc",
                config={},
                metadata={"target": target},
                sync_profile=False,
                enable_token_storage=token_storage,
                created_at=sa.func.now(),
            )
        )
    return connector_id, target


async def new_user(client: AsyncClient, auth: Auth, **fields: str) -> dict[str, str]:
    body = {"username": f"s{secrets.token_hex(5)}", **fields}
    created = await client.post("/api/users", json=body, headers=auth)
    assert created.status_code == 200, created.text
    return dict(created.json())


async def seal(rpc: RpcClient, access_token: str) -> SealedTokenSet:
    tokens = ProviderTokens(access_token=access_token, token_type="Bearer", refresh_token="r-1", expires_at=2**31)
    return await rpc.call("identity", SECRET_SEAL_TOKEN_SET, tokens, SealedTokenSet)


async def kept_tokens(db: AsyncEngine, user_id: str) -> dict[str, str] | None:
    async with db.connect() as conn:
        row = (await conn.execute(sa.select(secrets_table).where(secrets_table.c.user_id == user_id))).one_or_none()
    if row is None:
        return None
    sealed = Sealed(encrypted_dek=row.encrypted_dek, iv=row.iv, auth_tag=row.auth_tag, ciphertext=row.ciphertext)
    opened: dict[str, str] = json.loads(SecretVault(base64.b64decode(VAULT_KEK)).open(sealed))
    return opened


async def refused(call: object, code: str) -> GatehouseError:
    with pytest.raises(GatehouseError) as raised:
        await call  # type: ignore[misc]
    assert raised.value.code == code
    return raised.value


async def test_sealing_leaves_only_the_envelope_and_its_metadata(client: AsyncClient, rpc: RpcClient) -> None:
    sealed = await seal(rpc, "at-secret")
    assert sealed.sealed is not None and b"at-secret" not in sealed.sealed.ciphertext
    assert sealed.metadata == {"hasRefreshToken": True, "tokenType": "Bearer", "expiresAt": 2**31}


async def test_identify_finds_the_linked_user_or_names_the_related_one(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    _, target = await connector(db)
    phone, email = f"1555{secrets.randbelow(10**7):07d}", f"r{secrets.token_hex(4)}@example.com"
    by_phone, by_email = (
        await new_user(client, auth, primaryPhone=phone),
        await new_user(client, auth, primaryEmail=email),
    )
    sub = f"sub-{generate_id()[:8]}"
    linked = await client.put(f"/api/users/{by_email['id']}/identities/{target}", json={"userId": sub}, headers=auth)
    assert linked.is_success

    found = await rpc.call(
        "identity", USER_IDENTIFY_SOCIAL, IdentifySocial(target=target, identity_id=sub), VerifiedUser
    )
    assert (found.user_id, found.mfa_factors) == (by_email["id"], [])
    unknown = IdentifySocial(target=target, identity_id="nobody", email=email.upper(), phone=phone)
    error = await refused(rpc.call("identity", USER_IDENTIFY_SOCIAL, unknown, VerifiedUser), "user.identity_not_exist")
    assert error.status == 404 and error.data == {"relatedUser": {"type": "phone", "value": phone}}  # phone first
    related = IdentifySocial(target=target, identity_id="nobody", email=email, related=True)
    found = await rpc.call("identity", USER_IDENTIFY_SOCIAL, related, VerifiedUser)
    assert found.user_id == by_email["id"]
    assert by_phone["id"] != by_email["id"]

    async with db.begin() as conn:
        await conn.execute(sa.update(users).where(users.c.id == by_email["id"]).values(is_suspended=True))
    await refused(
        rpc.call("identity", USER_IDENTIFY_SOCIAL, IdentifySocial(target=target, identity_id=sub), VerifiedUser),
        "user.suspended",
    )


async def test_social_sign_in_links_syncs_and_keeps_the_token_set_in_one_transaction(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    connector_id, target = await connector(db)
    user, other = await new_user(client, auth, name="Before"), await new_user(client, auth)
    sub = f"sub-{generate_id()[:8]}"
    identity = SocialIdentity(
        connector_id=connector_id,
        target=target,
        details={"id": sub, "name": "After"},
        token_set=await seal(rpc, "at-1"),
    )
    request = SocialSignIn(user_id=user["id"], identity=identity, link=True, name="After")
    await rpc.call("identity", USER_SOCIAL_SIGN_IN, request, AccountDone)
    after = (await client.get(f"/api/users/{user['id']}", headers=auth)).json()
    assert after["name"] == "After" and after["identities"][target]["userId"] == sub
    assert (await kept_tokens(db, user["id"]) or {})["access_token"] == "at-1"

    # another user cannot take the identity: nothing of that sign-in is applied
    taken = SocialSignIn(user_id=other["id"], identity=identity, link=True, name="Thief")
    await refused(rpc.call("identity", USER_SOCIAL_SIGN_IN, taken, AccountDone), "user.identity_already_in_use")
    assert (await client.get(f"/api/users/{other['id']}", headers=auth)).json()["name"] is None
    assert await kept_tokens(db, other["id"]) is None


async def test_create_with_a_social_identity_keeps_it_and_refuses_a_taken_one(
    client: AsyncClient, auth: Auth, rpc: RpcClient, db: AsyncEngine
) -> None:
    connector_id, target = await connector(db)
    sub = f"sub-{generate_id()[:8]}"
    identity = SocialIdentity(
        connector_id=connector_id, target=target, details={"id": sub}, token_set=await seal(rpc, "at-new")
    )
    created = await rpc.call(
        "identity", USER_CREATE, CreateUser(name="New", social_identity=identity), CreatedUser, timeout=10.0
    )
    user = (await client.get(f"/api/users/{created.user_id}", headers=auth)).json()
    assert user["name"] == "New" and user["identities"] == {target: {"userId": sub, "details": {"id": sub}}}
    assert (await kept_tokens(db, created.user_id) or {})["access_token"] == "at-new"

    name = f"s{secrets.token_hex(5)}"
    again = CreateUser(username=name, social_identity=identity)
    await refused(rpc.call("identity", USER_CREATE, again, CreatedUser, timeout=10.0), "user.identity_already_in_use")
    assert (await client.get("/api/users", params={"search": name}, headers=auth)).json() == []
