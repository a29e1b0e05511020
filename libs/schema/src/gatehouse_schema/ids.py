"""Identifiers in Logto's format (21-character lowercase nanoids) and UUIDv7 event ids."""

import secrets

import uuid_utils

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def generate_id(size: int = 21) -> str:
    """A random id like Logto's: lowercase letters and digits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(size))


def generate_secret(size: int = 32) -> str:
    """A client secret: letters and digits, as Logto generates them."""
    alphabet = _ALPHABET + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(size))


def event_id() -> str:
    """Time-ordered UUIDv7, so event ids sort by creation."""
    return str(uuid_utils.uuid7())
