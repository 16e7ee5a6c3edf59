"""Ingest throughput on PostgreSQL: OpenAI usage results → records → priced rows → upserted, against raw COPY.

    python -m bench.ingest [--scale N] [--method NAME] [--batch-days D]

Builds 1,000,000 x N completions results in the shape OpenAI's `/organization/usage/completions` returns
(daily buckets grouped by project, API key, model and service tier), a week per batch per account, maps
them with the OpenAI provider's own mapping, and hands each batch to `backend.services.ingest.ingest()`
in a system session, committing per batch as the sync does. Then the same batches again (every row
conflicts), then the same final rows with a raw binary `COPY` into an identical scratch table. Batches
are built one at a time, so memory stays flat. Prints one JSON line of figures at the end.

Runs against a throwaway cluster from tests.postgres.start_cluster(), or BENCH_POSTGRES_URL if set (the
database is migrated; the bench's workspace and scratch table are dropped afterwards).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import delete, func, select, text

from backend.crypto import Keyring, configure_keyring
from backend.db import Database, utcnow
from backend.migrate import upgrade
from backend.models import DailySpend, ProviderAccount, Workspace
from backend.models import UsageRecord as UsageRow
from backend.services import ingest as ingest_module
from bench import ingest_methods
from bench.postgres import postgres_url
from integrations.providers.openai import usage_record
from integrations.records import UsageRecord

ROWS = 1_000_000
ACCOUNTS = 4
# Per account and day: 10 models, 10 projects, 10 API keys: 1,000 results.
MODELS = (
    "gpt-4o-2024-08-06",
    "gpt-4o-mini-2024-07-18",
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano-2025-04-14",
    "o3-2025-04-16",
    "o4-mini-2025-04-16",
    "gpt-4-turbo-2024-04-09",
    "gpt-3.5-turbo-0125",
    "ft:gpt-4o-mini-2024-07-18:acme::bench",  # not in the price table: stored without a cost
)
PROJECTS = tuple(f"proj_{i:02d}abcdefghijklmnopq" for i in range(10))
KEYS = tuple(f"key_{i:02d}ABCDEFGHIJKLMNOP" for i in range(10))
PER_DAY = len(MODELS) * len(PROJECTS) * len(KEYS)
FIRST_DAY = dt.datetime(2025, 6, 2, tzinfo=dt.UTC)


def _results(account: int, day: int) -> list[dict[str, Any]]:
    """One day's bucket results, as the raw JSON objects of the completions usage endpoint."""
    out = []
    seed = account * 7919 + day * 104729
    for m, model in enumerate(MODELS):
        for p, project in enumerate(PROJECTS):
            for k, key in enumerate(KEYS):
                n = (seed + m * 1009 + p * 101 + k * 13) % 9973 + 1
                out.append(
                    {
                        "object": "organization.usage.completions.result",
                        "input_tokens": n * 1375,
                        "output_tokens": n * 211,
                        "input_cached_tokens": n * 400,
                        "input_audio_tokens": 0,
                        "output_audio_tokens": 0,
                        "num_model_requests": n,
                        "project_id": project,
                        "user_id": None,
                        "api_key_id": key,
                        "model": model,
                        "batch": None,
                        "service_tier": "default",
                    }
                )
    return out


def _bucket(account: int, day: int) -> dict[str, Any]:
    start = int((FIRST_DAY + dt.timedelta(days=day)).timestamp())
    return {"object": "bucket", "start_time": start, "end_time": start + 86400, "results": _results(account, day)}


def batches(days: int, batch_days: int) -> Iterator[tuple[int, list[UsageRecord]]]:
    """(account index, records) per account and run of BATCH_DAYS days, normalized by the OpenAI mapping."""
    for account in range(ACCOUNTS):
        for first in range(0, days, batch_days):
            records: list[UsageRecord] = []
            for day in range(first, min(first + batch_days, days)):
                bucket = _bucket(account, day)
                start = dt.datetime.fromtimestamp(bucket["start_time"], tz=dt.UTC)
                records.extend(usage_record("completions", start, row) for row in bucket["results"])
            yield account, records


class Timer:
    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


def _ingest_pass(db: Database, accounts: list[int], days: int, batch_days: int) -> dict[str, float]:
    """Every batch through ingest(), one commit per batch; times the whole pass and its parts."""
    rebuild = Timer()
    original = ingest_module.rebuild_daily_spend
    ingest_module.rebuild_daily_spend = rebuild.wrap(original)  # type: ignore[assignment]
    normalize = ingest_time = 0.0
    rows = 0
    started = time.perf_counter()
    try:
        with db.system_session() as session:
            loaded = {a.id: a for a in session.scalars(select(ProviderAccount).where(ProviderAccount.id.in_(accounts)))}
            t0 = time.perf_counter()
            for index, records in batches(days, batch_days):
                t1 = time.perf_counter()
                rows += ingest_module.ingest(session=session, account=loaded[accounts[index]], records=records)
                session.commit()
                t2 = time.perf_counter()
                normalize += t1 - t0
                ingest_time += t2 - t1
                t0 = time.perf_counter()
    finally:
        ingest_module.rebuild_daily_spend = original
    total = time.perf_counter() - started
    return {
        "rows": rows,
        "seconds_total": round(total, 3),
        "seconds_build_and_normalize": round(normalize, 3),
        "seconds_ingest": round(ingest_time, 3),
        "seconds_rebuild_daily_spend": round(rebuild.seconds, 3),
        "rows_per_s_ingest": round(rows / ingest_time),
        "rows_per_s_end_to_end": round(rows / total),
        "rebuild_daily_spend_share": round(rebuild.seconds / ingest_time, 3),
    }


