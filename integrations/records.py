"""The typed records that providers hand to the backend."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

BUCKET_WIDTHS = {"1m": dt.timedelta(minutes=1), "1h": dt.timedelta(hours=1), "1d": dt.timedelta(days=1)}

# Where a record's cost comes from: the provider's own bill, our price table, or nowhere (unknown price).
COST_PROVIDER = "provider"
COST_ESTIMATE = "estimate"
COST_NONE = "none"


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One bucket of usage or cost. Its natural key within an account is
    (bucket_start, bucket_width, kind, model, project, api_key, line_item, service_tier)."""

    bucket_start: dt.datetime
    bucket_width: str  # "1d", "1h", "1m"
    kind: str  # "completions", "embeddings", "images", …, "messages", "cost", "activity", "manual"
    model: str = ""
    project: str = ""  # OpenAI project id, Anthropic workspace id
    api_key: str = ""  # the provider's API key id (never the key itself)
    line_item: str = ""  # free-text cost label from the provider; never parsed
    service_tier: str = ""
    # Token counts by type. input_tokens is the total input, cache reads and writes included.
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    # Non-token usage: images, characters, seconds, bytes, sessions, web_search_requests…
    quantity: Decimal | None = None
    quantity_unit: str = ""
    cost: Decimal | None = None  # provider-reported cost; None when the provider does not report one
    currency: str = "USD"
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.bucket_start.tzinfo is None:
            raise ValueError("UsageRecord.bucket_start must be timezone-aware")
        if self.bucket_width not in BUCKET_WIDTHS:
            raise ValueError(f"unknown bucket width {self.bucket_width!r}")


@dataclass(frozen=True, slots=True)
class UsageBatch:
    """Records of one stretch of time, complete up to `complete_until`: the sync may move its watermark there."""

    records: list[UsageRecord]
    complete_until: dt.datetime


@dataclass(frozen=True, slots=True)
class SyncWindow:
    """Half-open [start, end) window of time to fetch, both UTC-aware."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("SyncWindow bounds must be timezone-aware")
        if self.end < self.start:
            raise ValueError("SyncWindow end is before its start")

    def chunks(self, size: dt.timedelta) -> list[SyncWindow]:
        """The window cut into consecutive pieces of at most SIZE, in order."""
        pieces = []
        start = self.start
        while start < self.end:
            end = min(start + size, self.end)
            pieces.append(SyncWindow(start, end))
            start = end
        return pieces


# --- Money accounts (banks and statements) ---------------------------------------------------------------------
# Amount sign everywhere inside Spendwatch: positive = money in, negative = money out (SimpleFIN's convention;
# Plaid's is the opposite and is flipped in its integration).


@dataclass(frozen=True, slots=True)
class BankAccountRecord:
    """One account at a bank, as a connection (SimpleFIN access URL, Plaid item) reports it."""

    external_id: str  # the provider's id of the account; unique within one connection
    name: str
    currency: str = "USD"
    institution: str = ""
    balance: Decimal | None = None
    available_balance: Decimal | None = None
    balance_at: dt.datetime | None = None  # UTC-aware
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    """One bank transaction, normalized: amount signed (negative = money out), dates in the bank's calendar."""

    account_external_id: str  # which BankAccountRecord it belongs to
    external_id: str  # the bank's id for it; "" when the source has none (some statement files)
    posted_on: dt.date  # the day it posted (for pending ones: the day it was authorized or seen)
    amount: Decimal
    currency: str = "USD"
    description: str = ""
    merchant: str = ""
    pending: bool = False
    #: for a posted transaction, the id of the pending one it replaces (Plaid's pending_transaction_id)
    pending_external_id: str = ""
    transacted_at: dt.datetime | None = None  # UTC-aware, when the source says when it happened
    provider_category: str = ""  # the provider's own category label, e.g. Plaid's personal_finance_category
    raw: dict[str, object] = field(default_factory=dict)  # the source row as received, for the user to see


@dataclass(frozen=True, slots=True)
class TransactionSync:
    """What one transaction sync brings: apply all of it, and persist `cursor`, in one database transaction."""

    accounts: list[BankAccountRecord]
    upserted: list[TransactionRecord]  # new or changed; keyed by (account_external_id, external_id)
    removed: list[tuple[str, str]]  # (account_external_id, external_id) of transactions that no longer exist
    cursor: str | None = None  # Plaid's next_cursor after the last page; None for sources without cursors
    notices: list[str] = field(default_factory=list)  # messages from the provider to show on the account
