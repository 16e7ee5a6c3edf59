"""Runs one job with its own database session, logging the outcome; a failing run never kills the worker."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from backend.db import Database

log = logging.getLogger("spendwatch.jobs")

JobFunc = Callable[..., Any]


def run_job(job_id: str, func: JobFunc, database: Database, *, raise_errors: bool = False, **kwargs: Any) -> Any:
    """Call FUNC(session=…, **kwargs) in a system session (all workspaces), commit, and log how it went.

    A failure is logged and swallowed so the scheduler keeps going; RAISE_ERRORS hands it on (CLI runs).
    """
    started = time.perf_counter()
    try:
        with database.system_session() as session:
            result = func(session=session, **kwargs)
    except Exception:
        log.exception("job %s failed after %.2fs", job_id, time.perf_counter() - started)
        if raise_errors:
            raise
        return None
    log.info("job %s done in %.2fs: %s", job_id, time.perf_counter() - started, result)
    return result
