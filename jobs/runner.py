"""Runs one job, logging the outcome; a failing run never kills the worker."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("spendwatch.jobs")


def run_job(job_id: str, func: Callable[[], Any], *, raise_errors: bool = False) -> Any:
    """Call FUNC and log how it went. A failure is logged and swallowed so the scheduler keeps going;
    RAISE_ERRORS hands it on (CLI runs). Jobs open their own database sessions."""
    started = time.perf_counter()
    try:
        result = func()
    except Exception:
        log.exception("job %s failed after %.2fs", job_id, time.perf_counter() - started)
        if raise_errors:
            raise
        return None
    log.debug("job %s done in %.2fs: %s", job_id, time.perf_counter() - started, result)
    return result
