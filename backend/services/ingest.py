"""Idempotent ingest of provider usage: bulk upsert on natural keys, then the daily rollup of the touched days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.models import DailySpend, ProviderAccount
from backend.models import UsageRecord as UsageRow
from backend.models.usage import DIMENSIONS
from backend.services.pricing import estimate_cost
from integrations.records import COST_ESTIMATE, COST_NONE, COST_PROVIDER, UsageRecord

NATURAL_KEY = ("account_id", "bucket_start", "bucket_width", "kind", *DIMENSIONS)
MEASURES = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "requests",
    "quantity",
    "quantity_unit",
    "cost",
    "currency",
    "cost_source",
    "updated_at",
)


def to_row(account: ProviderAccount, record: UsageRecord, now: dt.datetime) -> dict[str, Any]:
    """The usage_records row for RECORD: the provider's cost if it gave one, else our estimate, else none."""
    cost: Decimal | None
    if record.cost is not None:
        cost, source = record.cost, COST_PROVIDER
    else:
        cost = estimate_cost(account.kind, record)
        source = COST_ESTIMATE if cost is not None else COST_NONE
    return {
        "workspace_id": account.workspace_id,
        "account_id": account.id,
        "provider": account.kind,
        "bucket_start": record.bucket_start,
        "bucket_width": record.bucket_width,
        "kind": record.kind,
        "model": record.model[:200],
        "project": record.project[:200],
        "api_key": record.api_key[:200],
        "line_item": record.line_item[:300],
        "service_tier": record.service_tier[:40],
        "input_tokens": record.input_tokens,
        "cache_read_tokens": record.cache_read_tokens,
        "cache_write_5m_tokens": record.cache_write_5m_tokens,
        "cache_write_1h_tokens": record.cache_write_1h_tokens,
        "output_tokens": record.output_tokens,
        "requests": record.requests,
        "quantity": record.quantity,
        "quantity_unit": record.quantity_unit[:32],
        "cost": cost,
        "currency": record.currency.upper()[:3],
        "cost_source": source,
        "updated_at": now,
    }


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT (natural key) DO UPDATE, as one executemany."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(UsageRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(NATURAL_KEY), set_={name: stmt.excluded[name] for name in MEASURES}
    )
    session.execute(stmt, rows)


def _day_expr(dialect: str) -> str:
    # The UTC calendar day of a bucket: SQLite stores naive UTC text, PostgreSQL timestamptz.
    return "(bucket_start AT TIME ZONE 'UTC')::date" if dialect == "postgresql" else "date(bucket_start)"


def rebuild_daily_spend(*, session: Session, account: ProviderAccount, start: dt.date, end: dt.date) -> None:
    """Recompute the account's daily_spend rows for days in [START, END] from its usage records.

    Per account-day: if the provider reported any cost that day, its costs are the truth and our estimates
    for that day are ignored; otherwise the estimates are the spend.
    """
    dialect = session.get_bind().dialect.name
    lo = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    bounds = {"account_id": account.id, "lo": lo, "hi": hi}
    if dialect == "sqlite":  # bound as the naive UTC text SQLite stores
        bounds |= {"lo": lo.replace(tzinfo=None), "hi": hi.replace(tzinfo=None)}
    session.execute(
        delete(DailySpend).where(DailySpend.account_id == account.id, DailySpend.day >= start, DailySpend.day <= end)
    )
    day = _day_expr(dialect)
    session.execute(
        text(
            f"""
            INSERT INTO daily_spend (workspace_id, account_id, provider, day, model, project, currency,
                                     cost, cost_source, input_tokens, output_tokens, requests)
            SELECT :workspace_id, :account_id, :provider, day, model, project, currency,
                   COALESCE(SUM(CASE WHEN has_provider = 1 AND cost_source = 'provider' THEN cost
                                     WHEN has_provider = 0 AND cost_source = 'estimate' THEN cost END), 0),
                   CASE WHEN MAX(has_provider) = 1 THEN 'provider' ELSE 'estimate' END,
                   SUM(input_tokens), SUM(output_tokens), SUM(requests)
            FROM (
                SELECT {day} AS day, model, project, currency, cost, cost_source,
                       input_tokens, output_tokens, requests,
                       MAX(CASE WHEN cost_source = 'provider' THEN 1 ELSE 0 END)
                           OVER (PARTITION BY {day}) AS has_provider
                FROM usage_records
                WHERE account_id = :account_id AND bucket_start >= :lo AND bucket_start < :hi
            ) AS src
            GROUP BY day, model, project, currency
            """  # noqa: S608 - only the dialect's fixed day expression is formatted in
        ),
        {**bounds, "workspace_id": account.workspace_id, "provider": account.kind},
    )


def ingest(*, session: Session, account: ProviderAccount, records: Sequence[UsageRecord]) -> int:
    """Upsert RECORDS for ACCOUNT and refresh the daily rollup of the days they touch (caller commits)."""
    if not records:
        return 0
    now = utcnow()
    rows = {}
    for record in records:
        row = to_row(account, record, now)
        # A batch may repeat a key (e.g. a provider re-sending a bucket): the last one wins, as on re-sync.
        rows[tuple(row[k] for k in NATURAL_KEY)] = row
    _upsert(session, list(rows.values()))
    days = [r.bucket_start.astimezone(dt.UTC).date() for r in records]
    rebuild_daily_spend(session=session, account=account, start=min(days), end=max(days))
    return len(rows)
