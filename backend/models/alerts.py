"""Alert rules (budgets, anomaly, sync health), their per-threshold state, the events they fire, channels,
and the delivery outbox: one notification per (event, channel) and one row per delivery attempt."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.crypto import EncryptedJSON
from backend.db import Base, UTCDateTime, utcnow
from backend.models.base import NEVER_REUSE_IDS, IdMixin, TenantMixin, TimestampMixin
from backend.models.usage import BigId, Money

RULE_KINDS = ("budget", "anomaly", "sync_health")
PERIODS = ("day", "week", "month", "quarter", "year")
CHANNEL_KINDS = ("email", "webhook")
# Notification.status: waiting for (another) attempt, sent, or given up on (visible, retryable by hand).
NOTIFICATION_STATUSES = ("pending", "delivered", "dead")


def new_link_nonce() -> str:
    """A fresh random value for AlertRule.link_nonce (128 bits, hex)."""
    return secrets.token_hex(16)


class Channel(IdMixin, TimestampMixin, TenantMixin, Base):
    """Where notifications go: an email address list or a webhook endpoint (standard or Slack format)."""

    __tablename__ = "channels"
    __table_args__ = NEVER_REUSE_IDS

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # Not secret: email {"recipients": [...]}; webhook {"url_hint" (origin + first path segment), "format":
    # "standard"|"slack"}.
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    # Encrypted: webhook {"url", "secret": "whsec_…", "previous_secret", "previous_until", "headers": {name: value}}.
    secrets: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    disabled_reason: Mapped[str | None] = mapped_column(Text)  # e.g. the endpoint answered 410 Gone
    last_error: Mapped[str | None] = mapped_column(Text)
    last_delivery_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AlertRule(IdMixin, TimestampMixin, TenantMixin, Base):
    """A budget, anomaly or sync-health rule. Scope and budget columns are real columns (not JSON) so that
    evaluation is one set-based query per rule kind and period, whatever the number of rules."""

    __tablename__ = "alert_rules"
    __table_args__ = (Index("ix_alert_rules_kind_period", "kind", "period"), NEVER_REUSE_IDS)

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # Scope: NULL means "any". Compared with daily_spend's columns.
    scope_provider: Mapped[str | None] = mapped_column(String(32))
    scope_account_id: Mapped[int | None] = mapped_column(ForeignKey("provider_accounts.id", ondelete="CASCADE"))
    scope_model: Mapped[str | None] = mapped_column(String(200))
    scope_project: Mapped[str | None] = mapped_column(String(200))
    # Money budgets: spend of bank transactions in a category (and its children) and/or one bank account. A budget
    # with either set counts transactions, not AI usage.
    scope_category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    scope_bank_account_id: Mapped[int | None] = mapped_column(ForeignKey("bank_accounts.id", ondelete="CASCADE"))
    # Budgets: the period (in the workspace's timezone), amount and currency.
    period: Mapped[str | None] = mapped_column(String(10))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="USD", nullable=False)
    # Weekly budgets: the first day of the week, 0 = Monday … 6 = Sunday (a column: evaluation groups by it).
    week_start: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # Kind-specific settings: budget {"thresholds": [{"type": "percent"|"absolute", "value": "80"}], "basis":
    # "actual"|"forecast"|"both"}; anomaly {"z_threshold", "min_amount", "baseline_days"}; sync_health
    # {"failures", "stale_hours"}.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    muted: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    snoozed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    repeat_minutes: Mapped[int | None] = mapped_column(Integer)  # re-notify while firing; NULL = never
    notify_on_resolve: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # Carried by every signed mute link of this rule (backend.services.alert_links): a new value revokes the links
    # sent so far. Never shown by the API.
    link_nonce: Mapped[str] = mapped_column(String(32), default=new_link_nonce, nullable=False)


class RuleChannel(TenantMixin, Base):
    """A rule notifies a channel."""

    __tablename__ = "alert_rule_channels"

    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)


class AlertState(IdMixin, TenantMixin, Base):
    """The state of one (rule, period, threshold): ok or firing. Only transitions notify."""

    __tablename__ = "alert_states"
    __table_args__ = (UniqueConstraint("rule_id", "period_key", "threshold_key", name="uq_alert_states_key"),)

    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"), nullable=False)
    period_key: Mapped[str] = mapped_column(String(32), nullable=False)  # "2026-11", "2026-W47", "2026-11-22", "-"
    threshold_key: Mapped[str] = mapped_column(String(48), nullable=False)  # "actual:80%", "forecast:$500", …
    state: Mapped[str] = mapped_column(String(8), nullable=False)  # "ok" | "firing"
    value: Mapped[Decimal | None] = mapped_column(Money)  # the figure at the last transition
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AlertEvent(TenantMixin, Base):
    """Something worth telling: a threshold crossed or resolved, an anomaly, an account failing or recovered."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_workspace_id_created_at", "workspace_id", "created_at"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"))
    type: Mapped[str] = mapped_column(String(40), nullable=False)  # "budget.threshold_crossed", "test", …
    state: Mapped[str] = mapped_column(String(8), nullable=False)  # "firing" | "resolved"
    period_key: Mapped[str] = mapped_column(String(32), default="-", nullable=False)
    threshold_key: Mapped[str] = mapped_column(String(48), default="", nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)  # figures, as sent
    # "muted" | "snoozed" when the rule was silenced: the event is history only, nobody was notified.
    silenced: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class Notification(TenantMixin, Base):
    """The outbox: one event to one channel, written in the evaluation's transaction, claimed and sent by the
    delivery job, retried on a schedule until delivered or dead."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("alert_events.id", ondelete="CASCADE"), nullable=False)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True, nullable=False)
    message_id: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)  # webhook-id, every retry
    status: Mapped[str] = mapped_column(String(10), default="pending", nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(TenantMixin, Base):
    """One try at sending one notification: when, how it went, the response code and how long it took."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_notification_id", "notification_id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True, nullable=False)
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    response_code: Mapped[int | None] = mapped_column(Integer)  # HTTP status or SMTP reply code
    duration_ms: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)


class AlertMark(Base):
    """A workspace whose spend changed since the alert evaluator last looked at it. Written (insert, or nothing
    when already marked: never a lock on an existing row) by whatever changes spend; taken by the minute tick."""

    __tablename__ = "alert_marks"
    __tenant__ = True

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    marked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class AlertSweep(Base):
    """When the scheduled evaluation last ran (one row): the next tick re-evaluates what changed since."""

    __tablename__ = "alert_sweeps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    swept_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
