"""Summary: `GET /api/usage/summary` for one month grouped by model, on 10,000,000 usage rows in PostgreSQL.

    python -m bench.summary [--scale N] [--requests R] [--explain]

Loads 10,000,000 x N rows into usage_records (one year of daily buckets, 50 workspaces; the measured one, the
largest tenant, holds 40 % of the rows in 5 OpenAI, Anthropic and OpenRouter accounts), generated on the server
with `INSERT … SELECT … FROM generate_series()`, then derives daily_spend from them with one set-based
`INSERT … SELECT … GROUP BY` that has rebuild_daily_spend's semantics (checked against rebuild_daily_spend
itself on a sample), then VACUUM ANALYZE. Then sends R (200) requests for the last month through the whole
Flask stack with the test client, as a user registered through the API, and checks the totals once against a
direct sum over usage_records. Prints one JSON line: p50/p95/p99/max, row counts, load time, and the target.

Runs against a throwaway cluster from tests.postgres.start_cluster(), or BENCH_POSTGRES_URL if set (an empty
database: it is migrated and filled, and not cleaned up).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.config import Settings
from backend.db import Database, enable_rls_bypass, set_workspace
from backend.migrate import upgrade
from backend.models import ProviderAccount, Workspace
from backend.services.ingest import rebuild_daily_spend
from bench.postgres import postgres_url

ROWS = 10_000_000
WORKSPACES = 50
BIG_SHARE = 0.4  # of all rows, in the measured workspace
FIRST_DAY = dt.date(2025, 11, 1)
DAYS = 365
MONTH = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))  # the last month of the data
REQUESTS = 200
WARMUP = 10
TARGET_P95_MS = 50.0
PASSWORD = "bench password 123"

# (model, input and output price in USD per million tokens); None: not in any price table, stored without a cost.
OPENAI_MODELS: tuple[tuple[str, float | None, float | None], ...] = (
    ("gpt-4o-2024-08-06", 2.5, 10),
    ("gpt-4o-mini-2024-07-18", 0.15, 0.6),
    ("gpt-4.1-2025-04-14", 2, 8),
    ("gpt-4.1-mini-2025-04-14", 0.4, 1.6),
    ("gpt-4.1-nano-2025-04-14", 0.1, 0.4),
    ("gpt-5-2025-08-07", 1.25, 10),
    ("gpt-5-mini-2025-08-07", 0.25, 2),
    ("gpt-5-nano-2025-08-07", 0.05, 0.4),
    ("o3-2025-04-16", 2, 8),
    ("o4-mini-2025-04-16", 1.1, 4.4),
    ("o3-mini-2025-01-31", 1.1, 4.4),
    ("o1-2024-12-17", 15, 60),
    ("gpt-4-turbo-2024-04-09", 10, 30),
    ("gpt-3.5-turbo-0125", 0.5, 1.5),
    ("chatgpt-4o-latest", 5, 15),
    ("gpt-4o-audio-preview-2024-12-17", 2.5, 10),
    ("gpt-4o-realtime-preview-2024-12-17", 5, 20),
    ("text-embedding-3-small", 0.02, 0),
    ("text-embedding-3-large", 0.13, 0),
    ("ft:gpt-4o-mini-2024-07-18:acme::bench", None, None),
)
ANTHROPIC_MODELS: tuple[tuple[str, float | None, float | None], ...] = (
    ("claude-opus-4-1-20250805", 15, 75),
    ("claude-opus-4-20250514", 15, 75),
    ("claude-sonnet-4-5-20250929", 3, 15),
    ("claude-sonnet-4-20250514", 3, 15),
    ("claude-3-7-sonnet-20250219", 3, 15),
    ("claude-haiku-4-5-20251001", 1, 5),
    ("claude-3-5-haiku-20241022", 0.8, 4),
    ("claude-3-5-sonnet-20241022", 3, 15),
    ("claude-3-haiku-20240307", 0.25, 1.25),
)
OPENROUTER_MODELS: tuple[tuple[str, float | None, float | None], ...] = tuple(
    (name, 1.0, 4.0)
    for name in (
        "openai/gpt-4o",
        "openai/gpt-4o-mini",
        "openai/gpt-5",
        "openai/o4-mini",
        "anthropic/claude-sonnet-4",
        "anthropic/claude-3.5-haiku",
        "anthropic/claude-opus-4.1",
        "google/gemini-2.5-pro",
        "google/gemini-2.5-flash",
        "google/gemini-2.0-flash-001",
        "meta-llama/llama-3.3-70b-instruct",
        "meta-llama/llama-4-maverick",
        "deepseek/deepseek-chat-v3-0324",
        "deepseek/deepseek-r1",
        "mistralai/mistral-large-2411",
        "mistralai/mistral-small-3.1-24b-instruct",
        "qwen/qwen3-235b-a22b",
        "qwen/qwen-2.5-coder-32b-instruct",
        "x-ai/grok-3",
        "x-ai/grok-4",
        "moonshotai/kimi-k2",
        "cohere/command-r-plus-08-2024",
        "nousresearch/hermes-3-llama-3.1-405b",
        "z-ai/glm-4.5",
    )
)
UPSTREAMS = ("OpenAI", "Anthropic", "Google", "DeepInfra", "Together", "Fireworks")
COST_LINE_ITEMS = ("completions, input", "completions, output", "embeddings", "web search", "file search", "images")


@dataclass(frozen=True)
class Shape:
    """How one account's usage rows spread over dimensions (keys grow to hold the account's row budget)."""

    kind: str  # provider kind of the account
    record_kind: str  # usage_records.kind of its usage rows
    models: tuple[tuple[str, float | None, float | None], ...]
    projects: int  # 0: the provider has no projects
    tiers: tuple[str, ...] = ("",)
    line_items: tuple[str, ...] = ("",)
    cost_reports: bool = False  # the provider reports its own costs per project and line item (kind "cost")
    provider_cost: bool = False  # every usage row carries the provider's cost (OpenRouter)


# The measured workspace: (name, shape, weight of its rows).
BIG_ACCOUNTS: tuple[tuple[str, Shape, float], ...] = (
    ("OpenAI production", Shape("openai", "completions", OPENAI_MODELS, 16, ("default", "flex")), 4),
    ("OpenAI research", Shape("openai", "completions", OPENAI_MODELS, 8, ("default", "flex"), cost_reports=True), 2),
    ("Anthropic", Shape("anthropic", "messages", ANTHROPIC_MODELS, 6, ("standard", "batch"), cost_reports=True), 2),
    ("Anthropic batch", Shape("anthropic", "messages", ANTHROPIC_MODELS, 4, ("batch",)), 1),
    ("OpenRouter", Shape("openrouter", "activity", OPENROUTER_MODELS, 0, line_items=UPSTREAMS, provider_cost=True), 1),
)
# The other workspaces have the first 1 to 4 of these accounts (the first one takes what OpenRouter cannot hold).
SMALL_SHAPES = (
    Shape("openai", "completions", OPENAI_MODELS[:12], 4, ("default",)),
    Shape("anthropic", "messages", ANTHROPIC_MODELS[:6], 2, ("standard",), cost_reports=True),
    Shape("openrouter", "activity", OPENROUTER_MODELS[:10], 0, line_items=UPSTREAMS[:3], provider_cost=True),
    Shape("openai", "completions", OPENAI_MODELS[:8], 3, ("default",), cost_reports=True),
)

# One account's rows, all on the server. Row i is on day i % DAYS; its combination number c = i / DAYS is cut
# into cost rows (the first :ncost, per project and line item) then usage rows (model fastest, then project,
# API key, line item, service tier), so every row has its own natural key.
GENERATE = """
INSERT INTO usage_records (workspace_id, account_id, provider, bucket_start, bucket_width, kind, model, project,
    api_key, line_item, service_tier, input_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
    output_tokens, requests, quantity, quantity_unit, cost, currency, cost_source, updated_at)
