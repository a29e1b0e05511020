"""Users routes of the Management API against real PostgreSQL and NATS, with Logto's shapes and errors."""

import asyncio
import hashlib
import json
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import bcrypt
import msgspec
import nats
import pytest
import pytest_asyncio
import sqlalchemy as sa
from argon2 import Type, low_level
from gatehouse_identity.api.user_bodies import CreateUser
from gatehouse_identity.passwords import PasswordHasher
from gatehouse_identity.persistence.users import UserStore
from gatehouse_identity.services.users import UserService
from gatehouse_platform.db import create_engine
from gatehouse_platform.errors import Unprocessable
from gatehouse_platform.outbox import Outbox
from gatehouse_schema.tables.identity import users
from gatehouse_testing.issuer import TestIssuer
from httpx import AsyncClient, Response

Stored = Callable[[str], Any]
PASSWORD_FIELDS = ("password", "passwordEncrypted", "passwordEncryptionMethod", "passwordDigest", "passwordAlgorithm")


def unique(prefix: str = "u") -> str:
    return f"{prefix}_{secrets.token_hex(5)}"


def error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


async def create(client: AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/api/users", json=body, headers=auth)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest_asyncio.fixture(scope="session")
async def stored(database_url: str) -> AsyncIterator[Stored]:
    """Reads a user's row as stored (password digest and method included)."""
    engine = create_engine(database_url, pool_size=1)

    async def read(user_id: str) -> Any:
        async with engine.connect() as conn:
            return (await conn.execute(sa.select(users).where(users.c.id == user_id))).one()

    yield read
    await engine.dispose()


# create


async def test_create_an_empty_user(client: AsyncClient, auth: dict[str, str]) -> None:
    user = await create(client, auth)
    assert len(user["id"]) == 12 and user["id"].isalnum() and user["id"] == user["id"].lower()
    assert user["username"] is None and user["primaryEmail"] is None and user["primaryPhone"] is None
    assert user["name"] is None and user["avatar"] is None and user["applicationId"] is None
    assert user["customData"] == {} and user["profile"] == {} and user["identities"] == {}
    assert user["isSuspended"] is False and user["hasPassword"] is False and user["lastSignInAt"] is None
    assert user["createdAt"] > 0 and user["updatedAt"] >= user["createdAt"]


async def test_create_with_every_field_then_get(client: AsyncClient, auth: dict[str, str], stored: Stored) -> None:
    username = unique("Full")
    user = await create(
        client,
        auth,
        username=username,
        primaryEmail=f"{username}@Example.com",
        primaryPhone="1555" + str(secrets.randbelow(10**8)),
        name="Full Name",
        avatar="https://cdn.example.com/a.png",
        customData={"plan": "pro", "nested": {"a": [1, 2]}},
        profile={"givenName": "Full", "address": {"country": "FR"}, "unknownClaim": "dropped"},
        password="s3cret!",
    )
    assert user["username"] == username and user["primaryEmail"] == f"{username}@Example.com"
    assert user["customData"] == {"plan": "pro", "nested": {"a": [1, 2]}}
    assert user["profile"] == {"givenName": "Full", "address": {"country": "FR"}}
    assert user["hasPassword"] is True
    assert not any(f in user for f in PASSWORD_FIELDS)
    fetched = await client.get(f"/api/users/{user['id']}", headers=auth)
    assert fetched.status_code == 200 and fetched.json() == user
    row = await stored(user["id"])
    assert row.password_encryption_method == "Argon2id" and row.password_encrypted.startswith("$argon2id$")
    assert "s3cret" not in row.password_encrypted


async def test_password_and_digest_together_is_400(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post(
        "/api/users",
        json={"password": "pw", "passwordDigest": hashlib.md5(b"pw").hexdigest(), "passwordAlgorithm": "MD5"},
        headers=auth,
    )
    error(response, 400, "user.password_and_digest")


async def test_digest_without_algorithm_is_400(client: AsyncClient, auth: dict[str, str]) -> None:
    response = await client.post("/api/users", json={"passwordDigest": "abc"}, headers=auth)
    error(response, 400, "user.password_algorithm_required")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"primaryEmail": "not-an-email"}, "user.invalid_email"),
        ({"primaryEmail": "a@b"}, "user.invalid_email"),
        ({"primaryPhone": "+1 555"}, "user.invalid_phone"),
        ({"primaryPhone": "12ab"}, "user.invalid_phone"),
        ({"username": "1starts_with_digit"}, "guard.invalid_input"),
        ({"username": "has-dash"}, "guard.invalid_input"),
        ({"username": ""}, "guard.invalid_input"),
        ({"username": "x" * 129}, "guard.invalid_input"),
        ({"avatar": "not a url"}, "guard.invalid_input"),
        ({"passwordDigest": "x", "passwordAlgorithm": "ROT13"}, "guard.invalid_input"),
        ({"password": ""}, "guard.invalid_input"),
        ({"customData": []}, "guard.invalid_input"),
        ({"profile": {"givenName": 1}}, "guard.invalid_input"),
        (
            {"passwordDigest": '["sha256", ["salt"], "ab"]', "passwordAlgorithm": "Legacy"},
            "password.invalid_legacy_password_format",
        ),
        (
            {"passwordDigest": '["rot13", ["@"], "ab"]', "passwordAlgorithm": "Legacy"},
            "password.unsupported_legacy_hash_algorithm",
        ),
    ],
)
async def test_invalid_create_bodies_are_400(
    client: AsyncClient, auth: dict[str, str], body: dict[str, Any], code: str
) -> None:
    error(await client.post("/api/users", json=body, headers=auth), 400, code)


