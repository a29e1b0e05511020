"""Envelope encryption of the secret vault (as Logto's): each secret gets its own data key (AES-256-GCM); the
data key is stored encrypted with the vault's key-encryption key, as its nonce, ciphertext and tag."""

import base64
import binascii
import os

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE, TAG = 12, 16


class Sealed(msgspec.Struct, frozen=True, kw_only=True):
    encrypted_dek: bytes
    iv: bytes
    auth_tag: bytes
    ciphertext: bytes


class VaultKeyError(ValueError):
    pass


def parse_kek(value: str) -> bytes | None:
    """The key-encryption key from its base64 form; None when unset; VaultKeyError when it is not 32 bytes."""
    if not value:
        return None
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise VaultKeyError("SECRET_VAULT_KEK is not base64") from None
    if len(key) != 32:
        raise VaultKeyError("SECRET_VAULT_KEK must hold 32 bytes (AES-256)")
    return key


def _split(sealed: bytes) -> tuple[bytes, bytes]:
    return sealed[:-TAG], sealed[-TAG:]


class SecretVault:
    def __init__(self, kek: bytes) -> None:
        self._kek = AESGCM(kek)

    def seal(self, plaintext: bytes) -> Sealed:
        dek = AESGCM.generate_key(bit_length=256)
        iv = os.urandom(NONCE)
        ciphertext, tag = _split(AESGCM(dek).encrypt(iv, plaintext, None))
        dek_iv = os.urandom(NONCE)
        return Sealed(
            encrypted_dek=dek_iv + self._kek.encrypt(dek_iv, dek, None), iv=iv, auth_tag=tag, ciphertext=ciphertext
        )

    def open(self, sealed: Sealed) -> bytes:
        """The plaintext; VaultKeyError if the vault's key is not the one it was sealed with (or it was altered)."""
        try:
            dek = self._kek.decrypt(sealed.encrypted_dek[:NONCE], sealed.encrypted_dek[NONCE:], None)
            return AESGCM(dek).decrypt(sealed.iv, sealed.ciphertext + sealed.auth_tag, None)
        except InvalidTag:
            raise VaultKeyError("the secret cannot be opened with this vault key") from None
