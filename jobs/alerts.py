"""The alerts job: every minute, evaluates what may have changed (backend.services.alert_marks); right after each
sync that stored data, the synced workspaces."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection
from typing import Any

from backend.config import Settings
from backend.db import Database, utcnow
from backend.services import alert_marks
from backend.services.alert_links import LinkSettings
from backend.services.alerting import evaluate, lock

log = logging.getLogger(__name__)


def _counts(result: Any) -> dict[str, int]:
    return {"transitions": result.transitions, "events": result.events, "notifications": result.notifications}


def _links(settings: Settings) -> LinkSettings:
    return LinkSettings(base_url=settings.base_url, secret_key=settings.secret_key)


def _with_marks(database: Database, workspace_ids: Collection[int] | None, run: Callable[[set[int]], Any]) -> Any:
    """Take the marks (in their own short transaction), then RUN; if RUN fails, the marks are put back so the next
    tick tries again instead of forgetting the change."""
    with database.system_session() as session:
        marked = alert_marks.take(session, workspace_ids)
    try:
        return run(marked)
    except Exception:
        with database.system_session() as session:
            alert_marks.mark(session, marked)
        raise


def tick(database: Database, links: LinkSettings, now: dt.datetime | None = None) -> dict[str, int]:
    """One scheduled evaluation: sync health everywhere, budgets and anomalies where something changed."""
    now = now or utcnow()

    def run(marked: set[int]) -> dict[str, int]:
        with database.system_session() as session:
            lock(session)  # before reading the last sweep: two workers' ticks see each other's
            plan = alert_marks.due(session, now, marked)
            changed = None if plan.everything else plan.workspace_ids
            log.debug("alert tick: %s", "every workspace" if changed is None else f"{len(changed)} workspace(s)")
            result = evaluate(session=session, now=now, changed=changed, link_settings=links)
        return _counts(result)

    counts: dict[str, int] = _with_marks(database, None, run)
    return counts


def alerts_job(database: Database, settings: Settings) -> Callable[[], Any]:
    """The scheduled callable: one evaluation tick; returns counts."""

    def run() -> dict[str, int]:
        return tick(database, _links(settings))

    return run


def evaluate_workspaces(database: Database, settings: Settings, workspace_ids: list[int]) -> dict[str, int]:
    """Evaluate these workspaces' rules now: the sync worker calls this right after syncs (new spend, or an
    account that failed), so an alert does not wait for the next minute's tick."""

    def run(_marked: set[int]) -> dict[str, int]:
        with database.system_session() as session:
            links = _links(settings)
            result = evaluate(session=session, now=utcnow(), workspace_ids=workspace_ids, link_settings=links)
        return _counts(result)

    counts: dict[str, int] = _with_marks(database, workspace_ids, run)
    return counts


def evaluate_workspace(database: Database, settings: Settings, workspace_id: int) -> dict[str, int]:
    """Evaluate one workspace's rules now."""
    return evaluate_workspaces(database, settings, [workspace_id])
