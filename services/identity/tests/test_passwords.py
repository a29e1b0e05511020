"""The password module: argon2id hashing off the event loop, and every digest Logto imports."""

import asyncio
import hashlib
import json
import threading
from typing import Any

import bcrypt
import pytest
from argon2 import Type, low_level
from gatehouse_identity import passwords
from gatehouse_identity.passwords import (
    InvalidLegacyDigest,
    PasswordHasher,
    UnsupportedLegacyAlgorithm,
    parse_legacy,
    verify_digest,
)

PASSWORD = "correct horse battery staple ✓"
SALT = b"0123456789abcdef"


def small_hasher(**kwargs: Any) -> PasswordHasher:
    return PasswordHasher(memory_kib=256, time_cost=1, **kwargs)


def argon2(kind: Type, password: str = PASSWORD, *, m: int = 256, t: int = 2, p: int = 1) -> str:
    return low_level.hash_secret(
        password.encode(), SALT, time_cost=t, memory_cost=m, parallelism=p, hash_len=32, type=kind
    ).decode()


def legacy(algorithm: str, args: list[str], expected: str) -> str:
    return json.dumps([algorithm, args, expected])


KNOWN_DIGESTS = {
    "Argon2i": lambda: argon2(Type.I),
    "Argon2id": lambda: argon2(Type.ID),
    "Argon2d": lambda: argon2(Type.D),
    "SHA1": lambda: hashlib.sha1(PASSWORD.encode()).hexdigest(),
    "SHA256": lambda: hashlib.sha256(PASSWORD.encode()).hexdigest(),
    "MD5": lambda: hashlib.md5(PASSWORD.encode()).hexdigest(),
    "Bcrypt": lambda: bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode(),
    "Legacy": lambda: legacy(
        "sha512", ["pepper", "@", "salt"], hashlib.sha512(f"pepper{PASSWORD}salt".encode()).hexdigest()
    ),
}


@pytest.mark.parametrize("algorithm", sorted(KNOWN_DIGESTS))
def test_each_import_algorithm_verifies_its_digest(algorithm: str) -> None:
    digest = KNOWN_DIGESTS[algorithm]()
    assert verify_digest(algorithm, digest, PASSWORD)
    assert not verify_digest(algorithm, digest, PASSWORD + "x")
    assert not verify_digest(algorithm, digest, "")


def test_an_argon2i_hash_as_logto_encodes_it_verifies() -> None:
    digest = argon2(Type.I, "Passw0rd!", m=8192, t=8)
    assert digest.startswith("$argon2i$v=19$m=8192,t=8,p=1$")
    assert verify_digest("Argon2i", digest, "Passw0rd!")
    assert not verify_digest("Argon2i", digest, "passw0rd!")


def test_argon2_digests_verify_whatever_variant_the_method_names() -> None:
    """Like Logto, the variant and cost are read from the encoded digest."""
    assert verify_digest("Argon2i", argon2(Type.ID), PASSWORD)
    assert verify_digest("Argon2id", argon2(Type.D, m=512, t=3), PASSWORD)


def test_hex_digests_compare_in_either_case() -> None:
    assert verify_digest("SHA256", hashlib.sha256(b"pw").hexdigest().upper(), "pw")
    assert verify_digest("MD5", hashlib.md5(b"pw").hexdigest() + "\n", "pw")


@pytest.mark.parametrize("prefix", ["$2a$", "$2b$", "$2y$"])
def test_bcrypt_prefixes_verify(prefix: str) -> None:
    digest = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()
    assert verify_digest("Bcrypt", prefix + digest[4:], "pw")


def test_bcrypt_reads_only_the_first_72_bytes() -> None:
    digest = bcrypt.hashpw(b"a" * 72, bcrypt.gensalt(4)).decode()
    assert verify_digest("Bcrypt", digest, "a" * 100)


def test_legacy_salted_sha256_example() -> None:
    digest = legacy("sha256", ["salt123", "@"], "c465f66c6ac481a7a17e9ed5b4e2e7e7288d892f12bf1c95c140901e9a70436e")
    assert verify_digest("Legacy", digest, "password123")
    assert not verify_digest("Legacy", digest, "password124")


def test_legacy_pbkdf2_with_plain_and_hex_salts() -> None:
    plain = hashlib.pbkdf2_hmac("sha256", b"pw", b"NaCl", 1000, 32).hex()
    assert verify_digest("Legacy", legacy("pbkdf2", ["NaCl", "1000", "32", "sha256", "@"], plain), "pw")
    binary = hashlib.pbkdf2_hmac("sha512", b"pw", bytes([0, 255, 16]), 500, 64).hex()
    assert verify_digest("Legacy", legacy("pbkdf2", ["hex:00ff10", "500", "64", "sha512", "@"], binary), "pw")
    assert not verify_digest("Legacy", legacy("pbkdf2", ["hex:00ff10", "500", "64", "sha512", "@"], binary), "pW")


