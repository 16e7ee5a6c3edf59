"""The alerts job: evaluates every alert rule (also run right after each sync that stored data)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.config import Settings
from backend.db import Database, utcnow
from backend.services.alert_links import LinkSettings
from backend.services.alerting import evaluate


def _run(database: Database, settings: Settings, workspace_ids: list[int] | None) -> dict[str, int]:
    with database.system_session() as session:
        result = evaluate(
            session=session,
            now=utcnow(),
            workspace_ids=workspace_ids,
            link_settings=LinkSettings(base_url=settings.base_url, secret_key=settings.secret_key),
        )
    return {"transitions": result.transitions, "events": result.events, "notifications": result.notifications}


def alerts_job(database: Database, settings: Settings) -> Callable[[], Any]:
    """The scheduled callable: one evaluation tick over every workspace; returns counts."""

    def run() -> dict[str, int]:
        return _run(database, settings, None)

    return run


def evaluate_workspace(database: Database, settings: Settings, workspace_id: int) -> dict[str, int]:
    """Evaluate one workspace's rules now."""
    return _run(database, settings, [workspace_id])


def evaluate_workspaces(database: Database, settings: Settings, workspace_ids: list[int]) -> dict[str, int]:
    """Evaluate these workspaces' rules now: the sync worker calls this right after syncs (new spend, or an
    account that failed), so an alert does not wait for the next minute's tick."""
    return _run(database, settings, workspace_ids)
