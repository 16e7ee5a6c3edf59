"""The delivery outbox at work: claim due notifications, send them outside any transaction, record every
attempt, retry on the Standard Webhooks schedule, give up into a visible dead state."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from backend.config import DeliverySettings, Settings
from backend.crypto import Undecryptable
from backend.db import Database, utcnow
from backend.errors import Conflict, NotFound
from backend.models import AlertEvent, Channel, DeliveryAttempt, Notification
from backend.services import instance_settings
from backend.services.outbox import new_message_id
from integrations.channels import registry
from integrations.channels.base import Message, SendContext, SendResult, SmtpConfig, Target

log = logging.getLogger(__name__)
# Targets that end their notification dead without an attempt, and why.
UNSENDABLE = {
    "disabled": "the channel is disabled",
    "undecryptable": "the channel's secrets cannot be decrypted with the configured ENCRYPTION_KEYS (was a key "
    "removed?): restore the key or enter the URL and headers again",
}

GONE_REASON = "The endpoint answered 410 Gone (it asked for no more deliveries); re-enable the channel to resume."


@dataclass(frozen=True)
class Prepared:
    """Everything one send needs, read in a short transaction so the send itself holds none."""

    notification_id: int
    workspace_id: int
    channel_id: int
    message: Message
    target: Target


def send_context(*, session: Session, settings: Settings) -> SendContext:
    """The instance settings a send needs (SMTP with its password, the private-network switch)."""
    config = instance_settings.get_config(session=session)
    smtp = config.smtp
    return SendContext(
        smtp=SmtpConfig(
            host=smtp.host.strip(),
            port=smtp.port,
            security=smtp.security,
            username=smtp.username,
            password=instance_settings.get_secret(session=session, key="smtp_password") if smtp.username else "",
            from_address=smtp.from_address,
        ),
        mail_outbox=settings.data_dir / "mail-outbox",
        allow_private_webhooks=config.allow_private_webhooks,
        timeout_seconds=float(settings.delivery.timeout_seconds),
    )


def _due(now: dt.datetime) -> tuple[object, ...]:
    """Conditions of a notification that is due and not held by a live claim."""
    return (
        Notification.status == "pending",
        Notification.next_attempt_at <= now,
        or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
    )


def claim_due(*, session: Session, worker: str, limit: int, lease_seconds: int) -> list[int]:
    """Claim up to LIMIT due notifications for WORKER until the lease ends, and commit. Two workers never hold
    the same one; one whose worker died (lease lapsed) is claimed again."""
    now = utcnow()
    candidates = (
        select(Notification.id).where(*_due(now)).order_by(Notification.next_attempt_at, Notification.id)  # type: ignore[arg-type]
    )
    claim = (
        update(Notification)
        .values(claimed_by=worker[:120], claimed_until=now + dt.timedelta(seconds=lease_seconds))
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    )
    won: list[int] = []
    if session.get_bind().dialect.name == "postgresql":
        # Lock what nobody else holds, then claim it. (Not one UPDATE … WHERE id IN (SELECT … LIMIT n SKIP
        # LOCKED): PostgreSQL may run that as a join and claim more than n rows.)
        ids = session.scalars(candidates.limit(limit).with_for_update(skip_locked=True)).all()
        if ids:
            won = list(session.scalars(claim.where(Notification.id.in_(ids))))
    else:
        for notification_id in session.scalars(candidates.limit(limit * 2)).all():
            if len(won) == limit:
                break
            # The conditions again: another process may have claimed it since the SELECT.
            got = session.scalars(claim.where(Notification.id == notification_id, *_due(now))).one_or_none()  # type: ignore[arg-type]
            if got is not None:
                won.append(got)
    session.commit()
    return sorted(won)


def prepare(*, session: Session, notification_id: int) -> Prepared | None:
    """Load a claimed notification with its event and channel; None when there is nothing to send (gone)."""
    row = session.execute(
        select(Notification, AlertEvent, Channel)
        .join(AlertEvent, AlertEvent.id == Notification.event_id)
        .join(Channel, Channel.id == Notification.channel_id)
        .where(Notification.id == notification_id)
    ).one_or_none()
    if row is None:
        return None
    notification, event, channel = row
    message = Message(
        message_id=notification.message_id,
        event_id=event.id,
        event_type=event.type,
        event_state=event.state,
        created_at=event.created_at,
        payload=dict(event.payload or {}),
    )
    target = Target(kind=channel.kind, config=dict(channel.config or {}), secrets=dict(channel.secrets or {}))
    if not channel.enabled:
        target = Target(kind="disabled", config={}, secrets={})  # nothing is sent; the notification ends dead
    elif isinstance(channel.secrets, Undecryptable):
        target = Target(kind="undecryptable", config={}, secrets={})  # ends dead with the reason, like disabled
    return Prepared(notification.id, notification.workspace_id, channel.id, message, target)


def next_delay(schedule: Sequence[int], attempts: int) -> dt.timedelta | None:
    """The wait before the next attempt after ATTEMPTS failed ones, or None when the schedule is used up.
    SCHEDULE[i] is the delay before attempt i + 1 (the first is "now")."""
    if attempts >= len(schedule):
        return None
    return dt.timedelta(seconds=schedule[attempts])


def record_outcome(
    *,
    session: Session,
    prepared: Prepared,
    result: SendResult,
    worker: str,
    schedule: Sequence[int],
    final: bool = False,
) -> Notification | None:
    """Log the attempt and move the notification on: delivered, pending again (next attempt on SCHEDULE) or
    dead. FINAL makes any failure dead (one-off test sends). A notification whose claim WORKER lost (the lease
    lapsed and another worker took it) keeps the other worker's state; the attempt is logged all the same."""
    now = utcnow()
    session.add(
        DeliveryAttempt(
            workspace_id=prepared.workspace_id,
            notification_id=prepared.notification_id,
            channel_id=prepared.channel_id,
            attempted_at=now,
            ok=result.ok,
            response_code=result.response_code,
            duration_ms=result.duration_ms,
            error=None if result.ok else result.error,
        )
    )
    notification = session.get(Notification, prepared.notification_id, with_for_update=True)
    channel = session.get(Channel, prepared.channel_id)
    if channel is not None:
        if result.ok:
            channel.last_delivery_at, channel.last_error = now, None
        else:
            channel.last_error = result.error
        if result.gone:
            _disable_gone(session, channel, now)
    if notification is None or notification.claimed_by != worker[:120] or notification.status != "pending":
        session.commit()
        return notification
    notification.attempts += 1
    notification.claimed_by, notification.claimed_until = None, None
    if result.ok:
        notification.status, notification.delivered_at = "delivered", now
        notification.next_attempt_at, notification.last_error = None, None
    else:
        notification.last_error = result.error
        delay = None if (result.permanent or final) else next_delay(schedule, notification.attempts)
        if delay is None:
            notification.status, notification.next_attempt_at = "dead", None
            log.warning(
                "notification %s is dead after %d attempt(s): %s",
                notification.id,
                notification.attempts,
                result.error,
            )
        else:
            notification.next_attempt_at = now + delay
    session.commit()
    return notification


