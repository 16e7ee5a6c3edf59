"""Which workspaces the minute's alert tick must re-evaluate: the ones whose spend changed (marked where the daily
rollup is rebuilt), whose rules or timezone were edited, whose local day rolled over, or with a repeat due.

A steady tick — nothing new anywhere — then evaluates no budget and no anomaly rule at all: their observations
depend only on the data, the rules and the local date (forecasts use whole days). Sync-health rules depend on
the clock (data older than H hours) and are evaluated on every tick.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.models import AlertMark, AlertRule, AlertState, AlertSweep, Workspace

SWEEP_ID = 1
# Rows edited this close before the last sweep are looked at again: app servers' clocks and the worker's may
# disagree by a little, and evaluating a workspace twice costs less than missing an edit.
CLOCK_SLACK = dt.timedelta(seconds=5)


def mark(session: Session, workspace_ids: Collection[int]) -> None:
    """Note that these workspaces' spend changed (in the caller's transaction)."""
    if not workspace_ids:
        return
    rows = [{"workspace_id": w, "marked_at": utcnow()} for w in sorted(set(workspace_ids))]
    dialect = session.get_bind().dialect.name
    # Do nothing on conflict: an existing mark is not locked, so concurrent syncs of one workspace never queue.
    if dialect == "postgresql":
        session.execute(pg_insert(AlertMark).on_conflict_do_nothing(index_elements=["workspace_id"]), rows)
    elif dialect == "sqlite":
        session.execute(sqlite_insert(AlertMark).on_conflict_do_nothing(index_elements=["workspace_id"]), rows)
    else:  # pragma: no cover - the two supported databases are handled above
        session.execute(insert(AlertMark), rows)


def take(session: Session, workspace_ids: Collection[int] | None = None) -> set[int]:
    """Remove and return the marks (of WORKSPACE_IDS, or all). Run it in its own short transaction before the
    evaluation: a mark written after it stays for the next tick, and syncs never wait for an evaluation."""
    statement = delete(AlertMark).returning(AlertMark.workspace_id)
    if workspace_ids is not None:
        statement = statement.where(AlertMark.workspace_id.in_(sorted(set(workspace_ids))))
    return set(session.scalars(statement))


@dataclass(frozen=True)
class Due:
    """What a tick evaluates: every workspace (`everything`), or the data-driven rules of `workspace_ids` only."""

    everything: bool
    workspace_ids: frozenset[int]


def due(session: Session, now: dt.datetime, marked: Collection[int]) -> Due:
    """The workspaces this tick must re-evaluate, and records NOW as the last sweep (caller's transaction)."""
    last = session.scalar(select(AlertSweep.swept_at).where(AlertSweep.id == SWEEP_ID))
    _record_sweep(session, now, exists=last is not None)
    if last is None or last > now:  # never swept (or the clock went back): look at everything once
        return Due(True, frozenset())
    since = last - CLOCK_SLACK
    ids = set(marked)
    ids |= _rolled_over(session, last, now)
    ids.update(session.scalars(select(AlertRule.workspace_id).where(AlertRule.updated_at > since).distinct()))
    ids.update(session.scalars(select(Workspace.id).where(Workspace.updated_at > since)))
    ids |= _repeat_due(session, now)
    return Due(False, frozenset(ids))


def _record_sweep(session: Session, now: dt.datetime, *, exists: bool) -> None:
    if exists:
        session.execute(update(AlertSweep).where(AlertSweep.id == SWEEP_ID).values(swept_at=now))
    else:
        session.execute(delete(AlertSweep))
        session.execute(insert(AlertSweep).values(id=SWEEP_ID, swept_at=now))


def _rolled_over(session: Session, last: dt.datetime, now: dt.datetime) -> set[int]:
    """Workspaces whose local date changed since LAST: a new day (and maybe week, month…) began for them."""
    zones = session.scalars(select(Workspace.timezone).distinct()).all()
    rolled = []
    for name in zones:
        try:
            zone = ZoneInfo(name)
        except (KeyError, ValueError):  # an unknown zone is evaluated as UTC elsewhere; so here
            zone = ZoneInfo("UTC")
        if last.astimezone(zone).date() != now.astimezone(zone).date():
            rolled.append(name)
    if not rolled:
        return set()
    return set(session.scalars(select(Workspace.id).where(Workspace.timezone.in_(rolled))))


def _repeat_due(session: Session, now: dt.datetime) -> set[int]:
    """Workspaces with a firing rule whose repeat interval has passed since it last told anyone."""
    rows = session.execute(
        select(
            AlertRule.workspace_id,
            AlertRule.repeat_minutes,
            func.max(func.coalesce(AlertState.last_notified_at, AlertState.changed_at)),
        )
        .join(AlertState, AlertState.rule_id == AlertRule.id)
        .where(AlertRule.repeat_minutes.is_not(None), AlertState.state == "firing")
        .group_by(AlertRule.id, AlertRule.workspace_id, AlertRule.repeat_minutes)
    )
    return {
        workspace_id
        for workspace_id, minutes, told in rows
        if told is not None and minutes and _aware(told) + dt.timedelta(minutes=minutes) <= now
    }


def _aware(value: dt.datetime) -> dt.datetime:
    # func.max() loses the column type, so SQLite hands back a naive (UTC) datetime.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
