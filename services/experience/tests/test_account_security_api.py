"""The security part of Logto's Account API on experience, with the real identity service: logto configs and
MFA factors of the signed-in user, each behind its account center field, its scope and (where Logto wants one)
a verification record named by `logto-verification-id`."""

import time
from typing import Any

import sqlalchemy as sa
from gatehouse_identity.domain import mfa
from gatehouse_platform.rpc import RpcClient
from gatehouse_schema.mfa_secrets import generate_totp_secret
from gatehouse_schema.tables.management import sign_in_experiences
from httpx import AsyncClient
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from .accountkit import ALL_EDIT, account_center, rpc, signed_in, verify_password
from .flowkit import error

__all__ = ["rpc"]  # the fixture, for the tests of this module


SECURITY = {**ALL_EDIT, "mfa": "Edit", "session": "Edit"}
SCOPES = "openid profile identities sessions"


async def verified(client: AsyncClient, bearer: dict[str, str]) -> dict[str, str]:
    record = await verify_password(client, bearer)
    assert record.status_code == 201, record.text
    return {**bearer, "logto-verification-id": record.json()["verificationRecordId"]}


async def mfa_factors(db: AsyncEngine, factors: list[str]) -> None:
    settings: dict[str, Any] = {"mfa": {"factors": factors, "policy": "UserControlled"}}
    async with db.begin() as conn:
        await conn.execute(
            insert(sign_in_experiences)
            .values(tenant_id="default", id="default", settings=settings, updated_at=sa.func.now())
            .on_conflict_do_update(
                index_elements=[sign_in_experiences.c.tenant_id],
                set_={
                    "settings": sign_in_experiences.c.settings.op("||")(
                        sa.cast(settings, sign_in_experiences.c.settings.type)
                    )
                },
            )
        )


async def test_logto_configs_need_the_identities_scope_and_the_mfa_field(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    _, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    _, narrow = await signed_in(identity, rpc, db, auth)
    await account_center(db, fields={**ALL_EDIT, "mfa": "ReadOnly"})
    error(await client.get("/api/my-account/logto-configs", headers=narrow), 401, "auth.unauthorized")
    got = await client.get("/api/my-account/logto-configs", headers=bearer)
    assert got.status_code == 200, got.text
    change = {"mfa": {"skipped": True, "skipMfaOnSignIn": False}}
    error(
        await client.patch("/api/my-account/logto-configs", json=change, headers=bearer),
        400,
        "account_center.field_not_editable",
    )
    await account_center(db, fields=SECURITY)
    patched = await client.patch("/api/my-account/logto-configs", json=change, headers=bearer)
    assert patched.status_code == 200, patched.text
    assert patched.json()["mfa"]["skipped"] is True
    assert (await client.get("/api/my-account/logto-configs", headers=bearer)).json() == patched.json()
    await account_center(db, fields=ALL_EDIT)
    error(await client.get("/api/my-account/logto-configs", headers=bearer), 400, "account_center.field_not_enabled")


async def test_a_totp_is_bound_with_a_generated_secret_and_a_matching_code(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    _, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    await account_center(db, fields=SECURITY)
    await mfa_factors(db, ["Totp", "BackupCode"])
    generated = await client.post("/api/my-account/mfa-verifications/totp-secret/generate", headers=bearer)
    assert generated.status_code == 200, generated.text
    secret = generated.json()["secret"]
    body = {"type": "Totp", "secret": secret, "code": "000000"}
    add = "/api/my-account/mfa-verifications"
    error(await client.post(add, json=body, headers=bearer), 401, "verification_record.permission_denied")
    headers = await verified(client, bearer)
    if not mfa.totp_matches(secret, "000000"):
        error(await client.post(add, json=body, headers=headers), 400, "session.mfa.invalid_totp_code")
    code = mfa.totp_code(secret, int(time.time() // 30))
    bound = await client.post(add, json={**body, "code": code}, headers=headers)
    assert bound.status_code == 204, bound.text
    error(await client.post(add, json={**body, "code": code}, headers=headers), 422, "user.totp_already_in_use")
    listed = (await client.get(add, headers=headers)).json()
    assert [f["type"] for f in listed] == ["Totp"] and "key" not in listed[0]
    deleted = await client.delete(f"{add}/{listed[0]['id']}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    error(await client.delete(f"{add}/{listed[0]['id']}", headers=headers), 400, "verification_record.not_found")


async def test_backup_codes_need_another_factor_and_are_listed_with_their_use(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    _, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    await account_center(db, fields=SECURITY)
    await mfa_factors(db, ["Totp", "BackupCode"])
    headers = await verified(client, bearer)
    add = "/api/my-account/mfa-verifications"
    codes = (await client.post(f"{add}/backup-codes/generate", headers=bearer)).json()["codes"]
    assert len(codes) == 10
    error(await client.get(f"{add}/backup-codes", headers=headers), 404, "verification_record.not_found")
    alone = await client.post(add, json={"type": "BackupCode", "codes": codes}, headers=headers)
    error(alone, 422, "session.mfa.backup_code_can_not_be_alone")
    totp = {"type": "Totp", "secret": generate_totp_secret()}
    assert (await client.post(add, json=totp, headers=headers)).status_code == 204
    assert (await client.post(add, json={"type": "BackupCode", "codes": codes}, headers=headers)).status_code == 204
    listed = await client.get(f"{add}/backup-codes", headers=headers)
    assert listed.json() == {"codes": [{"code": c} for c in codes]}, listed.text


async def test_a_factor_the_sign_in_experience_does_not_enable_is_refused(
    client: AsyncClient, identity: AsyncClient, rpc: RpcClient, db: AsyncEngine, auth: dict[str, str]
) -> None:
    _, bearer = await signed_in(identity, rpc, db, auth, scope=SCOPES)
    await account_center(db, fields=SECURITY)
    await mfa_factors(db, ["BackupCode"])
    headers = await verified(client, bearer)
    body = {"type": "Totp", "secret": generate_totp_secret()}
    error(
        await client.post("/api/my-account/mfa-verifications", json=body, headers=headers),
        400,
        "session.mfa.mfa_factor_not_enabled",
    )
    await account_center(db, fields={**SECURITY, "mfa": "Off"})
    error(
        await client.get("/api/my-account/mfa-verifications", headers=headers), 400, "account_center.field_not_enabled"
    )
