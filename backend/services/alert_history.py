"""The alert history of a workspace: events newest first, with what became of their notifications."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.errors import Invalid, NotFound
from backend.models import AlertEvent, Notification


def _cursor(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise Invalid("cursor is not a next_cursor this API gave out.", code="bad_cursor")
    return int(raw)


def list_events(
    *, session: Session, workspace_id: int, filters: dict[str, Any], limit: int, cursor: str | None
) -> tuple[list[AlertEvent], str | None]:
    """A page of events, newest first; the cursor is the last id shown (ids grow with time). Channel test messages
    are not alerts: they are listed only when asked for by type (they are in the channel's deliveries)."""
    stmt = select(AlertEvent).where(AlertEvent.workspace_id == workspace_id)
    if filters.get("type") is None:
        stmt = stmt.where(AlertEvent.type != "test")
    for name in ("rule_id", "type", "state"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(AlertEvent, name) == filters[name])
    before = _cursor(cursor)
    if before is not None:
        stmt = stmt.where(AlertEvent.id < before)
    rows = list(session.scalars(stmt.order_by(AlertEvent.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (str(rows[-1].id) if more and rows else None)


def notification_counts(*, session: Session, event_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per event: how many of its notifications are pending, delivered, dead (one grouped query)."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    if event_ids:
        rows = session.execute(
            select(Notification.event_id, Notification.status, func.count())
            .where(Notification.event_id.in_(event_ids))
            .group_by(Notification.event_id, Notification.status)
        )
        for event_id, status, count in rows:
            out[event_id][status] = int(count)
    return out


def get_event(*, session: Session, workspace_id: int, event_id: int) -> AlertEvent:
    """One event of the workspace, or 404."""
    event = session.scalar(select(AlertEvent).where(AlertEvent.id == event_id, AlertEvent.workspace_id == workspace_id))
    if event is None:
        raise NotFound("No such alert in this workspace.")
    return event


def notifications(*, session: Session, event_id: int) -> list[Notification]:
    """The event's notifications, one per channel."""
    return list(
        session.scalars(select(Notification).where(Notification.event_id == event_id).order_by(Notification.id))
    )
