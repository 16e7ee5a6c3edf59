"""Alerts: one evaluation tick over 10,000 budget rules and 1,000,000 usage rows, when thresholds change and when
nothing is new.

`python -m bench.alerts [--scale N]` — on a throwaway PostgreSQL (or BENCH_POSTGRES_URL): 200 workspaces (three
timezones) with 2 accounts each, 1,000,000 hourly usage rows (x N) over the last ~104 days generated server-side,
the daily_spend rollup built from them with one INSERT … SELECT … GROUP BY, and 10,000 budget rules (x N) with
mixed periods, scopes, thresholds, bases and amounts, each notifying its workspace's channel. Prints one JSON line:
wall time and SQL statements of the first tick (every crossed threshold transitions: target ≤ 1 s) and of a
steady tick a minute later (nothing new: target ≤ 200 ms), then of a tick after 5 % of the workspaces synced,
with the transitions, events and notifications.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import time
from decimal import Decimal
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import event, func, insert, select, text

from backend.crypto import Keyring, configure_keyring
from backend.db import Database, utcnow
from backend.migrate import upgrade
from backend.models import AlertRule, Channel, DailySpend, ProviderAccount, RuleChannel, UsageRecord, Workspace
from backend.services import alert_marks
from backend.services.alert_links import LinkSettings
from bench.postgres import postgres_url
from jobs.alerts import tick

RULES = 10_000
ROWS = 1_000_000
WORKSPACES = 200
ACCOUNTS_PER_WORKSPACE = 2
TIMEZONES = ("UTC", "Europe/Berlin", "America/New_York")
KINDS = ("openai", "anthropic", "openrouter")
PERIODS = ("day", "week", "month", "quarter", "year")
THRESHOLD_SETS: tuple[list[dict[str, str]], ...] = (
    [{"type": "percent", "value": v} for v in ("50", "80", "100")],
    [{"type": "percent", "value": "80"}, {"type": "percent", "value": "100"}, {"type": "absolute", "value": "250"}],
    [{"type": "percent", "value": "100"}],
)

# One row per (account, hour) going back from the current hour; a cost of 0 to 0.4995 that looks random.
USAGE_SQL = """
INSERT INTO usage_records (workspace_id, account_id, provider, bucket_start, bucket_width, kind, model, project,
                           api_key, line_item, service_tier, input_tokens, cache_read_tokens, cache_write_5m_tokens,
                           cache_write_1h_tokens, output_tokens, requests, quantity_unit, cost, currency, cost_source,
                           updated_at)
SELECT a.workspace_id, a.id, a.kind, date_trunc('hour', now()) - (g / :accounts) * interval '1 hour', '1h', 'cost',
       a.model, a.project, '', '', '', 1000, 0, 0, 0, 500, 3, '', ((g::bigint * 7919) % 1000) / 2000.0, 'USD',
       'provider', now()
FROM generate_series(0, :rows - 1) AS g
JOIN (SELECT id, workspace_id, kind, 'model-' || (id % 3) AS model, 'proj-' || (id % 2) AS project,
             row_number() OVER (ORDER BY id) - 1 AS idx
      FROM provider_accounts) AS a ON a.idx = g % :accounts
"""

# The rollup of backend.services.ingest.rebuild_daily_spend for all accounts at once (every cost here is the
# provider's own, so its provider-or-estimate choice is always "provider").
DAILY_SPEND_SQL = """
INSERT INTO daily_spend (workspace_id, account_id, provider, day, model, project, currency, cost, cost_source,
                         input_tokens, output_tokens, requests)
SELECT workspace_id, account_id, provider, (bucket_start AT TIME ZONE 'UTC')::date AS day, model, project, currency,
       SUM(cost), 'provider', SUM(input_tokens), SUM(output_tokens), SUM(requests)
