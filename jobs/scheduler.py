"""Builds the APScheduler instance from the job table."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from backend.config import Settings
from backend.db import Database
from jobs.runner import run_job
from jobs.table import JOBS


def build_scheduler(database: Database, settings: Settings, *, background: bool) -> BaseScheduler:
    """A scheduler with every job of the table; BACKGROUND for `spendwatch run`, blocking for the worker."""
    scheduler: BaseScheduler = BackgroundScheduler(timezone="UTC") if background else BlockingScheduler(timezone="UTC")
    for job in JOBS:
        func = job.factory(database, settings)
        scheduler.add_job(
            run_job,
            "interval",
            seconds=job.every_seconds(settings.sync),
            id=job.id,
            name=job.description,
            args=(job.id, func),
            # One run at a time per job in this process; a missed run is run once, not replayed many times.
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
    return scheduler