SELECT :workspace_id, :account_id, :provider,
       (:first_day + g.day::integer) AT TIME ZONE 'UTC', '1d',
       CASE WHEN g.is_cost THEN 'cost' ELSE :record_kind END,
       CASE WHEN g.is_cost THEN '' ELSE (:models)[g.m] END,
       (:projects)[g.p], CASE WHEN g.is_cost THEN '' ELSE (:keys)[g.k] END,
       CASE WHEN g.is_cost THEN (:cost_items)[g.l] ELSE (:line_items)[g.l] END,
       CASE WHEN g.is_cost THEN '' ELSE (:tiers)[g.t] END,
       CASE WHEN g.is_cost THEN 0 ELSE g.n * 1375 END, CASE WHEN g.is_cost THEN 0 ELSE g.n * 400 END, 0, 0,
       CASE WHEN g.is_cost THEN 0 ELSE g.n * 211 END, CASE WHEN g.is_cost THEN 0 ELSE g.n END,
       CASE WHEN g.is_cost THEN g.n END, CASE WHEN g.is_cost THEN 'tokens' ELSE '' END,
       CASE WHEN g.is_cost THEN round(g.n * 0.0371, 10)
            WHEN :provider_cost THEN round(g.n * (975 * (:price_in)[g.m] + 400 * (:price_in)[g.m] / 10
                                                  + 211 * (:price_out)[g.m]) / 1000000 * 1.05, 10)
            WHEN (:price_in)[g.m] IS NULL THEN NULL
            ELSE round(g.n * (975 * (:price_in)[g.m] + 400 * (:price_in)[g.m] / 10
                              + 211 * (:price_out)[g.m]) / 1000000, 10) END,
       'USD',
       CASE WHEN g.is_cost OR :provider_cost THEN 'provider'
            WHEN (:price_in)[g.m] IS NULL THEN 'none' ELSE 'estimate' END,
       now()
