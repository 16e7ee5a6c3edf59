"""Provider accounts: a connection to one AI provider or money account, with encrypted credentials."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.crypto import EncryptedJSON
from backend.db import Base, UTCDateTime
from backend.models.base import NEVER_REUSE_IDS, IdMixin, TenantMixin, TimestampMixin

ACCOUNT_STATUSES = ("new", "ok", "failing", "needs_attention")


class ProviderAccount(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "provider_accounts"
    __table_args__ = NEVER_REUSE_IDS

    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # Every credential field (secret or not) lives in one Fernet token; the API shows hints only.
    credentials: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, nullable=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    sync_interval_minutes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="new", nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_tested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    # Sync state. The watermark moves only in the transaction that stores the data up to it.
    synced_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    next_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # A worker's lease on the account: nobody else syncs it until the lease ends (renewed while working).
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Cursor-based sources (Plaid /transactions/sync): where the next sync starts; saved with the changes it covers.
    sync_cursor: Mapped[str | None] = mapped_column(Text)
    # What the source last said about the connection (SimpleFIN errors[], sanitized): shown on the account.
    notices: Mapped[list[str] | None] = mapped_column(JSON)
