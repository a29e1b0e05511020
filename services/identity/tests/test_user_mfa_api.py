"""A user's MFA verifications from the Management API: TOTP and backup codes bound as Logto binds
them (one TOTP, one usable set of codes, never codes alone), listed without secrets, deleted by id."""

import asyncio
import base64
import hashlib
import hmac
import struct
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec
import nats
import pytest
import pytest_asyncio
import sqlalchemy as sa
from gatehouse_identity.domain import mfa
from gatehouse_platform.db import create_engine
from gatehouse_schema.tables.identity import users
from httpx import AsyncClient, Response

Auth = dict[str, str]
CODES = [f"{i:x}" * 10 for i in range(10)]


def error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


async def create_user(client: AsyncClient, auth: Auth, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/users", json=body, headers=auth)
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()
    return user


def totp_now(secret: str) -> str:
    """RFC 6238 with SHA-1, 30 s, 6 digits: what an authenticator app shows for `secret`."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**6:06d}"


@pytest_asyncio.fixture(scope="session")
async def stored_factors(database_url: str) -> AsyncIterator[Callable[[str], Any]]:
    engine = create_engine(database_url, pool_size=1)

    async def read(user_id: str) -> list[dict[str, Any]]:
        async with engine.connect() as conn:
            query = sa.select(users.c.mfa_verifications).where(users.c.id == user_id)
            factors: list[dict[str, Any]] = (await conn.execute(query)).scalar_one()
            return factors

    yield read
    await engine.dispose()


async def test_bind_a_generated_totp_secret(
    client: AsyncClient, auth: Auth, stored_factors: Callable[[str], Any]
) -> None:
    user = await create_user(client, auth, name="Ada Lovelace")
    url = f"/api/users/{user['id']}/mfa-verifications"
    assert (await client.get(url, headers=auth)).json() == []
    response = await client.post(url, json={"type": "Totp"}, headers={**auth, "x-forwarded-host": "id.example.com"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "Totp" and mfa.valid_totp_secret(body["secret"]) and len(body["secret"]) == 16
    assert body["secretQrCode"].startswith("data:image/png;base64,")
    png = base64.b64decode(body["secretQrCode"].split(",", 1)[1])
    assert png.startswith(b"\x89PNG")
    [stored] = await stored_factors(user["id"])
    assert stored["type"] == "Totp" and stored["key"] == body["secret"] and len(totp_now(stored["key"])) == 6
    [listed] = (await client.get(url, headers=auth)).json()
    assert listed == {"id": stored["id"], "createdAt": stored["createdAt"], "type": "Totp"}
    assert listed["createdAt"].endswith("Z")


def test_the_key_uri_names_the_user_and_the_host() -> None:
    uri = mfa.totp_key_uri("Ada Lovelace", "id.example.com", "JBSWY3DPEHPK3PXP")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == "/id.example.com:Ada Lovelace"
    query = parse_qs(parts.query)
    assert query["secret"] == ["JBSWY3DPEHPK3PXP"] and query["issuer"] == ["id.example.com"]
    assert query["digits"] == ["6"] and query["period"] == ["30"] and query["algorithm"] == ["SHA1"]


async def test_bind_a_supplied_totp_secret(client: AsyncClient, auth: Auth) -> None:
    user = await create_user(client, auth)
    url = f"/api/users/{user['id']}/mfa-verifications"
    response = await client.post(url, json={"type": "Totp", "secret": "JBSWY3DPEHPK3PXP"}, headers=auth)
    assert response.status_code == 200 and response.json()["secret"] == "JBSWY3DPEHPK3PXP"


@pytest.mark.parametrize("secret", ["invalid_secret", "JBSWY3DP", "jbswy3dpehpk3pxp", "A" * 40, "JBSWY3DPEHPK3PX1"])
async def test_a_malformed_totp_secret_is_422(client: AsyncClient, auth: Auth, secret: str) -> None:
    user = await create_user(client, auth)
    url = f"/api/users/{user['id']}/mfa-verifications"
    error(
        await client.post(url, json={"type": "Totp", "secret": secret}, headers=auth), 422, "user.totp_secret_invalid"
    )
    assert (await client.get(url, headers=auth)).json() == []


async def test_a_user_has_one_totp_at_most(client: AsyncClient, auth: Auth) -> None:
    user = await create_user(client, auth)
    url = f"/api/users/{user['id']}/mfa-verifications"
    assert (await client.post(url, json={"type": "Totp"}, headers=auth)).status_code == 200
    body = error(await client.post(url, json={"type": "Totp"}, headers=auth), 422, "user.totp_already_in_use")
    assert body["message"] == "TOTP is already in use."


async def test_concurrent_totp_binds_leave_one_factor(client: AsyncClient, auth: Auth) -> None:
    user = await create_user(client, auth)
    url = f"/api/users/{user['id']}/mfa-verifications"
    responses = await asyncio.gather(*(client.post(url, json={"type": "Totp"}, headers=auth) for _ in range(3)))
    assert sorted(r.status_code for r in responses) == [200, 422, 422]
    assert len((await client.get(url, headers=auth)).json()) == 1


async def test_backup_codes_need_another_factor(client: AsyncClient, auth: Auth) -> None:
    user = await create_user(client, auth)
    url = f"/api/users/{user['id']}/mfa-verifications"
    body = error(
        await client.post(url, json={"type": "BackupCode"}, headers=auth),
        422,
        "session.mfa.backup_code_can_not_be_alone",
    )
    assert body["message"] == "Backup code can not be the only MFA."


async def test_generate_ten_backup_codes_and_list_what_remains(
    client: AsyncClient, auth: Auth, stored_factors: Callable[[str], Any]
) -> None:
    user = await create_user(client, auth)
    url = f"/api/users/{user['id']}/mfa-verifications"
    await client.post(url, json={"type": "Totp"}, headers=auth)
    response = await client.post(url, json={"type": "BackupCode"}, headers=auth)
    assert response.status_code == 200
    codes = response.json()["codes"]
    assert response.json()["type"] == "BackupCode" and mfa.valid_backup_codes(codes) and len(set(codes)) == 10
    stored = await stored_factors(user["id"])
    assert stored[1]["codes"] == [{"code": c} for c in codes]
    listed = (await client.get(url, headers=auth)).json()
    assert [f["type"] for f in listed] == ["Totp", "BackupCode"] and listed[1]["remainCodes"] == 10
    assert "codes" not in listed[1] and "key" not in listed[0]


async def test_supplied_backup_codes_and_their_format(client: AsyncClient, auth: Auth) -> None:
    user = await create_user(client, auth)
    url = f"/api/users/{user['id']}/mfa-verifications"
    await client.post(url, json={"type": "Totp"}, headers=auth)
    for bad in (["wrong-code"], CODES[:9], [*CODES[:9], "0fa4c1xd19"]):
        response = await client.post(url, json={"type": "BackupCode", "codes": bad}, headers=auth)
        error(response, 422, "user.wrong_backup_code_format")
    response = await client.post(url, json={"type": "BackupCode", "codes": CODES}, headers=auth)
    assert response.status_code == 200 and response.json() == {"type": "BackupCode", "codes": CODES}
    again = await client.post(url, json={"type": "BackupCode"}, headers=auth)
    error(again, 422, "user.backup_code_already_in_use")


async def test_only_totp_and_backup_codes_can_be_created_here(client: AsyncClient, auth: Auth) -> None:
    user = await create_user(client, auth)
    url = f"/api/users/{user['id']}/mfa-verifications"
    for body in ({"type": "WebAuthn"}, {"type": "EmailVerificationCode"}, {}, {"type": "Totp", "secret": 1}):
        error(await client.post(url, json=body, headers=auth), 400, "guard.invalid_input")


async def test_delete_a_factor(client: AsyncClient, auth: Auth) -> None:
    user = await create_user(client, auth)
    url = f"/api/users/{user['id']}/mfa-verifications"
    await client.post(url, json={"type": "Totp"}, headers=auth)
    [factor] = (await client.get(url, headers=auth)).json()
    error(await client.delete(f"{url}/not-a-factor", headers=auth), 404, "entity.not_found")
    response = await client.delete(f"{url}/{factor['id']}", headers=auth)
    assert response.status_code == 204 and response.content == b""
    assert (await client.get(url, headers=auth)).json() == []
    assert (await client.post(url, json={"type": "Totp"}, headers=auth)).status_code == 200  # bindable again


async def test_webauthn_factors_are_listed_and_deletable(client: AsyncClient, auth: Auth, database_url: str) -> None:
    """Passkeys are bound by the user's own flow; here they are written as that flow stores them."""
    user = await create_user(client, auth)
    passkey = {
        "id": "passkey01",
        "createdAt": "2026-01-02T03:04:05.678Z",
        "lastUsedAt": "2026-02-01T00:00:00.000Z",
        "type": "WebAuthn",
        "credentialId": "cred",
        "publicKey": "pk",
        "counter": 3,
        "agent": "Chrome on macOS",
        "name": "My laptop",
    }
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.update(users).where(users.c.id == user["id"]).values(mfa_verifications=[passkey]))
    finally:
        await engine.dispose()
    url = f"/api/users/{user['id']}/mfa-verifications"
    assert (await client.get(url, headers=auth)).json() == [
        {
            "id": "passkey01",
            "createdAt": "2026-01-02T03:04:05.678Z",
            "lastUsedAt": "2026-02-01T00:00:00.000Z",
            "type": "WebAuthn",
            "agent": "Chrome on macOS",
            "name": "My laptop",
        }
    ]
    assert (await client.post(url, json={"type": "BackupCode"}, headers=auth)).status_code == 200
    assert (await client.delete(f"{url}/passkey01", headers=auth)).status_code == 204