def _copy_pass(db: Database, accounts: list[int], days: int, batch_days: int) -> dict[str, float]:
    """The same final rows (to_row's output) with binary COPY into a scratch copy of usage_records."""
    columns = ingest_module.COLUMNS
    copy_time = 0.0
    rows = 0
    with db.system_session() as session:
        session.execute(text("DROP TABLE IF EXISTS bench_copy_usage_records"))
        # Identical: columns, defaults, indexes and unique constraint (LIKE … INCLUDING ALL), plus the same two
        # foreign keys, whose per-row checks are a large share of any insert into usage_records.
        session.execute(text("CREATE TABLE bench_copy_usage_records (LIKE usage_records INCLUDING ALL)"))
        for column, table in (("account_id", "provider_accounts"), ("workspace_id", "workspaces")):
            session.execute(
                text(
                    f"ALTER TABLE bench_copy_usage_records ADD FOREIGN KEY ({column}) "
                    f"REFERENCES {table} (id) ON DELETE CASCADE"
                )
            )
        session.commit()
        loaded = {a.id: a for a in session.scalars(select(ProviderAccount).where(ProviderAccount.id.in_(accounts)))}
        types = ingest_module.PG_COPY_TYPES
        for index, records in batches(days, batch_days):
            account = loaded[accounts[index]]
            now = utcnow()
            final = {}
            for record in records:
                values = ingest_module.row_values(account, record, now)
                final[values[3:11]] = values
            t0 = time.perf_counter()
            cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f"COPY bench_copy_usage_records ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as cp:
                cp.set_types(types)
                for values in final.values():
                    cp.write_row(values)
            session.commit()
            copy_time += time.perf_counter() - t0
            rows += len(final)
        session.execute(text("DROP TABLE bench_copy_usage_records"))
    return {"rows": rows, "seconds": round(copy_time, 3), "rows_per_s": round(rows / copy_time)}


def _setup(db: Database) -> tuple[int, list[int]]:
    with db.system_session() as session:
        workspace = Workspace(name="ingest bench")
        session.add(workspace)
        session.flush()
        accounts = [
            ProviderAccount(workspace_id=workspace.id, kind="openai", name=f"bench {i}", credentials={"api_key": "x"})
            for i in range(ACCOUNTS)
        ]
        session.add_all(accounts)
        session.flush()
        return workspace.id, [a.id for a in accounts]


def _check(db: Database, workspace_id: int) -> dict[str, Any]:
    with db.system_session() as session:
        stored = session.scalar(select(func.count()).select_from(UsageRow).where(UsageRow.workspace_id == workspace_id))
        spend = session.scalar(select(func.sum(DailySpend.cost)).where(DailySpend.workspace_id == workspace_id))
        priced = session.scalar(
            select(func.count()).select_from(UsageRow).where(UsageRow.workspace_id == workspace_id, UsageRow.cost > 0)
        )
    return {"stored_rows": stored, "priced_rows": priced, "daily_spend_total": str(spend)}


def run(url: str, scale: float, method: str, batch_days: int) -> dict[str, Any]:
    upgrade(url)
    configure_keyring(Keyring([Fernet.generate_key().decode()]))
    ingest_methods.use(method)
    db = Database(url)
    days = max(1, round(ROWS * scale / (ACCOUNTS * PER_DAY)))
    try:
        workspace_id, accounts = _setup(db)
        first = _ingest_pass(db, accounts, days, batch_days)
        again = _ingest_pass(db, accounts, days, batch_days)
        stored = _check(db, workspace_id)
        copy = _copy_pass(db, accounts, days, batch_days)
        with db.system_session() as session:
            session.execute(delete(Workspace).where(Workspace.id == workspace_id))
    finally:
        db.dispose()
    for figures in (first, again):
        figures["ratio_to_copy"] = round(figures["rows_per_s_ingest"] / copy["rows_per_s"], 3)
    return {
        "bench": "ingest",
        "method": method,
        "rows": ACCOUNTS * days * PER_DAY,
        "accounts": ACCOUNTS,
        "days": days,
        "batch_rows": batch_days * PER_DAY,
        "insert": first,
        "conflict_rerun": again,
        "copy": copy,
        "check": stored,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the 1,000,000 rows (0.1: a quick run)")
    parser.add_argument("--method", choices=sorted(ingest_methods.METHODS), default=ingest_methods.DEFAULT)
    parser.add_argument("--batch-days", type=int, default=7, help="days per ingest() call (1,000 rows a day)")
    args = parser.parse_args(argv)
    with postgres_url() as url:
        report = run(url, args.scale, args.method, args.batch_days)
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
