"""The keyring and the secret hints."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken

from backend.crypto import Keyring, mask_secret


@pytest.mark.parametrize(
    ("secret", "hint"),
    [
        ("", ""),
        ("short", "…"),
        ("s3cret-pa", "…"),
        ("abcdefg-xy", "…"),
        ("sk-proj-abcdefghijklmnopqrstuvwxyz0123", "sk-…0123"),
        ("sk-ant-admin01-abcdefghijklmnop", "sk-…mnop"),
        ("demo-new-key-999999", "…9999"),
        ("nohyphenatallbutlong", "…long"),
    ],
)
def test_hints_show_little(secret, hint):
    assert mask_secret(secret) == hint


@pytest.mark.parametrize("length", range(1, 40))
def test_a_hint_never_reveals_more_than_a_third(length):
    secret = ("ab-" + "x" * 40)[:length]
    shown = mask_secret(secret).replace("…", "")
    assert len(shown) * 3 <= max(len(secret), 1)


def test_keyring_encrypts_with_first_decrypts_with_all():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = Keyring([old]).encrypt(b"payload")
    both = Keyring([new, old])
    assert both.decrypt(token) == b"payload"
    assert not both.is_current(token)
    rotated = both.rotate(token)
    assert both.is_current(rotated)
    with pytest.raises(InvalidToken):
        Keyring([old]).decrypt(rotated)
