"""The delivery outbox: notifications written in the same transaction as the event they deliver."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.models import AlertEvent, Notification


def new_message_id() -> str:
    """A Standard Webhooks message id: the same on every retry of one notification, unique across them."""
    return "msg_" + secrets.token_hex(16)


def enqueue(*, session: Session, event: AlertEvent, channel_ids: Iterable[int]) -> list[Notification]:
    """One pending notification of EVENT per channel, due now (the caller's transaction commits them with the
    event: nothing fires without its outbox row, and no row exists for an event that was rolled back)."""
    now = utcnow()
    notifications = [
        Notification(
            workspace_id=event.workspace_id,
            event_id=event.id,
            channel_id=channel_id,
            message_id=new_message_id(),
            status="pending",
            next_attempt_at=now,
            created_at=now,
        )
        for channel_id in sorted(set(channel_ids))
    ]
    session.add_all(notifications)
    session.flush()
    return notifications
