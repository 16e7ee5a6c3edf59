"""The typed records that providers hand to the backend."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """Usage of one bucket: (bucket start, width, dimensions, kind) is its natural key within an account."""

    bucket_start: dt.datetime
    bucket_width: str  # "1d", "1h", "1m"
    kind: str  # e.g. "completions", "embeddings"
    model: str = ""
    project: str = ""
    api_key: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    requests: int = 0
    cost: Decimal | None = None  # provider-reported cost; None when the provider does not report one
    currency: str = "USD"
    extra: dict[str, str] = field(default_factory=dict)


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
