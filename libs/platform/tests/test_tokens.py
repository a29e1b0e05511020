"""Bearer-token validation against a real JWKS endpoint (the plugin's test issuer)."""

import base64
import time
from typing import Any

import msgspec
import pytest
from gatehouse_platform.errors import Forbidden, Unauthorized
from gatehouse_platform.tokens import (
    AccessToken,
    TokenValidator,
    bearer_token,
    http_jwks_fetcher,
    require_audience_and_scope,
)
from gatehouse_schema.contexts import management_resource_indicator
from gatehouse_testing.issuer import TestIssuer
from joserfc import jwt
from joserfc.jwk import ECKey

MANAGEMENT_API = management_resource_indicator("default")


class CountingValidator(TokenValidator):
    """Counts JWKS fetches and signature verifications."""

    def __init__(self, issuer: TestIssuer) -> None:
        fetch = http_jwks_fetcher(issuer.url + "/oidc/jwks")
        self.fetches = 0
        self.verifications = 0

        async def counting_fetch() -> dict[str, Any]:
            self.fetches += 1
            return await fetch()

        super().__init__(counting_fetch, issuer.issuer)

    async def _verify(self, token: str, now: int) -> AccessToken:
        self.verifications += 1
        return await super()._verify(token, now)


@pytest.fixture
def validator(test_issuer: TestIssuer) -> CountingValidator:
    return CountingValidator(test_issuer)


def signed_by_other_key(test_issuer: TestIssuer, kid: str) -> str:
    """A well-formed token with the issuer's claims, signed by a key the JWKS does not have."""
    other = ECKey.generate_key("P-384", private=True)
    now = int(time.time())
    claims = {"iss": test_issuer.issuer, "sub": "c", "aud": MANAGEMENT_API, "scope": "all", "exp": now + 600}
    return jwt.encode({"alg": "ES384", "kid": kid}, claims, other, algorithms=["ES384"])


def b64(value: object) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(value)).rstrip(b"=").decode()


async def test_valid_token_yields_its_claims(validator: CountingValidator, test_issuer: TestIssuer) -> None:
    token = test_issuer.mint(scope="all read:x", client_id="m2m-app")

    claims = await validator.validate(token)

    assert claims.iss == test_issuer.issuer
    assert claims.client_id == "m2m-app"
    assert claims.sub == "m2m-app"
    assert claims.has_audience(MANAGEMENT_API)
    assert claims.scopes == {"all", "read:x"}


async def test_expired_token_is_unauthorized(validator: CountingValidator, test_issuer: TestIssuer) -> None:
    token = test_issuer.mint(ttl=-3600)

    with pytest.raises(Unauthorized) as caught:
        await validator.validate(token)

    assert caught.value.code == "auth.unauthorized" and caught.value.status == 401


async def test_token_from_another_issuer_is_unauthorized(validator: CountingValidator, test_issuer: TestIssuer) -> None:
    token = test_issuer.mint(issuer="http://evil.example/oidc")

    with pytest.raises(Unauthorized) as caught:
        await validator.validate(token)

    assert caught.value.code == "auth.unauthorized"


async def test_token_with_bad_signature_is_unauthorized(validator: CountingValidator, test_issuer: TestIssuer) -> None:
    token = signed_by_other_key(test_issuer, kid=test_issuer.key.kid or "")

    with pytest.raises(Unauthorized) as caught:
        await validator.validate(token)

    assert caught.value.code == "auth.unauthorized"


async def test_token_with_unknown_kid_is_unauthorized_after_refetching_jwks(
    validator: CountingValidator, test_issuer: TestIssuer
) -> None:
    token = signed_by_other_key(test_issuer, kid="no-such-key")

    with pytest.raises(Unauthorized) as caught:
        await validator.validate(token)

    assert caught.value.code == "auth.unauthorized"
    assert validator.fetches == 1


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "garbage",
        "a.b.c",
        "MQ.e30.sig",  # header `1`: JSON, but not an object
        b64([]) + ".e30.sig",  # header `[]`
        b64({"alg": "none", "kid": "k"}) + "." + b64({"iss": "x"}) + ".",
        b64({"alg": "ES384"}) + ".e30.sig",  # no kid
    ],
)
async def test_garbage_token_is_unauthorized(validator: CountingValidator, garbage: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        await validator.validate(garbage)

    assert caught.value.code == "auth.unauthorized"


async def test_second_validation_of_same_token_is_served_from_cache(
    validator: CountingValidator, test_issuer: TestIssuer
) -> None:
    token = test_issuer.mint()

    first = await validator.validate(token)
    second = await validator.validate(token)

    assert second is first
    assert validator.verifications == 1
    assert validator.fetches == 1


async def test_keys_are_fetched_once_for_many_tokens(validator: CountingValidator, test_issuer: TestIssuer) -> None:
    for _ in range(3):
        await validator.validate(test_issuer.mint())

    assert validator.verifications == 3
    assert validator.fetches == 1


def test_missing_authorization_header_is_reported() -> None:
    for header in (None, ""):
        with pytest.raises(Unauthorized) as caught:
            bearer_token(header)
        assert caught.value.code == "auth.authorization_header_missing"


def test_non_bearer_authorization_is_not_supported() -> None:
    for header in ("Basic x", "Bearer", "Bearer   "):
        with pytest.raises(Unauthorized) as caught:
            bearer_token(header)
        assert caught.value.code == "auth.authorization_token_type_not_supported"


def test_bearer_token_is_extracted_case_insensitively() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer abc ") == "abc"


async def test_token_for_another_resource_is_unauthorized(
    validator: CountingValidator, test_issuer: TestIssuer
) -> None:
    token = await validator.validate(test_issuer.mint(audience="https://api.other.example"))

    with pytest.raises(Unauthorized) as caught:
        require_audience_and_scope(token, MANAGEMENT_API, "all")

    assert caught.value.status == 401 and caught.value.code == "auth.unauthorized"


async def test_token_without_required_scope_is_forbidden(validator: CountingValidator, test_issuer: TestIssuer) -> None:
    token = await validator.validate(test_issuer.mint(scope="read:x"))

    with pytest.raises(Forbidden) as caught:
        require_audience_and_scope(token, MANAGEMENT_API, "all")

    assert caught.value.status == 403 and caught.value.code == "auth.forbidden"


async def test_token_with_audience_and_scope_passes(validator: CountingValidator, test_issuer: TestIssuer) -> None:
    token = await validator.validate(test_issuer.mint(scope="all"))

    require_audience_and_scope(token, MANAGEMENT_API, "all")
