"""Usage records from providers, the daily spend rollup read by the dashboard, and sync runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, ExactDecimal, UTCDateTime, utcnow
from backend.models.base import NEVER_REUSE_IDS, TenantMixin

# Sub-cent precision: AI costs are fractions of a cent per request. Exact on SQLite too (scaled 64-bit integers),
# which bounds it to ±922,337,203.6854775807 on both backends (see ExactDecimal).
Money = ExactDecimal(20, 10)
# Integer ids are 64-bit on PostgreSQL (usage tables grow large); SQLite's INTEGER PRIMARY KEY is 64-bit already.
BigId = BigInteger().with_variant(Integer, "sqlite")

# The dimensions that, with the account, bucket and kind, make a usage record's natural key.
DIMENSIONS = ("model", "project", "api_key", "line_item", "service_tier")


class UsageRecord(TenantMixin, Base):
    """One bucket of one kind of usage (or cost) of one account, for one combination of dimensions."""

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint(
            "account_id", "bucket_start", "bucket_width", "kind", *DIMENSIONS, name="uq_usage_records_natural_key"
        ),
        Index("ix_usage_records_workspace_id_bucket_start", "workspace_id", "bucket_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("provider_accounts.id", ondelete="CASCADE"), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    bucket_start: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    bucket_width: Mapped[str] = mapped_column(String(2), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    model: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    project: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    api_key: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    line_item: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    service_tier: Mapped[str] = mapped_column(String(40), default="", nullable=False)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    cache_write_5m_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    cache_write_1h_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    requests: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(30, 10))
    quantity_unit: Mapped[str] = mapped_column(String(32), default="", nullable=False)
    cost: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="USD", nullable=False)
    cost_source: Mapped[str] = mapped_column(String(10), default="none", nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class DailySpend(TenantMixin, Base):
    """Spend per (account, UTC day, model, project), rebuilt for the touched days in every ingest transaction.

    Where the provider reported its own cost for an account-day, `cost` is that; otherwise it is our estimate.
    """

    __tablename__ = "daily_spend"
    __table_args__ = (
        UniqueConstraint("account_id", "day", "model", "project", "currency", name="uq_daily_spend_key"),
        # Covering on PostgreSQL: a summary over any grouping is an index-only scan (migration 0005).
        Index(
            "ix_daily_spend_workspace_id_day",
            "workspace_id",
            "day",
            postgresql_include=[
                "account_id",
                "provider",
                "model",
                "project",
                "currency",
                "cost",
                "cost_source",
                "input_tokens",
                "output_tokens",
                "requests",
            ],
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("provider_accounts.id", ondelete="CASCADE"), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    model: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    project: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    currency: Mapped[str] = mapped_column(String(3), default="USD", nullable=False)
    cost: Mapped[Decimal] = mapped_column(Money, default=Decimal(0), nullable=False)
    cost_source: Mapped[str] = mapped_column(String(10), nullable=False)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    requests: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)


class SyncRun(TenantMixin, Base):
    """One attempt to sync one account: when, how it ended, how many records, and the error if any."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_account_id_started_at", "account_id", "started_at"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("provider_accounts.id", ondelete="CASCADE"), nullable=False)
    trigger: Mapped[str] = mapped_column(String(16), nullable=False)  # "schedule" | "manual"
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # "running" | "ok" | "failed" | "abandoned"
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    window_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    window_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    records: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(16))
    worker: Mapped[str] = mapped_column(String(120), default="", nullable=False)