def _disable_gone(session: Session, channel: Channel, now: dt.datetime) -> None:
    """The endpoint asked (410) for no more deliveries: disable the channel, end its pending notifications."""
    channel.enabled = False
    channel.disabled_reason = GONE_REASON
    session.execute(
        update(Notification)
        .where(Notification.channel_id == channel.id, Notification.status == "pending")
        .values(status="dead", next_attempt_at=None, last_error="the channel was disabled: its endpoint answered 410")
        .execution_options(synchronize_session=False)
    )
    log.warning("channel %s disabled: its endpoint answered 410 Gone", channel.id)


def end_unsent(*, session: Session, prepared: Prepared, worker: str, reason: str) -> None:
    """A claimed notification that will not be sent (its channel is disabled): dead, with REASON, no attempt."""
    session.execute(
        update(Notification)
        .where(Notification.id == prepared.notification_id, Notification.claimed_by == worker[:120])
        .values(status="dead", next_attempt_at=None, claimed_by=None, claimed_until=None, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def send_test(
    *, session: Session, channel: Channel, settings: Settings, base_url: str
) -> tuple[Notification | None, SendResult]:
    """Send a `test` event to CHANNEL right now: logged like any delivery, never retried."""
    if not channel.enabled:
        raise Conflict("The channel is disabled; enable it first.", code="channel_disabled")
    if isinstance(channel.secrets, Undecryptable):
        raise Conflict(f"{UNSENDABLE['undecryptable'].capitalize()}.", code="channel_undecryptable")
    now = utcnow()
    worker = f"api-test:{new_message_id()[4:16]}"
    event = AlertEvent(
        workspace_id=channel.workspace_id,
        rule_id=None,
        type="test",
        state="firing",
        payload={
            "message": f"This is a test message from Spendwatch for the channel “{channel.name}”: it works.",
            "links": {"dashboard": f"{base_url}/", "mute": None},
        },
        created_at=now,
    )
    session.add(event)
    session.flush()
    # Claimed from birth, so the delivery job never sends it a second time.
    notification = Notification(
        workspace_id=channel.workspace_id,
        event_id=event.id,
        channel_id=channel.id,
        message_id=new_message_id(),
        status="pending",
        next_attempt_at=now,
        claimed_by=worker,
        claimed_until=now + dt.timedelta(seconds=settings.delivery.lease_seconds),
        created_at=now,
    )
    session.add(notification)
    session.flush()
    prepared = prepare(session=session, notification_id=notification.id)
    context = send_context(session=session, settings=settings)
    session.commit()
    assert prepared is not None
    result = registry.send(prepared.message, prepared.target, context)
    stored = record_outcome(session=session, prepared=prepared, result=result, worker=worker, schedule=(), final=True)
    return stored, result


def retry(*, session: Session, workspace_id: int, notification_id: int) -> Notification:
    """Put a dead (or pending) notification back to pending, due now, with a fresh retry schedule."""
    notification = session.scalars(
        select(Notification).where(Notification.id == notification_id, Notification.workspace_id == workspace_id)
    ).first()
    if notification is None:
        raise NotFound("Notification not found.")
    if notification.status == "delivered":
        raise Conflict("This notification was already delivered.", code="already_delivered")
    channel = session.get(Channel, notification.channel_id)
    if channel is None or not channel.enabled:
        raise Conflict("The channel is disabled; enable it first.", code="channel_disabled")
    notification.status = "pending"
    notification.attempts = 0
    notification.next_attempt_at = utcnow()
    notification.claimed_by = notification.claimed_until = None
    session.flush()
    return notification


def list_attempts(
    *, session: Session, workspace_id: int, channel_id: int, limit: int, before: int | None
) -> list[tuple[DeliveryAttempt, Notification, AlertEvent]]:
    """The channel's delivery attempts, newest first, with their notification and event; BEFORE is a cursor
    (an attempt id) for the next page."""
    stmt = (
        select(DeliveryAttempt, Notification, AlertEvent)
        .join(Notification, Notification.id == DeliveryAttempt.notification_id)
        .join(AlertEvent, AlertEvent.id == Notification.event_id)
        .where(DeliveryAttempt.workspace_id == workspace_id, DeliveryAttempt.channel_id == channel_id)
        .order_by(DeliveryAttempt.id.desc())
        .limit(limit)
    )
    if before is not None:
        stmt = stmt.where(DeliveryAttempt.id < before)
    return [(a, n, e) for a, n, e in session.execute(stmt).all()]


@dataclass
class DeliveryRun:
    """What one run of the delivery job did."""

    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    released: int = 0  # claimed but given back unsent: the run had used half its lease


def release(*, session: Session, worker: str, notification_ids: Sequence[int]) -> int:
    """Give back WORKER's claims on these notifications (still pending, due as before); how many."""
    result = session.execute(
        update(Notification)
        .where(Notification.id.in_(list(notification_ids)), Notification.claimed_by == worker[:120])
        .values(claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def deliver_due(*, database: Database, settings: Settings, worker: str) -> DeliveryRun:
    """One run of the delivery job: claim what is due, send each outside a transaction, record each."""
    config: DeliverySettings = settings.delivery
    run = DeliveryRun()
    with database.system_session() as session:
        claimed = claim_due(session=session, worker=worker, limit=config.batch_size, lease_seconds=config.lease_seconds)
        context = send_context(session=session, settings=settings)
    run.claimed = len(claimed)
    # Past half the lease (slow endpoints), what is left goes back unsent: sending it later in this run could
    # overlap another worker's claim of it after the lease lapses, and send it twice.
    give_back_at = time.monotonic() + config.lease_seconds / 2
    for index, notification_id in enumerate(claimed):
        if time.monotonic() > give_back_at:
            with database.system_session() as session:
                run.released = release(session=session, worker=worker, notification_ids=claimed[index:])
            break
        try:
            with database.system_session() as session:
                prepared = prepare(session=session, notification_id=notification_id)
            if prepared is None:
                continue
            if prepared.target.kind in UNSENDABLE:
                reason = UNSENDABLE[prepared.target.kind]
                with database.system_session() as session:
                    end_unsent(session=session, prepared=prepared, worker=worker, reason=reason)
                continue
            result = registry.send(prepared.message, prepared.target, context)
            with database.system_session() as session:
                record_outcome(
                    session=session, prepared=prepared, result=result, worker=worker, schedule=config.retry_schedule
                )
        except Exception:  # one bad notification never stops the others; its lease lapses and it is retried
            log.exception("delivery of notification %s failed unexpectedly", notification_id)
            run.failed += 1
            continue
        if result.ok:
            run.delivered += 1
        else:
            run.failed += 1
            log.info("notification %s: attempt failed: %s", notification_id, result.error)
    return run