FROM usage_records
GROUP BY workspace_id, account_id, provider, day, model, project, currency
"""


def _setup(db: Database, *, rules: int, rows: int, workspaces: int) -> dict[str, Any]:
    """Workspaces, accounts, usage, the rollup, one channel per workspace and the budget rules."""
    started = time.perf_counter()
    with db.system_session() as session:
        session.execute(
            insert(Workspace),
            [{"name": f"ws {w}", "timezone": TIMEZONES[w % len(TIMEZONES)]} for w in range(workspaces)],
        )
        ws_ids = list(session.scalars(select(Workspace.id).order_by(Workspace.id)))
        session.execute(
            insert(ProviderAccount),
            [
                {
                    "workspace_id": ws,
                    "kind": KINDS[(i * ACCOUNTS_PER_WORKSPACE + a) % len(KINDS)],
                    "name": f"acct {i}.{a}",
                    "credentials": {"api_key": "sk-bench"},
                    "config": {},
                    "status": "ok",
                }
                for i, ws in enumerate(ws_ids)
                for a in range(ACCOUNTS_PER_WORKSPACE)
            ],
        )
        accounts = session.execute(
            select(ProviderAccount.id, ProviderAccount.workspace_id, ProviderAccount.kind).order_by(ProviderAccount.id)
        ).all()
        session.execute(text(USAGE_SQL), {"accounts": len(accounts), "rows": rows})
        session.execute(text(DAILY_SPEND_SQL))
        mail = {"recipients": ["ops@example.com"]}
        channels = [Channel(workspace_id=ws, name="ops", kind="email", config=mail) for ws in ws_ids]
        session.add_all(channels)
        session.flush()
        channel_of = {c.workspace_id: c.id for c in channels}
        by_ws: dict[int, list[tuple[int, str]]] = {}
        for account_id, ws, kind in accounts:
            by_ws.setdefault(ws, []).append((account_id, kind))
        rule_rows = []
        for i in range(rules):
            ws = ws_ids[i % len(ws_ids)]
            account_id, kind = by_ws[ws][(i // len(ws_ids)) % ACCOUNTS_PER_WORKSPACE]
            scope = i % 5  # 0, 1: the whole workspace; 2: a provider; 3: an account; 4: a model
            rule_rows.append(
                {
                    "workspace_id": ws,
                    "name": f"budget {i}",
                    "kind": "budget",
                    "period": PERIODS[(i // 5) % len(PERIODS)],
                    # From 5.00 to ~37,000.00: some rules far over, some far under, many crossing on the first tick.
                    "amount": (Decimal(5) * Decimal("1.6") ** (i % 20)).quantize(Decimal("0.01")),
                    "currency": "USD",
                    "scope_provider": kind if scope == 2 else None,
                    "scope_account_id": account_id if scope == 3 else None,
                    "scope_model": f"model-{account_id % 3}" if scope == 4 else None,
                    "params": {
                        "thresholds": THRESHOLD_SETS[i % len(THRESHOLD_SETS)],
                        "basis": "both" if i % 7 == 0 else "actual",
                    },
                }
            )
        session.execute(insert(AlertRule), rule_rows)
        rule_ids = session.execute(select(AlertRule.id, AlertRule.workspace_id)).all()
        session.execute(
            insert(RuleChannel),
            [{"workspace_id": ws, "rule_id": rule_id, "channel_id": channel_of[ws]} for rule_id, ws in rule_ids],
        )
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    with db.system_session() as session:
        usage = session.scalar(select(func.count()).select_from(UsageRecord))
        daily = session.scalar(select(func.count()).select_from(DailySpend))
    return {
        "setup_s": round(time.perf_counter() - started, 1),
        "usage_rows": usage,
        "daily_spend_rows": daily,
        "accounts": len(accounts),
        "workspaces": len(ws_ids),
    }


class StatementLog:
    """Counts the SQL statements of a tick and times each, to name the slowest."""

    def __init__(self) -> None:
        self.timings: list[tuple[float, str]] = []
        self._started = 0.0

    def before(self, *_args: Any) -> None:
        self._started = time.perf_counter()

    def after(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.timings.append((time.perf_counter() - self._started, " ".join(statement.split())[:100]))

    def slowest(self, n: int = 3) -> list[dict[str, Any]]:
        return [{"s": round(t, 3), "sql": sql} for t, sql in sorted(self.timings, reverse=True)[:n]]


def _tick(db: Database, log: StatementLog, now: dt.datetime) -> dict[str, Any]:
    """One scheduled tick (jobs.alerts.tick) as of NOW: wall time and what it changed."""
    log.timings.clear()
    started = time.perf_counter()
    result = tick(db, LinkSettings(), now)
    wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 3),
        "statements": len(log.timings),
        "sql_s": round(sum(t for t, _ in log.timings), 3),
        "slowest": log.slowest(),
        **result,
    }


def _mark(db: Database, share: float) -> int:
    """Mark SHARE of the workspaces as having new spend (what the syncs of a minute do); returns how many."""
    with db.system_session() as session:
        ids = session.scalars(select(Workspace.id).order_by(Workspace.id)).all()
        chosen = ids[: max(1, int(len(ids) * share))]
        alert_marks.mark(session, chosen)
    return len(chosen)


def run(scale: float = 1.0) -> dict[str, Any]:
    rules = max(10, int(RULES * scale))
    rows = max(1000, int(ROWS * scale))
    workspaces = max(2, int(WORKSPACES * scale))
    configure_keyring(Keyring((Fernet.generate_key().decode(),)))
    with postgres_url() as url:
        upgrade(url)
        db = Database(url)
        data = _setup(db, rules=rules, rows=rows, workspaces=workspaces)
        log = StatementLog()
        event.listen(db.engine, "before_cursor_execute", log.before)
        event.listen(db.engine, "after_cursor_execute", log.after)
        # Ticks as of a little later than now: rules written within alert_marks.CLOCK_SLACK of a sweep count as
        # just edited at the next one too, which the minute between setup and a real first tick would not see.
        now = utcnow() + 2 * alert_marks.CLOCK_SLACK
        changing = _tick(db, log, now)
        # The scheduled interval later, with nothing new anywhere; then a minute in which 5 % of the workspaces synced
        # new spend (their rules are re-read; nothing crosses, their spend did not really change).
        steady = _tick(db, log, now + dt.timedelta(minutes=1))
        marked = _mark(db, 0.05)
        synced = _tick(db, log, now + dt.timedelta(minutes=2)) | {"marked_workspaces": marked}
        db.dispose()
    return {
        "bench": "alerts",
        "rules": rules,
        **data,
        "changing_tick": changing | {"target_s": 1.0, "ok": changing["wall_s"] <= 1.0},
        "steady_tick": steady | {"target_s": 0.2, "ok": steady["wall_s"] <= 0.2},
        "tick_after_syncs": synced,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply rules, usage rows and workspaces")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    print(json.dumps(run(args.scale)))


if __name__ == "__main__":
    main()