async def test_usernames_and_emails_are_unique_case_insensitively(client: AsyncClient, auth: dict[str, str]) -> None:
    username = unique("Dup")
    phone = "1666" + str(secrets.randbelow(10**8))
    await create(client, auth, username=username, primaryEmail=f"{username}@example.com", primaryPhone=phone)
    error(
        await client.post("/api/users", json={"username": username.upper()}, headers=auth),
        422,
        "user.username_already_in_use",
    )
    response = await client.post("/api/users", json={"primaryEmail": f"{username.upper()}@EXAMPLE.com"}, headers=auth)
    error(response, 422, "user.email_already_in_use")
    error(await client.post("/api/users", json={"primaryPhone": phone}, headers=auth), 422, "user.phone_already_in_use")


async def test_the_users_api_needs_a_management_token(client: AsyncClient, test_issuer: TestIssuer) -> None:
    assert (await client.get("/api/users")).status_code == 401
    wrong_scope = test_issuer.management_headers(scope="read")
    assert (await client.get("/api/users", headers=wrong_scope)).status_code == 403
    assert (await client.get("/oidc/jwks")).status_code == 200  # OIDC stays public


class BlindStore(UserStore):
    """Misses every existing identifier, as a check that lost a race to a concurrent request would."""

    async def identifier_taken(self, *args: Any, **kwargs: Any) -> bool:
        return False


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("username", "Race_{tag}", "user.username_already_in_use"),
        ("primary_email", "race.{tag}@example.com", "user.email_already_in_use"),
        ("primary_phone", "1888{tag}", "user.phone_already_in_use"),
    ],
)
async def test_a_lost_uniqueness_race_still_answers_with_the_identifier_error(
    database_url: str, subject_prefix: str, field: str, value: str, code: str
) -> None:
    engine = create_engine(database_url, pool_size=1)
    service = UserService(
        engine, BlindStore(), PasswordHasher(memory_kib=256, time_cost=1), Outbox("identity", subject_prefix)
    )
    tag = str(secrets.randbelow(10**8))
    try:
        await service.create("default", CreateUser(**{field: value.format(tag=tag)}), None)
        with pytest.raises(Unprocessable) as raised:
            await service.create("default", CreateUser(**{field: value.format(tag=tag).upper()}), None)
        assert raised.value.code == code
    finally:
        await engine.dispose()


# list


