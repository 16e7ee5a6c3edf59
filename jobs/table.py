"""The job table: every scheduled job with its stable id and schedule, in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.config import Settings, SyncSettings
from backend.db import Database
from jobs.alerts import alerts_job, evaluate_workspaces
from jobs.deliver import deliver_job
from jobs.housekeeping import housekeeping
from jobs.sync import SyncDispatcher

# A job factory builds the job's callable once per process (it may hold state, like the sync pool).
JobFactory = Callable[[Database, Settings], Callable[[], Any]]


@dataclass(frozen=True)
class JobSpec:
    id: str  # stable: APScheduler replaces a job with the same id instead of adding a twin
    factory: JobFactory
    every_seconds: Callable[[SyncSettings], int]
    description: str
    # For `spendwatch jobs run`: how to run the job once in the foreground, to completion.
    run_once: Callable[[Database, Settings], Any]

    def describe_schedule(self, sync: SyncSettings) -> str:
        s = self.every_seconds(sync)
        return f"{s // 3600}h" if s % 3600 == 0 else f"{s // 60}m" if s % 60 == 0 else f"{s}s"


def _housekeeping(database: Database, _settings: Settings) -> Callable[[], Any]:
    def run() -> Any:
        with database.system_session() as session:
            return housekeeping(session=session)

    return run


def _sync_dispatcher(database: Database, settings: Settings) -> SyncDispatcher:
    """The sync pool, evaluating the alert rules of each workspace right after its syncs."""
    return SyncDispatcher(database, settings, after_sync=lambda ids: evaluate_workspaces(database, settings, ids))


def _sync_once(database: Database, settings: Settings) -> Any:
    dispatcher = _sync_dispatcher(database, settings)
    try:
        return dispatcher(wait_for_completion=True)
    finally:
        dispatcher.shutdown()


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        "sync",
        _sync_dispatcher,
        lambda sync: sync.dispatch_seconds,
        "Claim due provider accounts and sync their usage",
        _sync_once,
    ),
    JobSpec(
        "alerts",
        alerts_job,
        lambda _sync: 60,
        "Evaluate budgets and alert rules; write alert events and their notifications",
        lambda db, s: alerts_job(db, s)(),
    ),
    JobSpec(
        "deliver",
        deliver_job,
        lambda _sync: 1,
        "Send pending notifications by email and webhook, retrying on schedule",
        lambda db, s: deliver_job(db, s)(),
    ),
    JobSpec(
        "housekeeping",
        _housekeeping,
        lambda _sync: 3600,
        "Delete expired sign-in sessions and refresh tokens",
        lambda db, s: _housekeeping(db, s)(),
    ),
)

JOBS_BY_ID = {job.id: job for job in JOBS}
