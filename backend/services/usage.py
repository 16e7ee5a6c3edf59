"""Reading usage: summaries from the daily rollup, record pages with keyset cursors, and streamed exports."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.orm import Session

from backend.errors import Invalid
from backend.models import DailySpend
from backend.models import UsageRecord as UsageRow
from backend.models.usage import DIMENSIONS
from backend.services.ingest import MEASURES

GROUP_COLUMNS = {
    "day": DailySpend.day,
    "provider": DailySpend.provider,
    "account": DailySpend.account_id,
    "model": DailySpend.model,
    "project": DailySpend.project,
}
OUTPUT_KEYS = {"day": "day", "provider": "provider", "account": "account_id", "model": "model", "project": "project"}


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def summary(
    *,
    session: Session,
    workspace_id: int,
    start: dt.date,
    end: dt.date,
    group_by: Sequence[str],
    filters: dict[str, Any],
) -> tuple[list[dict[str, Any]], dict[str, Decimal]]:
    """Spend in [START, END] (UTC days) grouped by GROUP_BY, from the daily rollup only; totals per currency."""
    keys = [GROUP_COLUMNS[g] for g in group_by]
    stmt = (
        select(
            *keys,
            DailySpend.currency,
            func.sum(DailySpend.cost),
            func.min(DailySpend.cost_source),
            func.max(DailySpend.cost_source),
            func.sum(DailySpend.input_tokens),
            func.sum(DailySpend.output_tokens),
            func.sum(DailySpend.requests),
        )
        .where(DailySpend.workspace_id == workspace_id, DailySpend.day >= start, DailySpend.day <= end)
        .where(*_filters(DailySpend, filters))
        .group_by(*keys, DailySpend.currency)
        .order_by(*keys, DailySpend.currency)
    )
    items: list[dict[str, Any]] = []
    totals: dict[str, Decimal] = {}
    for row in session.execute(stmt):
        values = list(row)
        item = {OUTPUT_KEYS[g]: values[i] for i, g in enumerate(group_by)}
        currency, cost, low, high, tokens_in, tokens_out, requests = values[len(group_by) :]
        cost = Decimal(cost or 0)
        item |= {
            "currency": currency,
            "cost": cost,
            "cost_source": low if low == high else "mixed",
            "input_tokens": int(tokens_in or 0),
            "output_tokens": int(tokens_out or 0),
            "requests": int(requests or 0),
        }
        if "day" in item and isinstance(item["day"], str):  # SQLite hands dates back as text through func.sum paths
            item["day"] = dt.date.fromisoformat(item["day"])
        items.append(item)
        totals[currency] = totals.get(currency, Decimal(0)) + cost
    return items, totals


def _filters(model: type[DailySpend] | type[UsageRow], filters: dict[str, Any]) -> list[ColumnElement[bool]]:
    conditions = []
    for name in ("provider", "account_id", "model", "project", "kind"):
        value = filters.get(name)
        if value is not None and hasattr(model, name):
            conditions.append(getattr(model, name) == value)
    return conditions


def _records_query(workspace_id: int, start: dt.date, end: dt.date, filters: dict[str, Any]) -> Select[UsageRow]:
    return (
        select(UsageRow)
        .where(
            UsageRow.workspace_id == workspace_id,
            UsageRow.bucket_start >= _day_start(start),
            UsageRow.bucket_start < _day_start(end + dt.timedelta(days=1)),
        )
        .where(*_filters(UsageRow, filters))
    )


def encode_cursor(row: UsageRow) -> str:
    raw = json.dumps([row.bucket_start.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    """The (bucket_start, id) a cursor points after; a 422 for anything we did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, row_id = json.loads(raw)
        return dt.datetime.fromisoformat(when), int(row_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise Invalid("The cursor is not valid; use next_cursor from the previous page.", code="bad_cursor") from None


def records_page(
    *,
    session: Session,
    workspace_id: int,
    start: dt.date,
    end: dt.date,
    filters: dict[str, Any],
    limit: int,
    cursor: str | None,
) -> tuple[list[UsageRow], str | None]:
    """One page of usage records, newest bucket first, continuing after CURSOR (keyset pagination)."""
    stmt = _records_query(workspace_id, start, end, filters)
    if cursor:
        when, row_id = decode_cursor(cursor)
        stmt = stmt.where(tuple_(UsageRow.bucket_start, UsageRow.id) < tuple_(when, row_id))
    rows = list(session.scalars(stmt.order_by(UsageRow.bucket_start.desc(), UsageRow.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


EXPORT_CHUNK = 2000
# Where and what, then every measure (ingest's own list, so a new measure is exported without a second edit).
EXPORT_COLUMNS = (
    "bucket_start",
    "bucket_width",
    "provider",
    "account_id",
    "kind",
    *DIMENSIONS,
    *(name for name in MEASURES if name != "updated_at"),
)


def export_rows(
    *, session: Session, workspace_id: int, start: dt.date, end: dt.date, filters: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """Every matching record in time order, read in keyset chunks (never all in memory, no cursor held open
    between chunks, so a slow client does not pin a server-side cursor)."""
    base = _records_query(workspace_id, start, end, filters).order_by(UsageRow.bucket_start, UsageRow.id)
    after: tuple[dt.datetime, int] | None = None
    while True:
        stmt = base if after is None else base.where(tuple_(UsageRow.bucket_start, UsageRow.id) > tuple_(*after))
        chunk = list(session.scalars(stmt.limit(EXPORT_CHUNK)))
        for row in chunk:
            yield {name: getattr(row, name) for name in EXPORT_COLUMNS}
        if len(chunk) < EXPORT_CHUNK:
            return
        after = (chunk[-1].bucket_start, chunk[-1].id)
        session.expunge_all()  # keep the identity map from growing with the export