async def test_list_paginates_newest_first(client: AsyncClient, auth: dict[str, str]) -> None:
    tag = secrets.token_hex(4)
    made = [await create(client, auth, name=f"paged {tag} {i}") for i in range(3)]
    response = await client.get(f"/api/users?page=1&page_size=2&search={tag}", headers=auth)
    assert response.status_code == 200
    assert response.headers["total-number"] == "3"
    assert [u["id"] for u in response.json()] == [made[2]["id"], made[1]["id"]]
    second = await client.get(f"/api/users?page=2&page_size=2&search={tag}", headers=auth)
    assert [u["id"] for u in second.json()] == [made[0]["id"]]
    assert all("passwordEncrypted" not in u for u in response.json())


async def test_list_always_reports_the_total(client: AsyncClient, auth: dict[str, str]) -> None:
    await create(client, auth)
    response = await client.get("/api/users", headers=auth)
    assert response.status_code == 200 and int(response.headers["total-number"]) >= 1
    assert len(response.json()) <= 20


@pytest.mark.parametrize("query", ["page=0", "page_size=0", "page_size=101", "page=x"])
async def test_bad_pagination_is_400(client: AsyncClient, auth: dict[str, str], query: str) -> None:
    error(await client.get(f"/api/users?{query}", headers=auth), 400, "guard.invalid_pagination")


async def test_search_matches_substrings_of_several_fields_case_insensitively(
    client: AsyncClient, auth: dict[str, str]
) -> None:
    tag = secrets.token_hex(4)
    by_name = await create(client, auth, name=f"Zed {tag.upper()} Person")
    by_email = await create(client, auth, primaryEmail=f"m.{tag}@example.org")
    by_username = await create(client, auth, username=f"user_{tag}")
    await create(client, auth, name="someone else")
    response = await client.get(f"/api/users?search=%25{tag}%25", headers=auth)
    assert {u["id"] for u in response.json()} == {by_name["id"], by_email["id"], by_username["id"]}
    by_field = await client.get(f"/api/users?search.primaryEmail={tag}", headers=auth)
    assert by_email["id"] in {u["id"] for u in by_field.json()}
    by_id = await client.get(f"/api/users?search={by_name['id']}", headers=auth)
    assert [u["id"] for u in by_id.json()] == [by_name["id"]]


# get, update, delete


async def test_unknown_user_is_404_everywhere(client: AsyncClient, auth: dict[str, str]) -> None:
    missing = "nosuchuser00"
    body = error(await client.get(f"/api/users/{missing}", headers=auth), 404, "entity.not_exists_with_id")
    assert missing in body["message"]
    calls = [
        client.patch(f"/api/users/{missing}", json={"name": "x"}, headers=auth),
        client.delete(f"/api/users/{missing}", headers=auth),
        client.get(f"/api/users/{missing}/custom-data", headers=auth),
        client.patch(f"/api/users/{missing}/custom-data", json={"customData": {}}, headers=auth),
        client.patch(f"/api/users/{missing}/profile", json={"profile": {}}, headers=auth),
        client.patch(f"/api/users/{missing}/password", json={"password": "pw"}, headers=auth),
        client.post(f"/api/users/{missing}/password/verify", json={"password": "pw"}, headers=auth),
        client.get(f"/api/users/{missing}/has-password", headers=auth),
        client.patch(f"/api/users/{missing}/password/expiration", json={"isExpired": True}, headers=auth),
        client.patch(f"/api/users/{missing}/is-suspended", json={"isSuspended": True}, headers=auth),
        client.get(f"/api/users/{missing}/logto-configs", headers=auth),
        client.patch(f"/api/users/{missing}/logto-configs", json={"mfa": {"skipped": True}}, headers=auth),
    ]
    for response in await asyncio.gather(*calls):
        error(response, 404, "entity.not_exists_with_id")


