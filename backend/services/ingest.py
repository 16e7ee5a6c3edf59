"""Idempotent ingest of provider usage: bulk upsert on natural keys, then the daily rollup of the touched days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence, Sized
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.models import DailySpend, ProviderAccount
from backend.models import UsageRecord as UsageRow
from backend.models.usage import DIMENSIONS
from backend.services import alert_marks
from backend.services.pricing import EMPTY_PRICES, PriceTable, estimate_cost, load_overrides
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
# Every column ingest writes, in the order of row_values(): account and provider, the rest of the natural
# key, then the measures.
COLUMNS = ("workspace_id", "account_id", "provider", *NATURAL_KEY[1:], *MEASURES)
# row_values()[KEY_SLICE] is the natural key without the account (one account per ingest call).
KEY_SLICE = slice(3, 3 + len(NATURAL_KEY) - 1)


def row_values(
    account: ProviderAccount, record: UsageRecord, now: dt.datetime, prices: PriceTable = EMPTY_PRICES
) -> tuple[Any, ...]:
    """The usage_records row for RECORD as a tuple in COLUMNS order: the provider's cost if it gave one,
    else our estimate (admin prices first, then genai-prices), else none."""
    return _values((account.workspace_id, account.id, account.kind), record, now, prices)


def _values(owner: tuple[int, int, str], record: UsageRecord, now: dt.datetime, prices: PriceTable) -> tuple[Any, ...]:
    # The hot path of ingest (once per record): OWNER is (workspace_id, account_id, provider), read once per batch.
    cost: Decimal | None = record.cost
    if cost is not None:
        source = COST_PROVIDER
    else:
        cost = estimate_cost(owner[2], record, prices)
        source = COST_ESTIMATE if cost is not None else COST_NONE
    return (
        *owner,
        record.bucket_start,
        record.bucket_width,
        record.kind,
        record.model[:200],
        record.project[:200],
        record.api_key[:200],
        record.line_item[:300],
        record.service_tier[:40],
        record.input_tokens,
        record.cache_read_tokens,
        record.cache_write_5m_tokens,
        record.cache_write_1h_tokens,
        record.output_tokens,
        record.requests,
        record.quantity,
        record.quantity_unit[:32],
        cost,
        record.currency.upper()[:3],
        source,
        now,
    )


def to_row(account: ProviderAccount, record: UsageRecord, now: dt.datetime) -> dict[str, Any]:
    """The usage_records row for RECORD, by column name (see row_values)."""
    return dict(zip(COLUMNS, row_values(account, record, now), strict=True))


def _upsert_executemany(session: Session, rows: Iterable[tuple[Any, ...]]) -> None:
    """INSERT … ON CONFLICT (natural key) DO UPDATE, as one executemany (SQLite; any dialect)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(UsageRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(NATURAL_KEY), set_={name: stmt.excluded[name] for name in MEASURES}
    )
    session.execute(stmt, [dict(zip(COLUMNS, row, strict=True)) for row in rows])


# PostgreSQL types of COLUMNS, for binary COPY (it sends values without type inference).
_PG_TYPES = {
    "workspace_id": "int4",
    "account_id": "int4",
    "bucket_start": "timestamptz",
    "updated_at": "timestamptz",
    "quantity": "numeric",
    "cost": "numeric",
    **{name: "int8" for name in MEASURES[:6]},
}
PG_COPY_TYPES = [_PG_TYPES.get(name, "text") for name in COLUMNS]
_STAGE = "ingest_usage_stage"
_COLS = ", ".join(COLUMNS)
_CREATE_STAGE = (
    # Same column types as usage_records (so COPY rounds and checks lengths as the table would); no
    # constraints or indexes. Dropped at commit, and explicitly after use for a second ingest in one transaction.
    f"CREATE TEMP TABLE {_STAGE} ON COMMIT DROP AS SELECT {_COLS} FROM usage_records WITH NO DATA"  # noqa: S608
)
_MERGE_STAGE = (
    f"INSERT INTO usage_records ({_COLS}) SELECT {_COLS} FROM {_STAGE} "  # noqa: S608
    f"ON CONFLICT ({', '.join(NATURAL_KEY)}) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in MEASURES)
)