FROM (
    SELECT i % :days AS day, c < :ncost AS is_cost,
           (i * 2654435761 + :account_id * 40503) % 9973 + 1 AS n,
           1 + u % :n_models AS m,
           1 + CASE WHEN c < :ncost THEN c % :n_projects ELSE (u / :n_models) % :n_projects END AS p,
           1 + (u / (:n_models * :n_projects)) % :n_keys AS k,
           1 + CASE WHEN c < :ncost THEN (c / :n_projects) % :n_cost_items
                    ELSE (u / (:n_models * :n_projects * :n_keys)) % :n_line_items END AS l,
           1 + (u / (:n_models * :n_projects * :n_keys * :n_line_items)) % :n_tiers AS t
    FROM (SELECT i, i / :days AS c, greatest(i / :days - :ncost, 0) AS u
          FROM generate_series(0::bigint, :rows - 1) AS i) AS s
) AS g
"""

# rebuild_daily_spend for every account and day at once, with the same columns, the same grouping and the same
# rule per account-day (the provider's costs if it reported any that day, else our estimates), but aggregated
# first and the rule applied to the groups (a window over 10M rows would sort them all twice). Written in day
# order, as day-by-day syncs would. _check_rebuild compares it with rebuild_daily_spend itself.
DERIVE_DAILY_SPEND = """
INSERT INTO daily_spend (workspace_id, account_id, provider, day, model, project, currency,
                         cost, cost_source, input_tokens, output_tokens, requests)
SELECT a.workspace_id, a.id, a.kind, g.day, g.model, g.project, g.currency,
       COALESCE(CASE WHEN g.has_provider THEN g.provider_cost ELSE g.estimate END, 0),
       CASE WHEN g.has_provider THEN 'provider' ELSE 'estimate' END,
       g.input_tokens, g.output_tokens, g.requests
FROM (
    SELECT *, bool_or(any_provider) OVER (PARTITION BY account_id, day) AS has_provider
    FROM (
        SELECT account_id, (bucket_start AT TIME ZONE 'UTC')::date AS day, model, project, currency,
               SUM(cost) FILTER (WHERE cost_source = 'provider') AS provider_cost,
               SUM(cost) FILTER (WHERE cost_source = 'estimate') AS estimate,
               bool_or(cost_source = 'provider') AS any_provider,
               SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, SUM(requests) AS requests
        FROM usage_records
        GROUP BY account_id, (bucket_start AT TIME ZONE 'UTC')::date, model, project, currency
    ) AS per_group
) AS g
JOIN provider_accounts AS a ON a.id = g.account_id
ORDER BY g.day, a.id
"""

DAILY_COLUMNS = (
    "workspace_id, account_id, provider, day, model, project, currency, cost, cost_source, "
    "input_tokens, output_tokens, requests"
)

# The month's spend straight from usage_records, written independently of the rollup: per account-day, the
# provider's costs if it reported any, else our estimates.
DIRECT_TOTAL = """
SELECT COALESCE(SUM(CASE WHEN has_provider THEN provider_cost ELSE estimate END), 0), COALESCE(SUM(requests), 0),
       COALESCE(SUM(n), 0)