async def test_get_can_include_sso_identities(client: AsyncClient, auth: dict[str, str]) -> None:
    user = await create(client, auth, password="pw")
    plain = (await client.get(f"/api/users/{user['id']}", headers=auth)).json()
    assert "ssoIdentities" not in plain
    detailed = await client.get(
        f"/api/users/{user['id']}?includeSsoIdentities=yes&includePasswordHash=true", headers=auth
    )
    assert detailed.json() == {**plain, "ssoIdentities": []}
    assert not any(f in detailed.json() for f in PASSWORD_FIELDS)


async def test_patch_distinguishes_absent_from_null(client: AsyncClient, auth: dict[str, str]) -> None:
    username = unique("Patch")
    user = await create(
        client, auth, username=username, primaryEmail=f"{username}@example.com", name="Before", avatar="https://a.b/c"
    )
    response = await client.patch(f"/api/users/{user['id']}", json={"name": "After", "avatar": None}, headers=auth)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "After" and updated["avatar"] is None
    assert updated["username"] == username and updated["primaryEmail"] == f"{username}@example.com"
    assert updated["updatedAt"] >= user["updatedAt"] and updated["createdAt"] == user["createdAt"]
    cleared = await client.patch(f"/api/users/{user['id']}", json={"username": None, "primaryEmail": ""}, headers=auth)
    assert cleared.json()["username"] is None and cleared.json()["primaryEmail"] is None
    unchanged = await client.patch(f"/api/users/{user['id']}", json={}, headers=auth)
    assert unchanged.status_code == 200 and unchanged.json()["name"] == "After"


async def test_patch_replaces_custom_data_and_profile(client: AsyncClient, auth: dict[str, str]) -> None:
    user = await create(client, auth, customData={"a": 1, "b": 2}, profile={"givenName": "G", "familyName": "F"})
    response = await client.patch(
        f"/api/users/{user['id']}", json={"customData": {"c": 3}, "profile": {"nickname": "N"}}, headers=auth
    )
    assert response.json()["customData"] == {"c": 3}
    assert response.json()["profile"] == {"nickname": "N"}


async def test_patch_checks_formats_and_uniqueness(client: AsyncClient, auth: dict[str, str]) -> None:
    taken = unique("Taken")
    phone = "1777" + str(secrets.randbelow(10**8))
    await create(client, auth, username=taken, primaryEmail=f"{taken}@example.com", primaryPhone=phone)
    mine = unique("Mine")
    user = await create(client, auth, username=mine)
    url = f"/api/users/{user['id']}"
    error(await client.patch(url, json={"username": taken.lower()}, headers=auth), 422, "user.username_already_in_use")
    error(
        await client.patch(url, json={"primaryEmail": f"{taken}@EXAMPLE.COM"}, headers=auth),
        422,
        "user.email_already_in_use",
    )
    error(await client.patch(url, json={"primaryPhone": phone}, headers=auth), 422, "user.phone_already_in_use")
    error(await client.patch(url, json={"primaryEmail": "nope"}, headers=auth), 400, "user.invalid_email")
    error(await client.patch(url, json={"primaryPhone": "+33"}, headers=auth), 400, "user.invalid_phone")
    error(await client.patch(url, json={"username": "9lives"}, headers=auth), 400, "guard.invalid_input")
    error(await client.patch(url, json={"customData": None}, headers=auth), 400, "guard.invalid_input")
    renamed = await client.patch(url, json={"username": mine.upper()}, headers=auth)  # its own name, other case
    assert renamed.status_code == 200 and renamed.json()["username"] == mine.upper()


async def test_delete_user(client: AsyncClient, auth: dict[str, str]) -> None:
    user = await create(client, auth)
    response = await client.delete(f"/api/users/{user['id']}", headers=auth)
    assert response.status_code == 204 and response.content == b""
    error(await client.get(f"/api/users/{user['id']}", headers=auth), 404, "entity.not_exists_with_id")


async def test_a_user_cannot_delete_themselves(
    client: AsyncClient, auth: dict[str, str], test_issuer: TestIssuer
) -> None:
    user = await create(client, auth)
    own_token = test_issuer.management_headers(sub=user["id"])
    error(await client.delete(f"/api/users/{user['id']}", headers=own_token), 400, "user.cannot_delete_self")
    assert (await client.get(f"/api/users/{user['id']}", headers=auth)).status_code == 200


