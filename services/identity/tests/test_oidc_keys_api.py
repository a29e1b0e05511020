"""`/api/configs/oidc/...`: Logto's key configuration with graceful rotation, the JWKS it publishes,
the key identity signs with, the `SigningKey.Rotated` event and the platform token validator.

Each test runs identity for a tenant of its own, so rotations never touch other tests' keys."""

import asyncio
import base64
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import nats
import pytest
import pytest_asyncio
from gatehouse_identity.app import create_app
from gatehouse_identity.config import IdentitySettings
from gatehouse_identity.keys.keyring import Keyring
from gatehouse_identity.keys.store import CookieKey, CookieKeyStore
from gatehouse_platform.errors import Unauthorized
from gatehouse_platform.tokens import TokenValidator
from gatehouse_schema.contexts import management_resource_indicator
from gatehouse_testing.issuer import TestIssuer
from gatehouse_testing.plugin import running
from httpx import AsyncClient
from joserfc import jwt
from litestar import Litestar

ISSUER = "http://127.0.0.1:3001/oidc"
PRIVATE = "/api/configs/oidc/private-keys"
COOKIE = "/api/configs/oidc/cookie-keys"


@dataclass
class Identity:
    tenant: str
    client: AsyncClient
    auth: dict[str, str]
    app: Litestar

    @property
    def keyring(self) -> Keyring:
        keyring: Keyring = self.app.state.ctx.components["keyring"]
        return keyring

    async def keys(self, path: str = PRIVATE) -> list[dict[str, Any]]:
        response = await self.client.get(path, headers=self.auth)
        assert response.status_code == 200, response.text
        body: list[dict[str, Any]] = response.json()
        return body

    async def rotate(self, path: str = PRIVATE, **body: Any) -> list[dict[str, Any]]:
        response = await self.client.post(f"{path}/rotate", json=body, headers=self.auth)
        assert response.status_code == 200, response.text
        keys: list[dict[str, Any]] = response.json()
        return keys

    async def cookie_keys(self) -> list[CookieKey]:
        async with self.app.state.ctx.engine.connect() as conn:
            return await CookieKeyStore().all(conn, self.tenant)

    async def jwks_kids(self) -> list[str]:
        return [k["kid"] for k in (await self.client.get("/oidc/jwks")).json()["keys"]]

    def sign(self) -> str:
        """An access token signed the way the token endpoint signs: with the keyring's signing key."""
        key = self.keyring.signing_key
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": "app", "client_id": "app", "scope": "all", "iat": now, "exp": now + 600}
        return jwt.encode({"alg": key.alg, "typ": "at+jwt", "kid": key.kid}, claims, key.key, algorithms=[key.alg])

    def validator(self, refetch_interval: float = 1.0) -> TokenValidator:
        async def fetch() -> dict[str, Any]:
            body: dict[str, Any] = (await self.client.get("/oidc/jwks")).json()
            return body

        return TokenValidator(fetch, ISSUER, refetch_interval=refetch_interval)


@pytest.fixture
def start_identity(make_settings: Callable[..., Any], test_issuer: TestIssuer) -> Callable[[str], Any]:
    def start(tenant: str) -> Any:
        settings = make_settings(IdentitySettings, identity_url=test_issuer.url, default_tenant_id=tenant)
        return create_app(settings)

    return start


@pytest_asyncio.fixture
async def identity(start_identity: Callable[[str], Litestar], test_issuer: TestIssuer) -> AsyncIterator[Identity]:
    tenant = "keys" + secrets.token_hex(4)
    app = start_identity(tenant)
    async with running(app) as client:
        auth = test_issuer.management_headers(audience=management_resource_indicator(tenant))
        yield Identity(tenant, client, auth, app)


@pytest_asyncio.fixture
async def rotations(nats_url: str, subject_prefix: str, identity: Identity) -> AsyncIterator["asyncio.Queue[Any]"]:
    """The tenant's `SigningKey.Rotated` events, decoded, as the outbox relay publishes them."""
    nc = await nats.connect(nats_url)
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def received(msg: Any) -> None:
        await queue.put(msgspec.json.decode(msg.data))

    sub = await nc.subscribe(f"{subject_prefix}.evt.{identity.tenant}.identity.SigningKey.Rotated", cb=received)
    yield queue
    await sub.unsubscribe()
    await nc.close()


