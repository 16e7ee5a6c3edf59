"""Shared helpers of the channel and delivery tests: instance settings, events in the outbox, delivery runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from backend.config import DeliverySettings, Settings
from backend.db import Database, utcnow
from backend.models import AlertEvent, DeliveryAttempt, Notification
from backend.services import outbox
from backend.services.delivery import DeliveryRun, deliver_due
from tests.conftest import Api

BUDGET_PAYLOAD: dict[str, Any] = {
    "rule": {"id": 7, "name": "AI spend this month", "kind": "budget"},
    "period": {"key": "2026-11", "start": "2026-11-01", "end": "2026-11-30", "timezone": "Europe/Berlin"},
    "threshold": {"type": "percent", "value": "80", "basis": "actual"},
    "spent": "412.5000000000",
    "budget": "500.0000000000",
    "currency": "USD",
    "percent": "82.5",
    "forecast": "611.2000000000",
    "top_contributors": [
        {"dimension": "model", "name": "gpt-4o", "cost": "301.1200000000"},
        {"dimension": "account", "name": "OpenAI prod", "cost": "412.5000000000"},
    ],
    "links": {"dashboard": "http://spendwatch.test/budgets/7", "mute": "http://spendwatch.test/budgets/7/mute"},
}


def db_of(app: Any) -> Database:
    return app.extensions["spendwatch"].db


def admin_settings(api: Api, token: str, **changes: Any) -> dict[str, Any]:
    response = api.call("PATCH", "/api/admin/settings", token, json=changes)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def fire(
    db: Database,
    workspace_id: int,
    channel_ids: list[int],
    *,
    payload: dict[str, Any] | None = None,
    event_type: str = "budget.threshold_crossed",
) -> list[int]:
    """An alert event with one notification per channel, as the evaluator writes them; the notification ids."""
    with db.system_session() as session:
        event = AlertEvent(
            workspace_id=workspace_id,
            type=event_type,
            state="firing",
            period_key="2026-11",
            threshold_key="actual:80%",
            payload=payload if payload is not None else BUDGET_PAYLOAD,
            created_at=utcnow(),
        )
        session.add(event)
        session.flush()
        ids = [n.id for n in outbox.enqueue(session=session, event=event, channel_ids=channel_ids)]
        session.commit()
    return ids


def with_schedule(settings: Settings, *seconds: int, lease: int = 120) -> Settings:
    return replace(
        settings, delivery=DeliverySettings(retry_schedule=tuple(seconds), lease_seconds=lease, timeout_seconds=5)
    )


def deliver(db: Database, settings: Settings, worker: str = "test:1:worker") -> DeliveryRun:
    return deliver_due(database=db, settings=settings, worker=worker)


def notifications(db: Database) -> list[Notification]:
    with db.system_session() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def attempts(db: Database, notification_id: int | None = None) -> list[DeliveryAttempt]:
    with db.system_session() as session:
        stmt = select(DeliveryAttempt).order_by(DeliveryAttempt.id)
        if notification_id is not None:
            stmt = stmt.where(DeliveryAttempt.notification_id == notification_id)
        return list(session.scalars(stmt))


def make_due(db: Database) -> None:
    """Bring every pending notification's next attempt to now (instead of waiting out the schedule)."""
    with db.system_session() as session:
        for n in session.scalars(select(Notification).where(Notification.status == "pending")):
            n.next_attempt_at = utcnow() - dt.timedelta(seconds=1)
        session.commit()
