"""The delivery job: claims pending notifications from the outbox and sends them through their channels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.config import Settings
from backend.db import Database


def deliver_job(database: Database, settings: Settings) -> Callable[[], Any]:
    """The scheduled callable: send what is due, record every attempt."""

    def run() -> Any:
        return None  # filled in by the delivery outbox (issue 4)

    return run
