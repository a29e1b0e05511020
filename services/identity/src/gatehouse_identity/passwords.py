"""Password digests: argon2id for every password set here, and verification of each algorithm Logto
imports (`Argon2i`, `Argon2id`, `Argon2d`, `SHA1`, `SHA256`, `MD5`, `Bcrypt`, `Legacy`).

Hashing and verifying are CPU- and memory-bound, so they never run on the event loop: `PasswordHasher`
runs them in worker threads, at most `concurrency` at a time (each argon2 hash holds `memory_kib`).
"""

import asyncio
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Literal, get_args

import argon2
import bcrypt
from argon2.exceptions import InvalidHashError, VerificationError

PasswordAlgorithm = Literal["Argon2i", "Argon2id", "Argon2d", "SHA1", "SHA256", "MD5", "Bcrypt", "Legacy"]
ALGORITHMS: tuple[str, ...] = get_args(PasswordAlgorithm)
DEFAULT_ALGORITHM: PasswordAlgorithm = "Argon2id"
ARGON2_ALGORITHMS = frozenset({"Argon2i", "Argon2id", "Argon2d"})
PBKDF2_NAMES = frozenset({"pbkdf2", "pbkdf2Sync"})
BCRYPT_MAX_BYTES = 72  # bcrypt reads no further; longer inputs are cut, as every bcrypt does
MAX_PBKDF2_ITERATIONS = 10_000_000
MAX_PBKDF2_KEYLEN = 1024

# Any argon2 variant verifies with any parameters: they are read from the encoded digest.
_ARGON2_VERIFIER = argon2.PasswordHasher()


class InvalidLegacyDigest(ValueError):
    """A `Legacy` digest that is not `[algorithm, args, expected]` with `@` among the args."""


class UnsupportedLegacyAlgorithm(ValueError):
    def __init__(self, algorithm: str) -> None:
        super().__init__(algorithm)
        self.algorithm = algorithm


@dataclass(frozen=True)
class LegacyDigest:
    algorithm: str
    args: list[str]
    expected: str


def _new_hash(name: str) -> Any:
    """A hashlib object for a Node.js digest name (`sha256`, `SHA256`, `sha3-256`, ...), or None."""
    for candidate in dict.fromkeys((name, name.lower(), name.lower().replace("-", "_"))):
        try:
            h = hashlib.new(candidate)
        except (ValueError, TypeError):
            continue
        if not candidate.lower().startswith("shake"):  # variable-length digests have no fixed hex form
            return h
    return None


def parse_legacy(digest: str) -> LegacyDigest:
    """Reads Logto's `Legacy` format: a JSON `[algorithm, args, expected]`; `@` in args is the password.
    For `pbkdf2`, args are `[salt, iterations, keylen, digest, "@"]` (salt plain or `hex:`-prefixed)."""
    try:
        value = json.loads(digest)
    except ValueError:
        raise InvalidLegacyDigest(digest) from None
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not isinstance(value[0], str)
        or not isinstance(value[1], list)
        or not all(isinstance(a, str) for a in value[1])
        or "@" not in value[1]
        or not isinstance(value[2], str)
    ):
        raise InvalidLegacyDigest(digest)
    algorithm, args, expected = value
    if algorithm in PBKDF2_NAMES:
        if len(args) < 4 or not all(args[:4]):
            raise InvalidLegacyDigest(digest)
        try:
            iterations, keylen = int(args[1]), int(args[2])
        except ValueError:
            raise InvalidLegacyDigest(digest) from None
        in_range = 0 < iterations <= MAX_PBKDF2_ITERATIONS and 0 < keylen <= MAX_PBKDF2_KEYLEN
        if not in_range or _new_hash(args[3]) is None:
            raise InvalidLegacyDigest(digest)
    elif _new_hash(algorithm) is None:
        raise UnsupportedLegacyAlgorithm(algorithm)
    return LegacyDigest(algorithm, list(args), expected)


def _salt(value: str) -> bytes:
    return bytes.fromhex(value[4:]) if value.startswith("hex:") else value.encode()


def legacy_hash(legacy: LegacyDigest, password: str) -> str:
    """The hex digest Logto's `Legacy` method computes for `password`."""
    resolved = [password if a == "@" else a for a in legacy.args]
    if legacy.algorithm in PBKDF2_NAMES:
        salt, iterations, keylen, digest = resolved[:4]
        name = _new_hash(digest).name
        return hashlib.pbkdf2_hmac(name, password.encode(), _salt(salt), int(iterations), int(keylen)).hex()
    h = _new_hash(legacy.algorithm)
    h.update("".join(resolved).encode())
    return str(h.hexdigest())


def _same_hex(computed: str, stored: str) -> bool:
    return hmac.compare_digest(computed.lower().encode(), stored.strip().lower().encode())


def verify_digest(algorithm: str, digest: str, password: str) -> bool:
    """Whether `password` matches a stored digest. Blocking: call it off the event loop."""
    try:
        if algorithm in ARGON2_ALGORITHMS:
            return _ARGON2_VERIFIER.verify(digest, password)
        if algorithm == "MD5":
            return _same_hex(hashlib.md5(password.encode()).hexdigest(), digest)
        if algorithm == "SHA1":
            return _same_hex(hashlib.sha1(password.encode()).hexdigest(), digest)
        if algorithm == "SHA256":
            return _same_hex(hashlib.sha256(password.encode()).hexdigest(), digest)
        if algorithm == "Bcrypt":
            return bcrypt.checkpw(password.encode()[:BCRYPT_MAX_BYTES], digest.encode())
        if algorithm == "Legacy":
            legacy = parse_legacy(digest)
            return _same_hex(legacy_hash(legacy, password), legacy.expected)
    except (VerificationError, InvalidHashError, ValueError, TypeError, OverflowError):
        return False
    return False


class PasswordHasher:
    """Argon2id at the configured cost (OWASP's minimum by default: 19 MiB, 2 passes, 1 lane)."""

    def __init__(
        self, *, memory_kib: int = 19456, time_cost: int = 2, parallelism: int = 1, concurrency: int = 2
    ) -> None:
        self._argon2 = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=argon2.Type.ID,
        )
        self._slots = asyncio.Semaphore(max(1, concurrency))

    def hash_blocking(self, password: str) -> str:
        return self._argon2.hash(password)

    async def hash(self, password: str) -> tuple[str, PasswordAlgorithm]:
        """A new digest of `password` and its algorithm, computed in a worker thread."""
        async with self._slots:
            digest = await asyncio.to_thread(self.hash_blocking, password)
        return digest, DEFAULT_ALGORITHM

    async def verify(self, algorithm: str, digest: str, password: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(verify_digest, algorithm, digest, password)

    def needs_upgrade(self, algorithm: str, digest: str) -> bool:
        """A verified password stored otherwise than as argon2id at the current cost is re-hashed."""
        if algorithm != DEFAULT_ALGORITHM:
            return True
        try:
            return self._argon2.check_needs_rehash(digest)
        except (InvalidHashError, ValueError):
            return True