FROM (
    SELECT bool_or(cost_source = 'provider') AS has_provider,
           COALESCE(SUM(cost) FILTER (WHERE cost_source = 'provider'), 0) AS provider_cost,
           COALESCE(SUM(cost) FILTER (WHERE cost_source = 'estimate'), 0) AS estimate,
           SUM(requests) AS requests, count(*) AS n
    FROM usage_records
    WHERE workspace_id = :workspace_id AND bucket_start >= :lo AND bucket_start < :hi
    GROUP BY account_id, (bucket_start AT TIME ZONE 'UTC')::date
) AS per_account_day
"""


def _weights(n: int) -> list[float]:
    """Zipf-like sizes for the other workspaces: a few large tenants, a long tail of small ones."""
    return [1 / (k + 1) ** 0.7 for k in range(n)]


def _split(total: int, weights: list[float]) -> list[int]:
    """TOTAL cut in parts proportional to WEIGHTS, each at least one row, adding up exactly."""
    scale = sum(weights)
    parts = [max(1, int(total * w / scale)) for w in weights]
    parts[0] += total - sum(parts)
    return parts


def _capacity(shape: Shape) -> int | None:
    """Most rows a day an account of SHAPE can have (None: no bound, its API keys grow with its rows)."""
    return len(shape.models) * len(shape.line_items) if shape.kind == "openrouter" else None


def _workspace(ws: int, accounts: list[tuple[str, Shape, float]], rows: int) -> list[tuple[int, str, Shape, int]]:
    """ROWS split over one workspace's ACCOUNTS by weight; what a bounded account cannot hold goes to the first."""
    parts = _split(rows, [weight for *_, weight in accounts])
    for n, (_, shape, _) in enumerate(accounts):
        capacity = _capacity(shape)
        if capacity is not None and parts[n] > capacity * DAYS:
            parts[0] += parts[n] - capacity * DAYS
            parts[n] = capacity * DAYS
    return [(ws, name, shape, part) for (name, shape, _), part in zip(accounts, parts, strict=True)]


def _plan(scale: float) -> list[tuple[int, str, Shape, int]]:
    """(workspace index, account name, shape, rows) for every account; workspace 0 is the measured one."""
    total = max(int(ROWS * scale), 10 * WORKSPACES)
    big = int(total * BIG_SHARE)
    plan = _workspace(0, list(BIG_ACCOUNTS), big)
    for ws, ws_rows in enumerate(_split(total - big, _weights(WORKSPACES - 1)), start=1):
        shapes = SMALL_SHAPES[: 1 + ws % len(SMALL_SHAPES)]
        plan += _workspace(ws, [(f"{shape.kind} {n + 1}", shape, 1.0) for n, shape in enumerate(shapes)], ws_rows)
    return plan