def kid_of(token: str) -> str:
    head = token.split(".", 1)[0]
    kid: str = msgspec.json.decode(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))["kid"]
    return kid


async def next_event(queue: "asyncio.Queue[Any]", timeout: float = 5.0) -> Any:
    return await asyncio.wait_for(queue.get(), timeout)


# listing


async def test_first_start_lists_one_current_ec_key_without_key_material(identity: Identity) -> None:
    keys = await identity.keys()

    assert len(keys) == 1
    (only,) = keys
    assert set(only) == {"id", "createdAt", "signingKeyAlgorithm", "status"}
    assert only["status"] == "Current" and only["signingKeyAlgorithm"] == "EC"
    assert abs(only["createdAt"] - time.time()) < 60  # seconds, as Logto
    assert await identity.jwks_kids() == [only["id"]]


async def test_first_start_generates_one_cookie_key_listed_without_its_secret(identity: Identity) -> None:
    keys = await identity.keys(COOKIE)

    assert len(keys) == 1 and set(keys[0]) == {"id", "createdAt"}
    (stored,) = await identity.cookie_keys()
    assert stored.id == keys[0]["id"] and len(stored.secret) >= 32 and stored.secret not in str(keys)


async def test_unknown_key_type_is_a_bad_request(identity: Identity) -> None:
    response = await identity.client.get("/api/configs/oidc/public-keys", headers=identity.auth)

    assert response.status_code == 400 and response.json()["code"] == "guard.invalid_input"


async def test_key_routes_need_a_management_api_token(identity: Identity, test_issuer: TestIssuer) -> None:
    anonymous = await identity.client.get(PRIVATE)
    other_tenant = await identity.client.post(f"{PRIVATE}/rotate", json={}, headers=test_issuer.management_headers())

    assert anonymous.status_code == 401 and anonymous.json()["code"] == "auth.authorization_header_missing"
    assert other_tenant.status_code == 401
    assert len(await identity.keys()) == 1


# rotation


async def test_rotation_with_grace_publishes_the_next_key_but_keeps_signing_with_the_current_one(
    identity: Identity,
) -> None:
    (old,) = await identity.keys()

    keys = await identity.rotate(signingKeyAlgorithm="RSA", rotationGracePeriod=3600)

    assert [k["status"] for k in keys] == ["Next", "Current"]
    new = keys[0]
    assert new["signingKeyAlgorithm"] == "RSA" and keys[1]["id"] == old["id"]
    assert abs(new["effectiveAt"] - (time.time() + 3600) * 1000) < 60_000  # milliseconds, as Logto
    assert "effectiveAt" not in keys[1]
    assert set(await identity.jwks_kids()) == {old["id"], new["id"]}
    assert identity.keyring.signing_key.kid == old["id"]
    assert kid_of(identity.sign()) == old["id"]
    assert await identity.keys() == keys


async def test_rotation_without_grace_signs_with_the_new_key_at_once(identity: Identity) -> None:
    (old,) = await identity.keys()

    keys = await identity.rotate(rotationGracePeriod=0)

    assert [k["status"] for k in keys] == ["Current", "Previous"] and keys[1]["id"] == old["id"]
    assert identity.keyring.signing_key.kid == keys[0]["id"] != old["id"]
    assert (await identity.jwks_kids())[0] == keys[0]["id"]  # the signing key first, as oidc-provider does
    assert set(await identity.jwks_kids()) == {k["id"] for k in keys}


async def test_empty_rotation_body_rotates_an_ec_key_immediately(identity: Identity) -> None:
    keys = await identity.rotate()

    assert [(k["status"], k["signingKeyAlgorithm"]) for k in keys] == [("Current", "EC"), ("Previous", "EC")]


async def test_next_key_takes_over_at_its_effective_time(identity: Identity, rotations: "asyncio.Queue[Any]") -> None:
    first = (await identity.rotate(rotationGracePeriod=0))[1]["id"]  # now there is a Previous key
    await next_event(rotations)
    keys = await identity.rotate(rotationGracePeriod=1)
    staged = await next_event(rotations)
    next_id, current_id = keys[0]["id"], keys[1]["id"]
    assert staged["data"]["keyIds"] == [next_id, current_id, first]

    promotion = await next_event(rotations)  # the promotion timer writes the promotion down

    assert promotion["actor"]["type"] == "system"
    assert promotion["data"]["keyIds"] == [next_id, current_id]
    assert [(k["id"], k["status"]) for k in await identity.keys()] == [(next_id, "Current"), (current_id, "Previous")]
    assert identity.keyring.signing_key.kid == next_id
    assert set(await identity.jwks_kids()) == {next_id, current_id}  # the older Previous key is gone