# custom data and profile


async def test_custom_data_get_and_merge(client: AsyncClient, auth: dict[str, str]) -> None:
    user = await create(client, auth, customData={"a": 1, "nested": {"x": 1}})
    url = f"/api/users/{user['id']}/custom-data"
    assert (await client.get(url, headers=auth)).json() == {"a": 1, "nested": {"x": 1}}
    response = await client.patch(url, json={"customData": {"b": 2, "nested": {"y": 2}}}, headers=auth)
    assert response.status_code == 200
    assert response.json() == {"a": 1, "b": 2, "nested": {"y": 2}}  # shallow merge
    assert (await client.get(url, headers=auth)).json() == response.json()
    error(await client.patch(url, json={"data": {}}, headers=auth), 400, "guard.invalid_input")


async def test_profile_merge(client: AsyncClient, auth: dict[str, str]) -> None:
    user = await create(client, auth, profile={"givenName": "G", "address": {"country": "FR", "locality": "Paris"}})
    url = f"/api/users/{user['id']}/profile"
    response = await client.patch(
        url, json={"profile": {"familyName": "F", "address": {"country": "DE"}}}, headers=auth
    )
    assert response.status_code == 200
    assert response.json() == {"givenName": "G", "familyName": "F", "address": {"country": "DE"}}
    fetched = (await client.get(f"/api/users/{user['id']}", headers=auth)).json()
    assert fetched["profile"] == response.json()
    error(await client.patch(url, json={"profile": {"website": 3}}, headers=auth), 400, "guard.invalid_input")


# passwords


async def test_set_and_verify_a_password(client: AsyncClient, auth: dict[str, str]) -> None:
    user = await create(client, auth)
    base = f"/api/users/{user['id']}"
    assert (await client.get(f"{base}/has-password", headers=auth)).json() == {"hasPassword": False}
    body = error(
        await client.post(f"{base}/password/verify", json={"password": "pw"}, headers=auth),
        422,
        "session.invalid_credentials",
    )
    assert body["message"] == "Wrong credentials. Please check your input."
    response = await client.patch(f"{base}/password", json={"password": "n3w-Secret"}, headers=auth)
    assert response.status_code == 200 and response.json()["hasPassword"] is True
    assert not any(f in response.json() for f in PASSWORD_FIELDS)
    assert (await client.get(f"{base}/has-password", headers=auth)).json() == {"hasPassword": True}
    ok = await client.post(f"{base}/password/verify", json={"password": "n3w-Secret"}, headers=auth)
    assert ok.status_code == 204 and ok.content == b""
    wrong = await client.post(f"{base}/password/verify", json={"password": "n3w-secret"}, headers=auth)
    body = error(wrong, 422, "session.invalid_credentials")
    assert body["message"] == "Wrong credentials. Please check your input."
    error(await client.patch(f"{base}/password", json={"password": ""}, headers=auth), 400, "guard.invalid_input")
    error(await client.post(f"{base}/password/verify", json={}, headers=auth), 400, "guard.invalid_input")


def imported_digests(password: str) -> dict[str, str]:
    salt = b"imported-salt-16"
    return {
        "Argon2i": low_level.hash_secret(
            password.encode(), salt, time_cost=3, memory_cost=512, parallelism=1, hash_len=32, type=Type.I
        ).decode(),
        "Argon2id": low_level.hash_secret(
            password.encode(), salt, time_cost=2, memory_cost=1024, parallelism=2, hash_len=32, type=Type.ID
        ).decode(),
        "Argon2d": low_level.hash_secret(
            password.encode(), salt, time_cost=2, memory_cost=256, parallelism=1, hash_len=32, type=Type.D
        ).decode(),
        "SHA1": hashlib.sha1(password.encode()).hexdigest(),
        "SHA256": hashlib.sha256(password.encode()).hexdigest(),
        "MD5": hashlib.md5(password.encode()).hexdigest(),
        "Bcrypt": bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode(),
        "Legacy": json.dumps(
            [
                "pbkdf2",
                ["hex:0badc0de", "1000", "32", "sha256", "@"],
                hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex("0badc0de"), 1000, 32).hex(),
            ]
        ),
    }