def _ids(prefix: str, seed: int, count: int, width: int) -> list[str]:
    """COUNT provider-style ids (e.g. proj_…) that differ between accounts."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    out = []
    for i in range(count):
        x = (seed * 1_000_003 + i * 7_919 + 17) * 2_654_435_761
        chars = []
        for _ in range(width):
            x, r = divmod(x * 31 + 7, len(alphabet))
            chars.append(alphabet[r])
        out.append(prefix + "".join(chars))
    return out


def _parameters(account: ProviderAccount, shape: Shape, rows: int) -> dict[str, Any]:
    """Bind parameters of GENERATE for one account with ROWS rows."""
    per_day = math.ceil(rows / DAYS)
    projects = (
        [""]
        if shape.projects == 0
        else _ids("wrkspc_" if shape.kind == "anthropic" else "proj_", account.id, shape.projects, 24)
    )
    cost_items = list(COST_LINE_ITEMS)
    ncost = min(len(projects) * len(cost_items), per_day // 8) if shape.cost_reports else 0
    combos_per_key = len(shape.models) * len(projects) * len(shape.line_items) * len(shape.tiers)
    n_keys = 1 if shape.kind == "openrouter" else max(1, math.ceil((per_day - ncost) / combos_per_key))
    if n_keys > 1 and shape.kind == "openrouter":
        raise ValueError("OpenRouter rows have no key dimension")
    keys = [""] if shape.kind == "openrouter" else _ids("key_", account.id, n_keys, 16)
    if (per_day - ncost) > combos_per_key * len(keys):
        raise ValueError(f"account {account.name}: {per_day} rows a day do not fit its dimensions")
    return {
        "workspace_id": account.workspace_id,
        "account_id": account.id,
        "provider": account.kind,
        "first_day": FIRST_DAY,
        "days": DAYS,
        "rows": rows,
        "record_kind": shape.record_kind,
        "models": [m for m, _, _ in shape.models],
        "price_in": [None if p is None else Decimal(str(p)) for _, p, _ in shape.models],
        "price_out": [None if p is None else Decimal(str(p)) for _, _, p in shape.models],
        "projects": projects,
        "keys": keys,
        "tiers": list(shape.tiers),
        "line_items": list(shape.line_items),
        "cost_items": cost_items,
        "ncost": ncost,
        "provider_cost": shape.provider_cost,
        "n_models": len(shape.models),
        "n_projects": len(projects),
        "n_keys": len(keys),
        "n_line_items": len(shape.line_items),
        "n_tiers": len(shape.tiers),
        "n_cost_items": len(cost_items),
    }


def _typed(sql: str) -> str:
    """GENERATE with its parameters cast where PostgreSQL cannot infer the type from the context."""
    casts = {
        ":first_day": "CAST(:first_day AS date)",
        ":price_in)": "CAST(:price_in AS numeric[]))",
        ":price_out)": "CAST(:price_out AS numeric[]))",
        ":provider_cost": "CAST(:provider_cost AS boolean)",
        ":days": "CAST(:days AS bigint)",
        ":ncost": "CAST(:ncost AS bigint)",
        **{
            f":{name})": f"CAST(:{name} AS text[]))"
            for name in ("models", "projects", "keys", "tiers", "line_items", "cost_items")
        },
    }
    for name, cast in casts.items():
        sql = sql.replace(name, cast)
    return sql


def _drop(session: Session, table: str, kinds: str, indexes: bool) -> list[str]:
    """Drop TABLE's constraints of KINDS ('u', 'f') and, if INDEXES, its plain indexes; return the DDL that
    restores them (indexes first, then unique keys, then foreign keys)."""
    restore = []
    if indexes:
        rows = session.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)) ORDER BY indexname"
            ),
            {"t": table},
        ).all()
        for name, definition in rows:
            session.execute(text(f'DROP INDEX "{name}"'))
            restore.append(definition)
    constraints = session.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
            "AND contype = ANY(:kinds) ORDER BY contype DESC, conname"
        ),
        {"t": table, "kinds": list(kinds)},
    ).all()
    for name, definition in constraints:
        session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    return restore


def _schema(session: Session) -> list[tuple[str, str]]:
    """Indexes and constraints of both tables, to check that the load leaves them as the migrations made them."""
    rows = session.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('usage_records', 'daily_spend') "
            "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid IN ('usage_records'::regclass, 'daily_spend'::regclass) ORDER BY 1, 2"
        )
    ).all()
    return [(str(a), str(b)) for a, b in rows]


def _generate(db: Database, params: list[dict[str, Any]]) -> None:
    """Insert the usage rows of the accounts in PARAMS, in one transaction."""
    statement = text(_typed(GENERATE))
    with db.system_session() as session:
        for p in params:
            session.execute(statement, p)


def _load(db: Database, workspace_id: int, scale: float) -> dict[str, Any]:
    """Create the accounts and fill usage_records and daily_spend; return timings and counts."""
    plan = _plan(scale)
    with db.system_session() as session:
        workspace_ids = [workspace_id]
        for n in range(1, WORKSPACES):
            workspace = Workspace(name=f"tenant {n}")
            session.add(workspace)
            session.flush()
            workspace_ids.append(workspace.id)
        accounts = []
        for ws, name, shape, rows in plan:
            account = ProviderAccount(
                workspace_id=workspace_ids[ws], kind=shape.kind, name=name, credentials={"api_key": "x"}, config={}
            )
            session.add(account)
            accounts.append((account, shape, rows))
        session.flush()
        params = [_parameters(account, shape, rows) for account, shape, rows in accounts]
        account_ids = [(ws, account.id) for (ws, *_), (account, *_) in zip(plan, accounts, strict=True)]

    # Bulk-load technique only: usage_records is filled without its secondary indexes, unique key and foreign
    # keys, and daily_spend without its foreign keys; they are then rebuilt from the migrations' own definitions
    # (checked below), so the tables end up exactly as migrated. daily_spend keeps its indexes during the insert.
    started = time.perf_counter()
    with db.system_session() as session:
        before = _schema(session)
        restore = _drop(session, "usage_records", "uf", indexes=True) + _drop(session, "daily_spend", "f", False)
    timings = {}
    try:
        # Two connections, one per core, each with about half the rows.
        halves: list[list[dict[str, Any]]] = [[], []]
        for account in sorted(params, key=lambda p: -p["rows"]):
            min(halves, key=lambda half: sum(p["rows"] for p in half)).append(account)
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(_generate, db, half) for half in halves]:
                future.result()
        timings["seconds_usage_insert"] = time.perf_counter() - started
        with db.system_session() as session:
            session.execute(text("SET LOCAL work_mem = '1GB'"))
            session.execute(text(DERIVE_DAILY_SPEND))
        timings["seconds_daily_spend"] = time.perf_counter() - started - timings["seconds_usage_insert"]
    finally:
        with db.system_session() as session:
            session.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
            for ddl in restore:
                session.execute(text(ddl))
    with db.system_session() as session:
        after = _schema(session)
        if after != before:
            raise RuntimeError(f"the load changed the schema: {sorted(set(before) ^ set(after))}")
    timings["seconds_indexes_and_keys"] = time.perf_counter() - started - sum(timings.values())
    return {
        "accounts": len(params),
        "measured_accounts": [account_id for ws, account_id in account_ids if ws == 0],
        "other_accounts": [account_id for ws, account_id in account_ids if ws != 0],
        **{name: round(seconds, 1) for name, seconds in timings.items()},
    }


def _vacuum(db: Database) -> float:
    """VACUUM ANALYZE both tables (as autovacuum eventually would): statistics and the visibility map."""
    started = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("usage_records", "daily_spend"):
            connection.execute(text(f"VACUUM ANALYZE {table}"))
    return time.perf_counter() - started


def _check_rebuild(db: Database, samples: list[tuple[int, dt.date, dt.date]]) -> dict[str, int]:
    """rebuild_daily_spend over each (account, first day, last day) gives exactly the rows we derived; rolled back."""
    compared = differing = 0
    session = db.session()
    try:
        enable_rls_bypass(session)
        where = "account_id = :account_id AND day BETWEEN :start AND :end"
        for account_id, start, end in samples:
            bounds = {"account_id": account_id, "start": start, "end": end}
            session.execute(
                text(
                    f"CREATE TEMP TABLE bench_before ON COMMIT DROP AS "
                    f"SELECT {DAILY_COLUMNS} FROM daily_spend WHERE {where}"
                ),
                bounds,
            )
            account = session.get(ProviderAccount, account_id)
            assert account is not None
            rebuild_daily_spend(session=session, account=account, start=start, end=end)
            compared += session.execute(text("SELECT count(*) FROM bench_before")).scalar_one()
            differing += session.execute(
                text(
                    f"SELECT count(*) FROM ((SELECT {DAILY_COLUMNS} FROM daily_spend WHERE {where} "
                    f"EXCEPT ALL SELECT * FROM bench_before) UNION ALL (SELECT * FROM bench_before "
                    f"EXCEPT ALL SELECT {DAILY_COLUMNS} FROM daily_spend WHERE {where})) AS diff"
                ),
                bounds,
            ).scalar_one()
            session.execute(text("DROP TABLE bench_before"))
    finally:
        session.rollback()
        session.close()
    return {"rows_compared": compared, "rows_differing": differing}


def _percentile(samples: list[float], q: float) -> float:
    """The nearest-rank Q-th percentile of sorted SAMPLES."""
    return samples[max(0, math.ceil(q / 100 * len(samples)) - 1)]


def _explain(db: Database, workspace_id: int, statement: str, parameters: Any) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the summary's own SQL, under the workspace's row-level security."""
    session = db.session()
    try:
        set_workspace(session, workspace_id)
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        return "\n".join(row[0] for row in cursor.fetchall())
    finally:
        session.rollback()
        session.close()


