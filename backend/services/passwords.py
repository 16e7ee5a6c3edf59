"""Password hashing with Argon2id (argon2-cffi defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10


@cache
def _dummy_hash() -> str:
    # Verifying against a real hash costs the same time as a real user's check, so a login for an
    # unknown email is not measurably faster than one for a known email.
    return _hasher.hash("not-a-real-password-used-only-for-timing")


def hash_password(password: str) -> str:
    """Hash PASSWORD for storage."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when PASSWORD matches PASSWORD_HASH (constant work when the user does not exist)."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
