"""Schemas of /api/usage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from backend.schemas.common import PositiveId, RequestModel

GroupBy = Literal["day", "provider", "account", "model", "project"]
MAX_RANGE_DAYS = 3660


class UsageFilters(RequestModel):
    """Filters shared by the usage reads: an inclusive date range (UTC days) and optional dimensions."""

    from_: dt.date = Field(alias="from", description="First UTC day, inclusive")
    to: dt.date = Field(description="Last UTC day, inclusive")
    provider: str | None = Field(None, max_length=32)
    account_id: PositiveId | None = None
    model: str | None = Field(None, max_length=200)
    project: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _range(self) -> UsageFilters:
        if self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        if (self.to - self.from_).days > MAX_RANGE_DAYS:
            raise ValueError(f"the range is limited to {MAX_RANGE_DAYS} days")
        return self


class SummaryQuery(UsageFilters):
    group_by: str = Field("day", description="One or two of day, provider, account, model, project, comma-separated")

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        allowed = {"day", "provider", "account", "model", "project"}
        if not parts or len(parts) > 2 or any(p not in allowed for p in parts) or len(set(parts)) != len(parts):
            raise ValueError("group_by takes one or two of day, provider, account, model, project")
        return ",".join(parts)


class SummaryItem(BaseModel):
    day: dt.date | None = None
    provider: str | None = None
    account_id: int | None = None
    model: str | None = None
    project: str | None = None
    currency: str
    cost: Decimal
    cost_source: Literal["provider", "estimate", "mixed"]
    input_tokens: int
    output_tokens: int
    requests: int


class SummaryOut(BaseModel):
    from_: dt.date = Field(serialization_alias="from")
    to: dt.date
    group_by: list[GroupBy]
    totals: dict[str, Decimal] = Field(description="Total cost per currency")
    items: list[SummaryItem]


class RecordsQuery(UsageFilters):
    kind: str | None = Field(None, max_length=40)
    limit: int = Field(100, ge=1, le=1000)
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page")


class RecordOut(BaseModel):
    id: int
    account_id: int
    provider: str
    bucket_start: dt.datetime
    bucket_width: str
    kind: str
    model: str
    project: str
    api_key: str
    line_item: str
    service_tier: str
    input_tokens: int
    cache_read_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    output_tokens: int
    requests: int
    quantity: Decimal | None
    quantity_unit: str
    cost: Decimal | None
    currency: str
    cost_source: Literal["provider", "estimate", "none"]


class RecordPage(BaseModel):
    items: list[RecordOut]
    next_cursor: str | None


class ExportQuery(UsageFilters):
    kind: str | None = Field(None, max_length=40)
    format: Literal["csv", "json"] = "csv"
