"""Money accounts: bank accounts (from a SimpleFIN/Plaid connection, or kept by hand for statement imports), their
transactions, categories, categorization rules, statement import batches and saved import formats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, ExactDecimal, UTCDateTime, utcnow
from backend.models.base import NEVER_REUSE_IDS, IdMixin, TenantMixin, TimestampMixin
from backend.models.usage import BigId

# Bank amounts: cents and then some (some banks report fractions of a cent for FX), never float; exact on SQLite
# too (scaled integers), |amount| < 10**14.
Amount = ExactDecimal(18, 4)
CATEGORY_KINDS = ("expense", "income", "transfer")
# Where a transaction's category came from: a user rule, a person, the bank, the workspace's own history, or the
# default keyword map.
CATEGORY_SOURCES = ("rule", "manual", "provider", "learned", "keyword")
IMPORT_STATUSES = ("preview", "committed", "undone")


class BankAccount(IdMixin, TimestampMixin, TenantMixin, Base):
    """One account at a bank. `account_id` is the connection (SimpleFIN/Plaid) it comes from; NULL for an account
    kept by hand, filled by statement imports."""

    __tablename__ = "bank_accounts"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id", name="uq_bank_accounts_account_external"),
        NEVER_REUSE_IDS,
    )

    account_id: Mapped[int | None] = mapped_column(ForeignKey("provider_accounts.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    institution: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    currency: Mapped[str] = mapped_column(String(3), default="USD", nullable=False)
    balance: Mapped[Decimal | None] = mapped_column(Amount)
    available_balance: Mapped[Decimal | None] = mapped_column(Amount)
    balance_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Category(IdMixin, TimestampMixin, TenantMixin, Base):
    """A spending or income category of one workspace (the defaults are copied in per workspace), nested one level."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("workspace_id", "key", name="uq_categories_workspace_key"), NEVER_REUSE_IDS)

    key: Mapped[str | None] = mapped_column(String(64))  # the default's key ("groceries"); NULL for user-made
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    icon: Mapped[str] = mapped_column(String(16), default="", nullable=False)
    color: Mapped[str] = mapped_column(String(7), default="#888888", nullable=False)
    kind: Mapped[str] = mapped_column(String(10), default="expense", nullable=False)
    necessity: Mapped[int] = mapped_column(Integer, default=5, nullable=False)  # 1 to 10, 10 = essential
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))


class ImportBatch(IdMixin, TenantMixin, Base):
    """One statement file: previewed (the file is kept until commit), committed (its rows added), or undone."""

    __tablename__ = "import_batches"
    __table_args__ = NEVER_REUSE_IDS

    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id", ondelete="CASCADE"), nullable=False)
    filename: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    format: Mapped[str] = mapped_column(String(8), nullable=False)  # "csv" | "ofx"
    statement_fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)  # sha256 of the bytes
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the CSV layout used
    status: Mapped[str] = mapped_column(String(10), default="preview", nullable=False)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)  # kept between preview and commit, then dropped
    rows_added: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rows_skipped: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    committed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Transaction(TenantMixin, Base):
    """One bank transaction: amount signed (negative = money out), in its account's currency."""

    __tablename__ = "transactions"
    __table_args__ = (
        # The natural key: a bank id ("id:<id>") or a statement row's fingerprint. Re-sync and re-import change
        # nothing; two identical coffees in one file have two fingerprints.
        UniqueConstraint("bank_account_id", "fingerprint", name="uq_transactions_bank_account_fingerprint"),
        Index("ix_transactions_workspace_id_posted_on", "workspace_id", "posted_on"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id", ondelete="CASCADE"), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(120), nullable=False)
    external_id: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    posted_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Amount, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), default="USD", nullable=False)
    description: Mapped[str] = mapped_column(Text, default="", nullable=False)
    merchant: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    pending: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    pending_external_id: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    provider_category: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"), index=True)
    category_source: Mapped[str | None] = mapped_column(String(10))
    category_confidence: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    category_rule_id: Mapped[int | None] = mapped_column(ForeignKey("transaction_rules.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(Text, default="", nullable=False)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)  # left out of budgets
    # A transfer between two of the workspace's accounts: both rows point at each other and count in neither
    # spend nor income. transfer_locked: a user unpaired it (never paired again automatically) or paired by hand.
    transfer_peer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("transactions.id", ondelete="SET NULL"))
    is_transfer: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    transfer_locked: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id", ondelete="SET NULL"), index=True)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class TransactionRule(IdMixin, TimestampMixin, TenantMixin, Base):
    """An ordered categorization rule: conditions and actions as backend.money.rules parses them."""

    __tablename__ = "transaction_rules"
    __table_args__ = NEVER_REUSE_IDS

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # {"match": "all"|"any", "conditions": [...], "actions": [...]}
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class ImportFormat(IdMixin, TimestampMixin, TenantMixin, Base):
    """A CSV layout a user corrected and saved under a name, to apply to the next statement from that bank."""

    __tablename__ = "import_formats"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_import_formats_workspace_name"),
        NEVER_REUSE_IDS,
    )

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
