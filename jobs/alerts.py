"""The alerts job: evaluates every alert rule (also run right after each sync that stored data)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.config import Settings
from backend.db import Database


def alerts_job(database: Database, settings: Settings) -> Callable[[], Any]:
    """The scheduled callable: one evaluation tick over every workspace."""

    def run() -> Any:
        return None  # filled in by the alert evaluation (issue 4)

    return run