async def test_unknown_user_is_404_on_mfa_routes(client: AsyncClient, auth: Auth) -> None:
    url = "/api/users/nosuchuser00/mfa-verifications"
    calls = [
        client.get(url, headers=auth),
        client.post(url, json={"type": "Totp"}, headers=auth),
        client.delete(f"{url}/x", headers=auth),
    ]
    for response in await asyncio.gather(*calls):
        error(response, 404, "entity.not_exists_with_id")


async def test_mfa_changes_publish_user_data_updated_without_secrets(
    client: AsyncClient, auth: Auth, nats_url: str, subject_prefix: str
) -> None:
    nc = await nats.connect(nats_url)
    received: asyncio.Queue[Any] = asyncio.Queue()
    sub = await nc.subscribe(f"{subject_prefix}.evt.default.identity.User.Data.Updated", cb=received.put)
    try:
        user = await create_user(client, auth)
        url = f"/api/users/{user['id']}/mfa-verifications"
        secret = (await client.post(url, json={"type": "Totp"}, headers=auth)).json()["secret"]
        codes = (await client.post(url, json={"type": "BackupCode"}, headers=auth)).json()["codes"]
        seen: list[bytes] = []
        while len(seen) < 2:
            msg = await asyncio.wait_for(received.get(), 5)
            if msgspec.json.decode(msg.data)["subject"] == user["id"]:
                seen.append(msg.data)
        for raw in seen:
            assert msgspec.json.decode(raw)["data"]["changed"] == ["mfaVerifications"]
            assert secret.encode() not in raw and not any(c.encode() in raw for c in codes)
    finally:
        await sub.unsubscribe()
        await nc.close()
