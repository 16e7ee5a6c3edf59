"""Housekeeping: remove data that has outlived its use."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.services import auth


def housekeeping(*, session: Session, **_: Any) -> dict[str, int]:
    """Delete expired sign-in sessions and their refresh tokens."""
    return {"expired_sessions_deleted": auth.purge_expired(session=session)}
