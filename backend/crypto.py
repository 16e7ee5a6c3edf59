"""Encryption of stored secrets: a MultiFernet keyring and the column types that use it."""

from __future__ import annotations

import json
import logging
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)


class KeyringNotConfigured(RuntimeError):
    """Encrypted columns were used before `configure_keyring()` ran (create_app does it)."""


class Keyring:
    """MultiFernet over ENCRYPTION_KEYS: the first key encrypts, every key decrypts."""

    def __init__(self, keys: tuple[str, ...] | list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self.fernets = [Fernet(k.encode() if isinstance(k, str) else k) for k in keys]
        self.multi = MultiFernet(self.fernets)

    def encrypt(self, plaintext: bytes) -> str:
        return self.multi.encrypt(plaintext).decode("ascii")

    def decrypt(self, token: str) -> bytes:
        return self.multi.decrypt(token.encode("ascii"))

    def rotate(self, token: str) -> str:
        """Re-encrypt TOKEN under the newest key."""
        return self.multi.rotate(token.encode("ascii")).decode("ascii")

    def is_current(self, token: str) -> bool:
        """True when TOKEN is encrypted under the newest key."""
        try:
            self.fernets[0].decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True


# The column types below are created at import time but only reach for the keyring when a value is
# bound or loaded, so the process-wide keyring is installed by create_app(), not by importing this module.
_keyring: Keyring | None = None


def configure_keyring(keyring: Keyring) -> None:
    """Install the keyring used by encrypted columns in this process."""
    global _keyring
    _keyring = keyring


def get_keyring() -> Keyring:
    if _keyring is None:
        raise KeyringNotConfigured("encryption keyring is not configured")
    return _keyring


class Undecryptable(dict[str, Any]):
    """An encrypted value that none of the configured keys opens (its key was removed from ENCRYPTION_KEYS): empty,
    and recognisable, so that one such row makes its account or channel need attention instead of failing every
    query that loads it."""


UNDECRYPTABLE_MESSAGE = (
    "The stored credentials cannot be decrypted with the configured ENCRYPTION_KEYS (was a key removed?): "
    "restore the key or enter the credentials again."
)


class EncryptedJSON(TypeDecorator[dict[str, Any]]):
    """A JSON object stored as one Fernet token (text); decrypted transparently on load."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return get_keyring().encrypt(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())

    def process_result_value(self, value: str | None, dialect: Dialect) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            data = json.loads(get_keyring().decrypt(value))
        except InvalidToken:
            log.warning("an encrypted value could not be decrypted with any configured key")
            return Undecryptable()
        return data if isinstance(data, dict) else {}


def mask_secret(value: str) -> str:
    """A hint that identifies a secret without revealing it: `sk-…a1b2`.

    The hint never shows more than a third of the secret: short secrets show nothing, and a prefix such
    as `sk-` is kept only for secrets long enough to hide the rest.
    """
    if not value:
        return ""
    if len(value) < 12:
        return "…"
    head, sep, _ = value[:8].partition("-")
    prefix = head + sep if sep else ""
    if (len(prefix) + 4) * 3 > len(value):
        prefix = ""
    return f"{prefix}…{value[-4:]}"
