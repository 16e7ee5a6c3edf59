"""Encryption-key maintenance: re-encrypt every stored secret under the newest key."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from sqlalchemy import Table, Text, column, select, table, update
from sqlalchemy.orm import Session

from backend.crypto import EncryptedJSON, Keyring, get_keyring
from backend.models import Base


@dataclass(frozen=True)
class RotationReport:
    rotated: int
    already_current: int
    tables: dict[str, int]
    unreadable: int = 0  # under no configured key: left as they are (their accounts/channels need attention)


def encrypted_columns() -> list[tuple[Table, str]]:
    """Every (table, column name) whose type is an encrypted column."""
    found = []
    for tbl in Base.metadata.sorted_tables:
        for col in tbl.columns:
            if isinstance(col.type, EncryptedJSON):
                found.append((tbl, col.name))
    return found


def key_status(*, session: Session) -> dict[str, int]:
    """How many stored secrets are under the newest key, how many still need `keys rotate`, and how many no
    configured key opens (a key was removed too early)."""
    keyring = get_keyring()
    current = stale = unreadable = 0
    for tbl, name in encrypted_columns():
        raw = table(tbl.name, column(name, Text))
        for (token,) in session.execute(select(raw.c[name]).where(raw.c[name].is_not(None))):
            if keyring.is_current(token):
                current += 1
            elif _readable(keyring, token):
                stale += 1
            else:
                unreadable += 1
    return {
        "keys": len(keyring.fernets),
        "secrets_current": current,
        "secrets_stale": stale,
        "secrets_unreadable": unreadable,
    }


def _readable(keyring: Keyring, token: str) -> bool:
    try:
        keyring.decrypt(token)
    except InvalidToken:
        return False
    return True


def rotate_all(*, session: Session) -> RotationReport:
    """Re-encrypt every encrypted value under the first key of ENCRYPTION_KEYS (raw tokens, no decode)."""
    keyring = get_keyring()
    rotated = current = unreadable = 0
    per_table: dict[str, int] = {}
    for tbl, name in encrypted_columns():
        pk = [c.name for c in tbl.primary_key.columns]
        # Work on the raw text: a plain Text column view of the table bypasses the decrypting type.
        raw = table(tbl.name, column(name, Text), *(column(p) for p in pk))
        rows = session.execute(select(raw.c[name], *(raw.c[p] for p in pk)).where(raw.c[name].is_not(None))).all()
        for token, *key in rows:
            if keyring.is_current(token):
                current += 1
                continue
            if not _readable(keyring, token):
                unreadable += 1
                continue
            where = [raw.c[p] == v for p, v in zip(pk, key, strict=True)]
            session.execute(update(raw).where(*where).values({name: keyring.rotate(token)}))
            rotated += 1
            per_table[tbl.name] = per_table.get(tbl.name, 0) + 1
    return RotationReport(rotated=rotated, already_current=current, tables=per_table, unreadable=unreadable)