async def test_second_rotation_while_a_key_is_pending_is_refused(identity: Identity) -> None:
    staged = await identity.rotate(rotationGracePeriod=3600)

    response = await identity.client.post(f"{PRIVATE}/rotate", json={"rotationGracePeriod": 0}, headers=identity.auth)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "oidc.invalid_request" and "already pending" in body["message"]
    assert body["data"]["nextKeyId"] == staged[0]["id"]
    assert await identity.keys() == staged


async def test_at_most_one_previous_key_is_kept(identity: Identity) -> None:
    (first,) = await identity.keys()
    await identity.rotate()

    keys = await identity.rotate()

    assert [k["status"] for k in keys] == ["Current", "Previous"]
    assert first["id"] not in {k["id"] for k in keys}
    assert first["id"] not in await identity.jwks_kids()


@pytest.mark.parametrize("body", [{"signingKeyAlgorithm": "HMAC"}, {"rotationGracePeriod": -1}])
async def test_invalid_rotation_body_is_a_bad_request(identity: Identity, body: dict[str, Any]) -> None:
    response = await identity.client.post(f"{PRIVATE}/rotate", json=body, headers=identity.auth)

    assert response.status_code == 400 and response.json()["code"] == "guard.invalid_input"
    assert len(await identity.keys()) == 1


async def test_cookie_key_rotation_keeps_the_two_newest_keys(identity: Identity) -> None:
    (first,) = await identity.keys(COOKIE)
    second = (await identity.rotate(COOKIE))[0]

    keys = await identity.rotate(COOKIE)

    assert [k["id"] for k in keys][1:] == [second["id"]] and first["id"] not in {k["id"] for k in keys}
    assert [k.id for k in await identity.cookie_keys()] == [k["id"] for k in keys]


# deletion


async def test_only_the_previous_key_can_be_deleted(identity: Identity) -> None:
    current, previous = await identity.rotate()
    staged = (await identity.rotate(rotationGracePeriod=3600))[0]

    for key in (current, staged):
        response = await identity.client.delete(f"{PRIVATE}/{key['id']}", headers=identity.auth)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "oidc.only_previous_key_can_be_deleted"

    deleted = await identity.client.delete(f"{PRIVATE}/{previous['id']}", headers=identity.auth)

    assert deleted.status_code == 204
    assert [k["id"] for k in await identity.keys()] == [staged["id"], current["id"]]
    assert previous["id"] not in await identity.jwks_kids()


async def test_deleting_an_unknown_key_is_not_found(identity: Identity) -> None:
    await identity.rotate()

    response = await identity.client.delete(f"{PRIVATE}/no-such-key", headers=identity.auth)

    assert response.status_code == 404
    assert response.json() == {"code": "oidc.key_not_found", "message": "Key with ID no-such-key is not found."}


async def test_the_only_key_cannot_be_deleted(identity: Identity) -> None:
    (only,) = await identity.keys()
    (cookie,) = await identity.keys(COOKIE)

    for path in (f"{PRIVATE}/{only['id']}", f"{COOKIE}/{cookie['id']}"):
        response = await identity.client.delete(path, headers=identity.auth)
        assert response.status_code == 422 and response.json()["code"] == "oidc.key_required"


async def test_any_cookie_key_but_the_last_can_be_deleted(identity: Identity) -> None:
    newest, older = await identity.rotate(COOKIE)

    response = await identity.client.delete(f"{COOKIE}/{newest['id']}", headers=identity.auth)

    assert response.status_code == 204
    assert [k["id"] for k in await identity.keys(COOKIE)] == [older["id"]]


# events and validation elsewhere


async def test_rotation_and_deletion_commit_signing_key_rotated_events(
    identity: Identity, rotations: "asyncio.Queue[Any]"
) -> None:
    current, previous = await identity.rotate()
    rotated = await next_event(rotations)
    await identity.client.delete(f"{PRIVATE}/{previous['id']}", headers=identity.auth)
    deleted = await next_event(rotations)
    await identity.rotate(COOKIE)
    cookie = await next_event(rotations)

    assert rotated["type"] == "SigningKey.Rotated" and rotated["tenantid"] == identity.tenant
    assert rotated["source"] == "/gatehouse/identity" and rotated["actor"]["type"] == "application"
    assert rotated["data"] == {"keyIds": [current["id"], previous["id"]], "keyType": "private-keys"}
    assert deleted["data"] == {"keyIds": [current["id"]], "keyType": "private-keys"}
    assert cookie["data"]["keyType"] == "cookie-keys" and len(cookie["data"]["keyIds"]) == 2