@pytest.mark.parametrize("algorithm", ["Argon2i", "Argon2id", "Argon2d", "SHA1", "SHA256", "MD5", "Bcrypt", "Legacy"])
async def test_imported_digests_verify_and_upgrade_to_argon2id(
    client: AsyncClient, auth: dict[str, str], stored: Stored, algorithm: str
) -> None:
    password = f"imported {algorithm} pässword"
    digest = imported_digests(password)[algorithm]
    user = await create(client, auth, passwordDigest=digest, passwordAlgorithm=algorithm)
    assert user["hasPassword"] is True and not any(f in user for f in PASSWORD_FIELDS)
    row = await stored(user["id"])
    assert (row.password_encryption_method, row.password_encrypted) == (algorithm, digest)
    verify = f"/api/users/{user['id']}/password/verify"
    error(await client.post(verify, json={"password": "wrong"}, headers=auth), 422, "session.invalid_credentials")
    assert (await stored(user["id"])).password_encrypted == digest  # a failed check changes nothing
    assert (await client.post(verify, json={"password": password}, headers=auth)).status_code == 204
    upgraded = await stored(user["id"])
    assert upgraded.password_encryption_method == "Argon2id"
    assert upgraded.password_encrypted.startswith("$argon2id$v=19$m=256,t=1,p=1$")
    assert upgraded.updated_at == row.updated_at  # a re-encoding, not a data change
    assert (await client.post(verify, json={"password": password}, headers=auth)).status_code == 204
    assert (await stored(user["id"])).password_encrypted == upgraded.password_encrypted  # current: kept
    error(await client.post(verify, json={"password": "wrong"}, headers=auth), 422, "session.invalid_credentials")


async def test_a_logto_argon2i_hash_verifies(client: AsyncClient, auth: dict[str, str], stored: Stored) -> None:
    digest = low_level.hash_secret(
        b"Logto-Passw0rd", b"sixteen byte salt", time_cost=8, memory_cost=8192, parallelism=1, hash_len=32, type=Type.I
    ).decode()
    assert digest.startswith("$argon2i$v=19$m=8192,t=8,p=1$")
    user = await create(client, auth, passwordDigest=digest, passwordAlgorithm="Argon2i")
    verify = f"/api/users/{user['id']}/password/verify"
    assert (await client.post(verify, json={"password": "Logto-Passw0rd"}, headers=auth)).status_code == 204
    assert (await stored(user["id"])).password_encryption_method == "Argon2id"


async def test_password_expiration(client: AsyncClient, auth: dict[str, str], stored: Stored) -> None:
    user = await create(client, auth, password="pw")
    url = f"/api/users/{user['id']}/password/expiration"
    response = await client.patch(url, json={"isExpired": True}, headers=auth)
    assert response.status_code == 200 and response.json()["id"] == user["id"]
    assert not any(f in response.json() for f in PASSWORD_FIELDS)
    assert (await stored(user["id"])).password_expired is True
    await client.patch(f"/api/users/{user['id']}/password", json={"password": "fresh"}, headers=auth)
    assert (await stored(user["id"])).password_expired is False  # a new password is not expired
    await client.patch(url, json={"isExpired": True}, headers=auth)
    await client.patch(url, json={"isExpired": False}, headers=auth)
    assert (await stored(user["id"])).password_expired is False
    error(await client.patch(url, json={"isExpired": "yes"}, headers=auth), 400, "guard.invalid_input")


# suspension and logto config


