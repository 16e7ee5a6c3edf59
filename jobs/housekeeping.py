"""Housekeeping: remove data that has outlived its use."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.services import auth, login_throttle, signup


def housekeeping(*, session: Session, **_: Any) -> dict[str, int]:
    """Delete expired sign-in sessions (with their refresh tokens), stale sign-in throttles and spent sign-ups."""
    return {
        "expired_sessions_deleted": auth.purge_expired(session=session),
        "stale_login_throttles_deleted": login_throttle.purge_stale(session=session),
        "spent_signups_deleted": signup.purge_expired(session=session),
    }