def test_legacy_accepts_nodes_digest_names() -> None:
    expected = hashlib.sha3_256(b"pw").hexdigest()
    assert verify_digest("Legacy", legacy("sha3-256", ["@"], expected), "pw")
    assert verify_digest("Legacy", legacy("SHA1", ["@"], hashlib.sha1(b"pw").hexdigest()), "pw")


@pytest.mark.parametrize(
    "digest",
    [
        "not json",
        json.dumps({"algorithm": "sha256"}),
        json.dumps(["sha256", ["salt"], "ab"]),  # no `@`
        json.dumps(["sha256", "@", "ab"]),
        json.dumps(["sha256", ["@", 1], "ab"]),
        json.dumps(["pbkdf2", ["salt", "many", "32", "sha256", "@"], "ab"]),
        json.dumps(["pbkdf2", ["salt", "1000", "32", "nope", "@"], "ab"]),
        json.dumps(["pbkdf2", ["salt", "1000", "@"], "ab"]),
    ],
)
def test_malformed_legacy_digests_are_rejected(digest: str) -> None:
    with pytest.raises(InvalidLegacyDigest):
        parse_legacy(digest)
    assert not verify_digest("Legacy", digest, "@")


def test_unknown_legacy_algorithm_is_named() -> None:
    with pytest.raises(UnsupportedLegacyAlgorithm) as raised:
        parse_legacy(legacy("rot13", ["@"], "ab"))
    assert raised.value.algorithm == "rot13"


@pytest.mark.parametrize("algorithm", ["Argon2i", "Argon2id", "Bcrypt", "SHA1", "Legacy", "Unknown"])
def test_garbage_digests_never_match_nor_raise(algorithm: str) -> None:
    for digest in ["", "garbage", "$argon2id$v=19$m=1,t=1,p=1$x$y", "$2b$04$short"]:
        assert not verify_digest(algorithm, digest, "pw")


async def test_new_passwords_are_argon2id_at_the_configured_cost() -> None:
    hasher = small_hasher()
    digest, algorithm = await hasher.hash(PASSWORD)
    assert algorithm == "Argon2id"
    assert digest.startswith("$argon2id$v=19$m=256,t=1,p=1$")
    assert await hasher.verify(algorithm, digest, PASSWORD)
    assert not await hasher.verify(algorithm, digest, "nope")
    second, _ = await hasher.hash(PASSWORD)
    assert second != digest  # salted


def test_owasp_cost_by_default() -> None:
    digest = PasswordHasher().hash_blocking("pw")
    assert digest.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_what_needs_an_upgrade() -> None:
    hasher = small_hasher()
    current = hasher.hash_blocking("pw")
    assert not hasher.needs_upgrade("Argon2id", current)
    assert hasher.needs_upgrade("Argon2id", argon2(Type.ID, m=512))  # another cost
    assert hasher.needs_upgrade("Argon2i", argon2(Type.I, m=256, t=1))
    assert hasher.needs_upgrade("Argon2id", "garbage")
    for algorithm in ("SHA1", "SHA256", "MD5", "Bcrypt", "Legacy", "Argon2d"):
        assert hasher.needs_upgrade(algorithm, KNOWN_DIGESTS[algorithm]())


async def test_hashing_and_verifying_run_in_worker_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    hasher = small_hasher()
    real_hash, real_verify = hasher.hash_blocking, passwords.verify_digest

    def spy_hash(password: str) -> str:
        threads.append(threading.get_ident())
        return real_hash(password)

    def spy_verify(algorithm: str, digest: str, password: str) -> bool:
        threads.append(threading.get_ident())
        return real_verify(algorithm, digest, password)

    monkeypatch.setattr(hasher, "hash_blocking", spy_hash)
    monkeypatch.setattr(passwords, "verify_digest", spy_verify)
    digest, algorithm = await hasher.hash("pw")
    assert await hasher.verify(algorithm, digest, "pw")
    assert len(threads) == 2 and loop_thread not in threads


async def test_at_most_concurrency_hashes_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = small_hasher(concurrency=2)
    running = peak = 0
    lock = threading.Lock()
    real_hash = hasher.hash_blocking

    def slow_hash(password: str) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            threading.Event().wait(0.05)
            return real_hash(password)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(hasher, "hash_blocking", slow_hash)
    await asyncio.gather(*(hasher.hash("pw") for _ in range(6)))
    assert peak == 2