async def test_suspend_and_reinstate(client: AsyncClient, auth: dict[str, str]) -> None:
    user = await create(client, auth)
    url = f"/api/users/{user['id']}/is-suspended"
    response = await client.patch(url, json={"isSuspended": True}, headers=auth)
    assert response.status_code == 200 and response.json()["isSuspended"] is True
    assert (await client.get(f"/api/users/{user['id']}", headers=auth)).json()["isSuspended"] is True
    assert (await client.patch(url, json={"isSuspended": False}, headers=auth)).json()["isSuspended"] is False
    error(await client.patch(url, json={}, headers=auth), 400, "guard.invalid_input")


async def test_logto_configs(client: AsyncClient, auth: dict[str, str]) -> None:
    user = await create(client, auth)
    url = f"/api/users/{user['id']}/logto-configs"
    assert (await client.get(url, headers=auth)).json() == {
        "mfa": {"skipped": False, "skipMfaOnSignIn": False},
        "passkeySignIn": {"skipped": False},
    }
    response = await client.patch(url, json={"mfa": {"enabled": True, "skipped": True}}, headers=auth)
    assert response.status_code == 200
    assert response.json() == {
        "mfa": {"enabled": True, "skipped": True, "skipMfaOnSignIn": False},
        "passkeySignIn": {"skipped": False},
    }
    response = await client.patch(
        url,
        json={
            "mfa": {"skipMfaOnSignIn": True, "additionalBindingSuggestionSkipped": True},
            "passkeySignIn": {"skipped": True},
        },
        headers=auth,
    )
    expected = {"mfa": {"enabled": True, "skipped": True, "skipMfaOnSignIn": True}, "passkeySignIn": {"skipped": True}}
    assert response.json() == expected
    assert (await client.get(url, headers=auth)).json() == expected
    assert (await client.patch(url, json={}, headers=auth)).json() == expected
    error(await client.patch(url, json={"mfa": {"enabled": "on"}}, headers=auth), 400, "guard.invalid_input")


# events


async def test_user_events_reach_nats_without_password_material(
    client: AsyncClient, auth: dict[str, str], nats_url: str, subject_prefix: str
) -> None:
    nc = await nats.connect(nats_url)
    received: asyncio.Queue[Any] = asyncio.Queue()
    sub = await nc.subscribe(f"{subject_prefix}.evt.default.identity.User.>", cb=received.put)
    try:
        user = await create(client, auth, password="evt-Secret-1", name="evented")
        base = f"/api/users/{user['id']}"
        await client.patch(base, json={"name": "renamed"}, headers=auth)
        await client.patch(f"{base}/custom-data", json={"customData": {"k": "v"}}, headers=auth)
        await client.patch(f"{base}/password", json={"password": "evt-Secret-2"}, headers=auth)
        await client.patch(f"{base}/is-suspended", json={"isSuspended": True}, headers=auth)
        await client.delete(base, headers=auth)
        seen: list[dict[str, Any]] = []
        while len(seen) < 6:
            msg = await asyncio.wait_for(received.get(), 5)
            event = msgspec.json.decode(msg.data)
            if event["subject"] != user["id"]:
                continue
            assert msg.headers["Nats-Msg-Id"] == event["id"]
            assert event["source"] == "/gatehouse/identity" and event["tenantid"] == "default"
            assert event["actor"]["type"] == "application"
            raw = msg.data.decode()
            assert "evt-Secret" not in raw and "$argon2" not in raw and "passwordEncrypted" not in raw
            seen.append(event)
        assert [e["type"] for e in seen] == [
            "User.Created",
            "User.Data.Updated",
            "User.Data.Updated",
            "User.Data.Updated",
            "User.SuspensionStatus.Updated",
            "User.Deleted",
        ]
        assert seen[0]["data"]["data"]["name"] == "evented" and seen[0]["data"]["data"]["hasPassword"] is True
        assert seen[1]["data"]["changed"] == ["name"] and seen[1]["data"]["data"]["name"] == "renamed"
        assert seen[2]["data"]["changed"] == ["customData"]
        assert seen[3]["data"]["changed"] == ["password"]
        assert seen[4]["data"]["data"]["isSuspended"] is True
        assert seen[5]["data"]["data"]["id"] == user["id"]
    finally:
        await sub.unsubscribe()
        await nc.close()
