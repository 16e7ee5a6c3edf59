"""The delivery job: claims pending notifications from the outbox and sends them through their channels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.config import Settings
from backend.db import Database
from backend.services.delivery import DeliveryRun, deliver_due
from jobs.sync import worker_name


def deliver_job(database: Database, settings: Settings) -> Callable[[], Any]:
    """The scheduled callable: send what is due, record every attempt."""
    worker = worker_name()  # host:pid:random, also on the claims this process holds

    def run() -> DeliveryRun:
        return deliver_due(database=database, settings=settings, worker=worker)

    return run