def _upsert_copy(session: Session, rows: Iterable[tuple[Any, ...]]) -> None:
    """PostgreSQL bulk path: binary COPY into a temporary staging table, then one INSERT … SELECT … ON CONFLICT
    DO UPDATE into usage_records (row-level security applies to that INSERT as to any other)."""
    connection: Any = session.connection().connection.driver_connection  # the psycopg connection, same transaction
    with connection.cursor() as cursor:
        cursor.execute(_CREATE_STAGE)
        with cursor.copy(f"COPY {_STAGE} ({_COLS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(PG_COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        cursor.execute(_MERGE_STAGE)
        cursor.execute(f"DROP TABLE {_STAGE}")


_UNNEST = (
    f"INSERT INTO usage_records ({_COLS}) SELECT * FROM unnest("  # noqa: S608 - fixed column names only
    + ", ".join(f"%s::{pg_type}[]" for pg_type in PG_COPY_TYPES)
    + f") {_MERGE_STAGE[_MERGE_STAGE.index('ON CONFLICT') :]}"
)


def _upsert_unnest(session: Session, rows: Iterable[tuple[Any, ...]]) -> None:
    """PostgreSQL path without DDL: one INSERT … SELECT FROM unnest(one array per column) ON CONFLICT,
    parameters sent in binary."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    if not columns:
        return
    connection: Any = session.connection().connection.driver_connection
    with connection.cursor(binary=True) as cursor:
        cursor.execute(_UNNEST, columns)


# Below this many rows the temp table's create/drop costs more than COPY saves (a steady-state sync stores a
# few dozen rows: `python -m bench.fanout` spent a third of PostgreSQL's time on the staging DDL).
COPY_MIN_ROWS = 2000


def _upsert_postgres(session: Session, rows: Iterable[tuple[Any, ...]]) -> None:
    """PostgreSQL: COPY for big batches (backfills), unnest for small ones (steady-state syncs)."""
    batch = rows if isinstance(rows, Sized) else list(rows)
    if len(batch) >= COPY_MIN_ROWS:
        _upsert_copy(session, batch)
    else:
        _upsert_unnest(session, batch)


# How each dialect upserts a batch (the benchmark swaps in the alternatives it compares).
UPSERTS: dict[str, Callable[[Session, Iterable[tuple[Any, ...]]], None]] = {"postgresql": _upsert_postgres}


def _day_expr(dialect: str) -> str:
    # The UTC calendar day of a bucket: SQLite stores naive UTC text, PostgreSQL timestamptz.
    return "(bucket_start AT TIME ZONE 'UTC')::date" if dialect == "postgresql" else "date(bucket_start)"


def rebuild_daily_spend(*, session: Session, account: ProviderAccount, start: dt.date, end: dt.date) -> None:
    """Recompute the account's daily_spend rows for days in [START, END] from its usage records.

    Per account-day: if the provider reported any cost that day, its costs are the truth and our estimates
    for that day are ignored; otherwise the estimates are the spend.
    """
    alert_marks.mark(session, [account.workspace_id])  # its budgets and anomalies are looked at on the next tick
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


def ingest(
    *, session: Session, account: ProviderAccount, records: Sequence[UsageRecord], prices: PriceTable | None = None
) -> int:
    """Upsert RECORDS for ACCOUNT and refresh the daily rollup of the days they touch (caller commits). PRICES
    are the admin overrides (loaded here unless the caller already holds them)."""
    if not records:
        return 0
    now = utcnow()
    rows: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    key = KEY_SLICE
    owner = (account.workspace_id, account.id, account.kind)
    if prices is None:
        prices = load_overrides(session=session)
    for record in records:
        row = _values(owner, record, now, prices)
        # A batch may repeat a key (e.g. a provider re-sending a bucket): the last one wins, as on re-sync.
        rows[row[key]] = row
    upsert = UPSERTS.get(session.get_bind().dialect.name, _upsert_executemany)
    upsert(session, rows.values())
    first = min(r.bucket_start for r in records).astimezone(dt.UTC).date()
    last = max(r.bucket_start for r in records).astimezone(dt.UTC).date()
    rebuild_daily_spend(session=session, account=account, start=first, end=last)
    return len(rows)