async def test_a_refused_rotation_commits_nothing(identity: Identity, rotations: "asyncio.Queue[Any]") -> None:
    await identity.rotate(rotationGracePeriod=3600)
    await next_event(rotations)

    response = await identity.client.post(f"{PRIVATE}/rotate", json={}, headers=identity.auth)

    assert response.status_code == 422
    with pytest.raises(TimeoutError):
        await next_event(rotations, timeout=1.0)


async def test_token_issued_before_rotation_still_validates_after_it(
    identity: Identity, rotations: "asyncio.Queue[Any]"
) -> None:
    validator = identity.validator()
    before = identity.sign()
    await validator.validate(before)

    await identity.rotate()
    await next_event(rotations)
    validator.invalidate_keys()  # what every service does on the event
    after = identity.sign()

    assert (await validator.validate(before)).sub == "app"
    assert (await validator.validate(after)).sub == "app"


async def test_token_of_a_deleted_previous_key_stops_validating_after_the_event(
    identity: Identity, rotations: "asyncio.Queue[Any]"
) -> None:
    validator = identity.validator()
    before = identity.sign()
    await validator.validate(before)
    _, previous = await identity.rotate()
    await identity.client.delete(f"{PRIVATE}/{previous['id']}", headers=identity.auth)
    await next_event(rotations)
    await next_event(rotations)

    validator.invalidate_keys()

    with pytest.raises(Unauthorized):
        await validator.validate(before)


async def test_token_signed_by_a_key_unknown_to_the_validator_validates_after_refetch(identity: Identity) -> None:
    validator = identity.validator(refetch_interval=0.0)
    await validator.validate(identity.sign())  # the validator now holds the JWKS of one key

    await identity.rotate()  # no event reaches this validator
    token = identity.sign()

    assert (await validator.validate(token)).client_id == "app"


async def test_another_replica_follows_a_rotation_through_the_event(
    identity: Identity, start_identity: Callable[[str], Litestar], monkeypatch: pytest.MonkeyPatch
) -> None:
    replica_app = start_identity(identity.tenant)
    async with running(replica_app) as replica_client:
        replica = Identity(identity.tenant, replica_client, identity.auth, replica_app)
        (old,) = await replica.keys()
        assert replica.keyring.signing_key.kid == old["id"]
        reloaded = asyncio.Event()
        load = replica.keyring.load

        async def load_and_tell() -> None:  # what the replica runs when the event arrives
            await load()
            reloaded.set()

        monkeypatch.setattr(replica.keyring, "load", load_and_tell)

        keys = await identity.rotate()

        await asyncio.wait_for(reloaded.wait(), 5)
        assert replica.keyring.signing_key.kid == keys[0]["id"]
        assert set(await replica.jwks_kids()) == {k["id"] for k in keys}


# session config


async def test_session_config_defaults_to_fourteen_days(identity: Identity) -> None:
    response = await identity.client.get("/api/configs/oidc/session", headers=identity.auth)

    assert response.status_code == 200 and response.json() == {"ttl": 14 * 24 * 3600}


async def test_session_config_is_updated_partially_and_kept(identity: Identity) -> None:
    path = "/api/configs/oidc/session"

    updated = await identity.client.patch(path, json={"ttl": 3600}, headers=identity.auth)
    unchanged = await identity.client.patch(path, json={}, headers=identity.auth)

    assert updated.status_code == 200 and updated.json() == {"ttl": 3600}
    assert unchanged.json() == {"ttl": 3600}
    assert (await identity.client.get(path, headers=identity.auth)).json() == {"ttl": 3600}


@pytest.mark.parametrize("ttl", [0, -5, "long", 10**9])
async def test_invalid_session_ttl_is_a_bad_request(identity: Identity, ttl: Any) -> None:
    response = await identity.client.patch("/api/configs/oidc/session", json={"ttl": ttl}, headers=identity.auth)

    assert response.status_code == 400 and response.json()["code"] == "guard.invalid_input"
