"""The token validator across key rotations: keys published after its last fetch, keys withdrawn."""

import time
from typing import Any

import pytest
from gatehouse_platform.errors import Unauthorized
from gatehouse_platform.tokens import TokenValidator
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

ISSUER = "http://127.0.0.1:3001/oidc"


class Issuer:
    """An identity stand-in: signs with any of its keys, serves whichever keys it publishes."""

    def __init__(self) -> None:
        self.keys: dict[str, ECKey | RSAKey] = {}
        self.published: list[str] = []
        self.fetches = 0

    def add_key(self, kind: str = "EC") -> str:
        key: ECKey | RSAKey = (
            ECKey.generate_key("P-384", private=True, auto_kid=True)
            if kind == "EC"
            else RSAKey.generate_key(2048, private=True, auto_kid=True)
        )
        assert key.kid
        self.keys[key.kid] = key
        self.published.append(key.kid)
        return key.kid

    def withdraw(self, kid: str) -> None:
        self.published.remove(kid)

    def sign(self, kid: str) -> str:
        key = self.keys[kid]
        alg = "ES384" if isinstance(key, ECKey) else "RS256"
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": "app", "client_id": "app", "scope": "all", "iat": now, "exp": now + 600}
        return jwt.encode({"alg": alg, "kid": kid, "typ": "at+jwt"}, claims, key, algorithms=[alg])

    async def fetch(self) -> dict[str, Any]:
        self.fetches += 1
        return {"keys": [self.keys[kid].as_dict(private=False) for kid in self.published]}


@pytest.fixture
def issuer() -> Issuer:
    identity = Issuer()
    identity.add_key()
    return identity


async def test_token_signed_by_a_key_published_after_the_last_fetch_validates_after_refetch(issuer: Issuer) -> None:
    validator = TokenValidator(issuer.fetch, ISSUER, refetch_interval=0.0)
    await validator.validate(issuer.sign(issuer.published[0]))
    new_kid = issuer.add_key("RSA")

    claims = await validator.validate(issuer.sign(new_kid))

    assert claims.client_id == "app"
    assert issuer.fetches == 2


async def test_unknown_kids_refetch_at_most_once_per_interval(issuer: Issuer) -> None:
    validator = TokenValidator(issuer.fetch, ISSUER, refetch_interval=60.0)
    await validator.validate(issuer.sign(issuer.published[0]))
    new_kid = issuer.add_key()

    for _ in range(3):  # within the interval: no refetch, so the new key is not known yet
        with pytest.raises(Unauthorized):
            await validator.validate(issuer.sign(new_kid))

    assert issuer.fetches == 1


async def test_rotation_event_lets_a_new_key_in_at_once_despite_the_interval(issuer: Issuer) -> None:
    validator = TokenValidator(issuer.fetch, ISSUER, refetch_interval=60.0)
    await validator.validate(issuer.sign(issuer.published[0]))
    new_kid = issuer.add_key()

    validator.invalidate_keys()

    assert (await validator.validate(issuer.sign(new_kid))).sub == "app"
    assert issuer.fetches == 2


async def test_rotation_event_drops_a_withdrawn_key_and_tokens_verified_with_it(issuer: Issuer) -> None:
    validator = TokenValidator(issuer.fetch, ISSUER, refetch_interval=60.0)
    old_kid = issuer.published[0]
    old_token = issuer.sign(old_kid)
    await validator.validate(old_token)
    issuer.add_key()
    issuer.withdraw(old_kid)
    assert (await validator.validate(old_token)).sub == "app"  # cached: nobody said the keys changed

    validator.invalidate_keys()

    with pytest.raises(Unauthorized):
        await validator.validate(old_token)
    assert issuer.fetches == 2


async def test_token_signed_by_a_still_published_previous_key_keeps_validating_after_the_event(
    issuer: Issuer,
) -> None:
    validator = TokenValidator(issuer.fetch, ISSUER, refetch_interval=60.0)
    old_token = issuer.sign(issuer.published[0])
    await validator.validate(old_token)
    issuer.add_key()  # the old key stays published (as Previous)

    validator.invalidate_keys()

    assert (await validator.validate(old_token)).sub == "app"
    assert issuer.fetches == 2


async def test_failed_refetch_after_the_event_keeps_the_known_keys(issuer: Issuer) -> None:
    calls = 0

    async def flaky() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise ConnectionError("identity is restarting")
        return await issuer.fetch()

    validator = TokenValidator(flaky, ISSUER, refetch_interval=60.0)
    token = issuer.sign(issuer.published[0])
    await validator.validate(token)

    validator.invalidate_keys()

    assert (await validator.validate(token)).sub == "app"
    assert calls == 2