def run(scale: float = 1.0, requests: int = REQUESTS, explain: bool = False) -> dict[str, Any]:
    """Load the data, then time `requests` summary requests for the measured month; check the totals once."""
    with postgres_url() as url:
        return _run(url, scale, requests, explain)


def _run(url: str, scale: float, requests: int, explain: bool) -> dict[str, Any]:
    upgrade(url)
    settings = Settings(
        app_env="test",
        data_dir=Path("."),
        database_url=url,
        secret_key="bench-summary-secret-key-0000000000",
        encryption_keys=(Fernet.generate_key().decode(),),
        base_url="http://bench",
        auth_rate_limit="100000 per minute",
    )
    app = create_app(settings)
    client = app.test_client()
    registered = client.post("/api/auth/register", json={"email": "bench@example.com", "password": PASSWORD})
    assert registered.status_code == 201, registered.get_json()
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {registered.get_json()['access_token']}"})
    workspace_id = me.get_json()["workspaces"][0]["workspace_id"]

    db = Database(url)
    started = time.perf_counter()
    loaded = _load(db, workspace_id, scale)
    month = (MONTH[0], MONTH[1])
    samples = [(a, *month) for a in loaded["measured_accounts"]]
    samples += [(a, FIRST_DAY, FIRST_DAY + dt.timedelta(days=DAYS - 1)) for a in loaded["other_accounts"][:3]]
    checked = time.perf_counter()
    rebuild = _check_rebuild(db, samples)
    seconds_check = time.perf_counter() - checked
    seconds_vacuum = _vacuum(db)
    load_seconds = time.perf_counter() - started - seconds_check

    lo = dt.datetime.combine(MONTH[0], dt.time(), tzinfo=dt.UTC)
    hi = dt.datetime.combine(MONTH[1] + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    with db.system_session() as session:
        usage_rows = session.execute(text("SELECT count(*) FROM usage_records")).scalar_one()
        daily_rows = session.execute(text("SELECT count(*) FROM daily_spend")).scalar_one()
        ws_usage_rows = session.execute(
            text("SELECT count(*) FROM usage_records WHERE workspace_id = :w"), {"w": workspace_id}
        ).scalar_one()
        month_daily_rows, rollup_total = session.execute(
            text(
                "SELECT count(*), COALESCE(SUM(cost), 0) FROM daily_spend "
                "WHERE workspace_id = :w AND day BETWEEN :a AND :b"
            ),
            {"w": workspace_id, "a": MONTH[0], "b": MONTH[1]},
        ).one()
        direct_total, direct_requests, month_usage_rows = session.execute(
            text(DIRECT_TOTAL), {"workspace_id": workspace_id, "lo": lo, "hi": hi}
        ).one()
        models = session.execute(
            text(
                "SELECT count(DISTINCT (model, currency)) FROM usage_records "
                "WHERE workspace_id = :w AND bucket_start >= :lo AND bucket_start < :hi"
            ),
            {"w": workspace_id, "lo": lo, "hi": hi},
        ).scalar_one()
        table_mb = session.execute(
            text(
                "SELECT pg_total_relation_size('usage_records') / 1048576, "
                "pg_total_relation_size('daily_spend') / 1048576"
            )
        ).one()
        server_version = session.execute(text("SHOW server_version")).scalar_one()
    db.dispose()

    # A fresh access token: the one from sign-up may have expired during the load.
    login = client.post("/api/auth/login", json={"email": "bench@example.com", "password": PASSWORD})
    assert login.status_code == 200, login.get_json()
    headers = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    path = f"/api/usage/summary?from={MONTH[0]}&to={MONTH[1]}&group_by=model"

    engine = app.extensions["spendwatch"].db.engine
    captured: dict[str, Any] = {}
    db_ms: list[float] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "FROM daily_spend" in statement:
            captured["statement"], captured["parameters"] = statement, parameters
            captured["t0"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "FROM daily_spend" in statement:
            db_ms.append((time.perf_counter() - captured["t0"]) * 1000)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)

    load_before = os.getloadavg()[0]
    first = client.get(path, headers=headers)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    for _ in range(WARMUP - 1):
        client.get(path, headers=headers)
    db_ms.clear()
    samples_ms = []
    for _ in range(requests):
        t0 = time.perf_counter()
        response = client.get(path, headers=headers)
        samples_ms.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    load_after = os.getloadavg()[0]
    samples_ms.sort()
    db_ms.sort()
    plan = _explain(app.extensions["spendwatch"].db, workspace_id, captured["statement"], captured["parameters"])
    app.extensions["spendwatch"].db.dispose()
    if explain:
        sys.stderr.write(plan + "\n")

    api_total = Decimal(str(body["totals"].get("USD", 0)))
    api_requests = sum(item["requests"] for item in body["items"])
    p95 = _percentile(samples_ms, 95)
    execution = [line for line in plan.splitlines() if line.startswith("Execution Time")]
    nodes = [line.split("  (")[0].replace("->", "").strip() for line in plan.splitlines() if "(cost=" in line]
    return {
        "bench": "summary",
        "scale": scale,
        "usage_rows": usage_rows,
        "daily_spend_rows": daily_rows,
        "workspaces": WORKSPACES,
        "accounts": loaded["accounts"],
        "measured_workspace": {
            "usage_rows": ws_usage_rows,
            "month_usage_rows": int(month_usage_rows),
            "month_daily_spend_rows": month_daily_rows,
            "groups": len(body["items"]),
        },
        "request": path,
        "n": requests,
        "p50_ms": round(statistics.median(samples_ms), 2),
        "p95_ms": round(p95, 2),
        "p99_ms": round(_percentile(samples_ms, 99), 2),
        "max_ms": round(samples_ms[-1], 2),
        "mean_ms": round(statistics.fmean(samples_ms), 2),
        "query_p50_ms": round(statistics.median(db_ms), 2),
        "query_p95_ms": round(_percentile(db_ms, 95), 2),
        "explain_execution": execution[0].split(": ", 1)[1] if execution else None,
        "plan": " > ".join(node for node in nodes if node != "Result"),
        "target_p95_ms": TARGET_P95_MS,
        "target_met": p95 <= TARGET_P95_MS,
        "check": {
            "api_total_usd": str(api_total),
            "direct_total_usd": str(Decimal(direct_total)),
            "rollup_total_usd": str(Decimal(rollup_total)),
            "totals_equal": api_total == Decimal(direct_total) == Decimal(rollup_total),
            "requests_equal": api_requests == int(direct_requests),
            "groups_equal": len(body["items"]) == models,
            **{f"rebuild_{k}": v for k, v in rebuild.items()},
        },
        "load_s": round(load_seconds, 1),
        "load": {k: v for k, v in loaded.items() if k.startswith("seconds")}
        | {"seconds_vacuum": round(seconds_vacuum, 1)},
        "rebuild_check_s": round(seconds_check, 1),
        "table_mb": {"usage_records": int(table_mb[0]), "daily_spend": int(table_mb[1])},
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "postgresql": server_version,
            # 1-minute load average before and after the timed requests: the machine may be shared.
            "load_avg": [round(load_before, 2), round(load_after, 2)],
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.summary", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the 10,000,000 rows (0.01: a quick run)")
    parser.add_argument("--requests", type=int, default=REQUESTS, help="timed requests (after 10 warm-up ones)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) to stderr")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    sys.stdout.write(json.dumps(run(args.scale, args.requests, args.explain)) + "\n")


if __name__ == "__main__":
    main()
