"""The job table: every scheduled job with its stable id and schedule, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.config import Settings
from backend.db import Database
from jobs.housekeeping import housekeeping
from jobs.runner import JobFunc, run_job


@dataclass(frozen=True)
class JobSpec:
    id: str  # stable: APScheduler replaces a job with the same id instead of adding a twin
    func: JobFunc
    every_seconds: int
    description: str

    def describe_schedule(self) -> str:
        s = self.every_seconds
        return f"{s // 3600}h" if s % 3600 == 0 else f"{s // 60}m" if s % 60 == 0 else f"{s}s"

    def run(self, database: Database, settings: Settings, *, raise_errors: bool = False) -> Any:
        return run_job(self.id, self.func, database, raise_errors=raise_errors, settings=settings)


JOBS: tuple[JobSpec, ...] = (
    JobSpec("housekeeping", housekeeping, 3600, "Delete expired sign-in sessions and refresh tokens"),
)

JOBS_BY_ID = {job.id: job for job in JOBS}
