"""Real `spendwatch worker` processes against the fake provider API: a worker killed mid-backfill and a
replacement that resumes it, and two workers sharing one database without ever syncing an account twice.

Both tests run on the database of the run (`--db=sqlite`: one SQLite file in WAL mode shared by the processes;
`--db=postgres`: FOR UPDATE SKIP LOCKED claims). The fake provider server is the in-process `fake_providers`
fixture: the workers are separate processes, so they reach it over real HTTP like any provider.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select, update

from backend.config import Settings
from backend.db import Database, utcnow
from backend.models import DailySpend, ProviderAccount, SyncRun
from backend.models import UsageRecord as UsageRow
from backend.services import accounts as account_service
from backend.services.usage import EXPORT_COLUMNS
from jobs.sync import SyncDispatcher
from tests.conftest import Api
from tests.fakes.dataset import OPENAI_USAGE_ENDPOINTS, Dataset
from tests.fakes.providers import OPENAI_ADMIN_KEY, FakeProviders, account_key
from tests.process import Worker, worker_env

T = TypeVar("T")
CHUNK = dt.timedelta(days=7)  # the OpenAI client stores one batch per week of the window
LOOKBACK = dt.timedelta(days=2)  # SyncSettings.lookback_days (default)

# What identifies a stored usage record and what it measures: everything but ids, account and workspace.
RECORD_COLUMNS = tuple(c for c in EXPORT_COLUMNS if c != "account_id")
SPEND_COLUMNS = (
    "provider",
    "day",
    "model",
    "project",
    "currency",
    "cost",
    "cost_source",
    "input_tokens",
    "output_tokens",
    "requests",
)
# (usage endpoint, dataset field, stored column): the totals a complete sync must carry over exactly.
TOTALS = (
    ("completions", "input_tokens", "input_tokens"),
    ("completions", "input_cached_tokens", "cache_read_tokens"),
    ("completions", "input_cache_write_tokens", "cache_write_5m_tokens"),
    ("completions", "output_tokens", "output_tokens"),
    ("completions", "num_model_requests", "requests"),
    ("embeddings", "input_tokens", "input_tokens"),
    ("moderations", "num_model_requests", "requests"),
    ("images", "images", "quantity"),
    ("audio_speeches", "characters", "quantity"),
    ("audio_transcriptions", "seconds", "quantity"),
    ("vector_stores", "usage_bytes", "quantity"),
    ("code_interpreter_sessions", "num_sessions", "quantity"),
)
# Lines in a worker's log that mean something went wrong (SQLite lock errors included).
BAD_LOG_LINES = ("Traceback", "database is locked", "job sync failed", "crashed", "failed unexpectedly")


# ------------------------------------------------------------------------------------------ processes
@pytest.fixture
def start_worker(settings: Settings, tmp_path: Path, fake_providers: FakeProviders) -> Iterator[Callable[..., Worker]]:
    """Start `spendwatch worker` processes on this test's database; every one is killed at teardown."""
    started: list[Worker] = []

    def start(name: str, **sync_env: str) -> Worker:
        env = worker_env(
            settings,
            tmp_path / "var",
            SPENDWATCH_PROVIDER_URL_OPENAI=fake_providers.openai_url,
            **{"SYNC_DISPATCH_SECONDS": "1", **sync_env},
        )
        worker = Worker(name, env, tmp_path)
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.kill()


def wait_for(what: str, probe: Callable[[], T | None], *, timeout: float, workers: list[Worker]) -> T:
    """Poll PROBE until it returns something truthy; fail clearly on timeout or when a worker died."""
    deadline = time.monotonic() + timeout
    while True:
        for worker in workers:
            worker.check_alive()
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.name} ---\n{w.log()[-4000:]}" for w in workers)
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{logs}")
        time.sleep(0.05)


def assert_clean_logs(*workers: Worker) -> None:
    for worker in workers:
        log = worker.log()
        bad = [line for line in log.splitlines() if any(marker in line for marker in BAD_LOG_LINES)]
        assert not bad, f"worker {worker.name} logged errors:\n" + "\n".join(bad) + f"\n--- full log ---\n{log}"


# --------------------------------------------------------------------------------------------- reading
def db_of(app: Any) -> Database:
    return app.extensions["spendwatch"].db


def usage_rows(db: Database, account_id: int) -> list[tuple[Any, ...]]:
    with db.system_session() as session:
        rows = session.execute(
            select(*(getattr(UsageRow, c) for c in RECORD_COLUMNS)).where(UsageRow.account_id == account_id)
        ).all()
    return sorted(tuple(row) for row in rows)


def spend_rows(db: Database, account_id: int) -> list[tuple[Any, ...]]:
    with db.system_session() as session:
        rows = session.execute(
            select(*(getattr(DailySpend, c) for c in SPEND_COLUMNS)).where(DailySpend.account_id == account_id)
        ).all()
    return sorted(tuple(row) for row in rows)


def runs_of(db: Database, account_id: int) -> list[SyncRun]:
    with db.system_session() as session:
        return list(session.scalars(select(SyncRun).where(SyncRun.account_id == account_id).order_by(SyncRun.id)))


def account_state(db: Database, account_id: int) -> ProviderAccount:
    with db.system_session() as session:
        account = session.get(ProviderAccount, account_id)
        assert account is not None
        return account


def check_against_dataset(rows: list[tuple[Any, ...]], ds: Dataset, start: dt.datetime, end: dt.datetime) -> None:
    """ROWS (one account's stored records) hold exactly the dataset's usage and billed cost in [START, END)."""
    kind_at, start_at = RECORD_COLUMNS.index("kind"), RECORD_COLUMNS.index("bucket_start")
    assert all(start <= row[start_at] < end for row in rows), "a record lies outside the synced range"
    for endpoint, field, stored in TOTALS:
        at = RECORD_COLUMNS.index(stored)
        found = sum((row[at] or 0 for row in rows if row[kind_at] == endpoint), Decimal(0))
        expected = ds.total("openai", field, start, end, endpoint=endpoint)
        assert found == expected, (endpoint, field, found, expected)
    cost_at = RECORD_COLUMNS.index("cost")
    costs = [row for row in rows if row[kind_at] == "cost"]
    assert sum((row[cost_at] for row in costs), Decimal(0)) == ds.openai_cost_total(start, end)
    assert len(costs) == len(ds.rows("openai", start, end, endpoint="costs"))  # one record per billed line
    # No gaps: every day with usage or cost in the dataset has records, and only those days do.
    days_with_data = {
        row["time"].date()
        for endpoint in (*OPENAI_USAGE_ENDPOINTS, "costs")
        for row in ds.rows("openai", start, end, endpoint=endpoint)
    }
    assert {row[start_at].date() for row in rows} == days_with_data
    # Natural keys are unique (the constraint would refuse otherwise; this checks what we read back).
    keys = [row[:9] for row in rows]
    assert len(keys) == len(set(keys))


def first_window_start(now: dt.datetime, backfill_days: int) -> dt.datetime:
    return (now - dt.timedelta(days=backfill_days)).replace(hour=0, minute=0, second=0, microsecond=0)


# ------------------------------------------------------------------------------------- kill and restart
def test_a_worker_killed_mid_backfill_is_resumed_by_a_new_worker_with_nothing_lost_or_doubled(
    make_app: Any, fake_providers: FakeProviders, start_worker: Callable[..., Worker]
) -> None:
    fake = fake_providers
    ds = fake.dataset
    app = make_app(provider_base_urls={"openai": fake.openai_url})
    db = db_of(app)
    api = Api(app.test_client())
    token = api.register("owner@example.com")["access_token"]
    body = {"kind": "openai", "name": "OpenAI", "credentials": {"api_key": OPENAI_ADMIN_KEY}}
    created = api.call("POST", "/api/accounts", token, json=body)
    assert created.status_code == 201, created.get_json()
    account_id = created.get_json()["id"]

    # A 90-day backfill of 13 weekly batches, each of 9 endpoints read over 2 pages, a little latency each:
    # the first worker needs several seconds, which leaves room to kill it halfway.
    fake.page_cap = 4
    fake.latency = 0.01
    lease = 2
    first = start_worker("worker-1", SYNC_LEASE_SECONDS=str(lease))
    run1_id = wait_for(
        "the first worker to start a run",
        lambda: next((r.id for r in runs_of(db, account_id)), None),
        timeout=40,
        workers=[first],
    )
    run1 = runs_of(db, account_id)[0]
    assert run1.status == "running" and first.owns(run1.worker), run1.worker
    assert run1.window_start is not None and run1.window_end is not None
    assert run1.window_start == first_window_start(run1.started_at, 90)
    expected_batches = math.ceil((run1.window_end - run1.window_start) / CHUNK)
    assert expected_batches == 13

    # Some but not all batches stored: the watermark moved at least two weeks, then the worker dies hard.
    two_batches = run1.window_start + 2 * CHUNK

    def two_batches_stored() -> bool:
        until = account_state(db, account_id).synced_until
        return until is not None and until >= two_batches

    wait_for("two batches to be stored", two_batches_stored, timeout=30, workers=[first])
    first.kill()
    time.sleep(0.2)  # let the fake log anything the dead worker had already sent
    requests_before_restart = len(fake.requests)

    # The partial state is consistent: the watermark vouches exactly for what is stored.
    dead = account_state(db, account_id)
    watermark = dead.synced_until
    assert watermark is not None
    assert watermark < run1.window_end, "the first worker finished before it could be killed: slow the fake down"
    assert (watermark - run1.window_start) % CHUNK == dt.timedelta(0), "the watermark is not at a batch boundary"
    assert first.owns(dead.claimed_by or "") and dead.claimed_until is not None  # its lease is still held
    dead_lease_until = dead.claimed_until
    (left_running,) = runs_of(db, account_id)
    assert (left_running.status, left_running.finished_at) == ("running", None)
    partial = usage_rows(db, account_id)
    assert partial, "nothing was stored before the kill"
    check_against_dataset(partial, ds, run1.window_start, watermark)  # all data up to the mark, none beyond
    partial_spend = spend_rows(db, account_id)
    cost_at = SPEND_COLUMNS.index("cost")
    assert sum((row[cost_at] for row in partial_spend), Decimal(0)) == ds.openai_cost_total(
        run1.window_start, watermark
    )

    # A new worker takes over once the dead worker's lease has lapsed, and resumes from the watermark.
    fake.latency = 0.0  # (the latency was only there to leave time for the kill)
    second = start_worker("worker-2", SYNC_LEASE_SECONDS=str(lease))

    def finished_ok() -> SyncRun | None:
        runs = runs_of(db, account_id)
        if runs[-1].status == "failed":
            pytest.fail(f"the resumed sync failed: {runs[-1].error_kind}: {runs[-1].error}\n{second.log()}")
        return runs[-1] if len(runs) == 2 and runs[-1].status == "ok" else None

    wait_for("the new worker to finish the sync", finished_ok, timeout=45, workers=[second])
    abandoned, run2 = runs_of(db, account_id)
    assert abandoned.id == run1_id and abandoned.status == "abandoned"
    assert abandoned.finished_at is not None and abandoned.error == "the worker stopped during this run"
    assert second.owns(run2.worker) and not first.owns(run2.worker)
    assert run2.started_at >= dead_lease_until, "the account was taken over while the dead worker's lease held"
    assert run2.started_at >= abandoned.finished_at >= abandoned.started_at
    # Resumed, not restarted: the new window starts at the watermark minus the lookback.
    resume_start = (watermark - LOOKBACK).replace(hour=0, minute=0, second=0, microsecond=0)
    assert run2.window_start == resume_start
    assert resume_start > run1.window_start
    resumed_requests = fake.requests[requests_before_restart:]
    assert resumed_requests
    assert min(int(r.query["start_time"][0]) for r in resumed_requests) == int(resume_start.timestamp())
    finished = account_state(db, account_id)
    assert run2.window_end is not None and finished.synced_until == run2.window_end
    assert (finished.status, finished.claimed_by, finished.claimed_until) == ("ok", None, None)
    assert finished.next_sync_at is not None and finished.next_sync_at > utcnow()
    shown = api.call("GET", f"/api/accounts/{account_id}/syncs", token).get_json()["items"]
    assert [(r["id"], r["status"]) for r in shown] == [(run2.id, "ok"), (run1_id, "abandoned")]

    assert second.stop() == 0, second.log()
    assert_clean_logs(first, second)

    # A clean, uninterrupted sync of the same data into another workspace, in this process, without paging.
    fake.page_cap = None
    other = api.call("POST", "/api/workspaces", token, json={"name": "Clean"})
    assert other.status_code == 201, other.get_json()
    created = api.call("POST", "/api/accounts", token, workspace_id=other.get_json()["id"], json=body)
    assert created.status_code == 201, created.get_json()
    clean_id = created.get_json()["id"]
    dispatcher = SyncDispatcher(db, app.extensions["spendwatch"].settings)
    try:
        assert dispatcher(wait_for_completion=True)["started"] == 1
    finally:
        dispatcher.shutdown()
    (clean_run,) = runs_of(db, clean_id)
    assert clean_run.status == "ok", clean_run.error
    assert clean_run.window_start == run1.window_start

    resumed = usage_rows(db, account_id)
    clean = usage_rows(db, clean_id)
    assert len(resumed) == len(clean)
    assert resumed == clean  # every natural key, measure and cost: no duplicates, no gaps
    assert spend_rows(db, account_id) == spend_rows(db, clean_id)
    check_against_dataset(resumed, ds, run1.window_start, run2.window_end)
    total_spend = sum((row[cost_at] for row in spend_rows(db, account_id)), Decimal(0))
    assert total_spend == ds.openai_cost_total(run1.window_start, run2.window_end)
    # What was stored before the kill is exactly the clean sync's data below the watermark.
    start_at = RECORD_COLUMNS.index("bucket_start")
    assert partial == [row for row in clean if row[start_at] < watermark]
    assert fake.errors == []


# ------------------------------------------------------------------------------- two workers, one database
ACCOUNTS = 12
MAX_WORKERS = 2
BACKFILL_DAYS = 14


def test_two_workers_share_the_accounts_and_never_sync_one_twice(
    make_app: Any, fake_providers: FakeProviders, start_worker: Callable[..., Worker]
) -> None:
    fake = fake_providers
    ds = fake.dataset
    app = make_app(provider_base_urls={"openai": fake.openai_url})
    db = db_of(app)
    api = Api(app.test_client())
    token = api.register("owner@example.com")["access_token"]
    workspace_id = api.call("GET", "/api/workspaces", token).get_json()["items"][0]["id"]
    keys: dict[int, str] = {}
    with db.system_session() as session:
        for number in range(ACCOUNTS):
            key = account_key("openai", number)
            account = account_service.create_account(
                session=session,
                workspace_id=workspace_id,
                kind="openai",
                name=f"OpenAI {number}",
                credentials={"api_key": key},
            )
            account.next_sync_at = None  # not due until both workers are up: then they race for all of them
            keys[account.id] = key

    fake.latency = 0.02  # 3 weekly batches x 9 requests: about a second per account
    env = {"SYNC_MAX_WORKERS": str(MAX_WORKERS), "SYNC_LEASE_SECONDS": "30", "SYNC_BACKFILL_DAYS": str(BACKFILL_DAYS)}
    workers = [start_worker("worker-a", **env), start_worker("worker-b", **env)]
    wait_for(
        "both workers to start",
        lambda: all("worker started" in w.log() for w in workers),
        timeout=40,
        workers=workers,
    )
    with db.system_session() as session:
        session.execute(update(ProviderAccount).where(ProviderAccount.id.in_(keys)).values(next_sync_at=utcnow()))

    def all_synced() -> dict[int, list[SyncRun]] | None:
        with db.system_session() as session:
            runs = list(session.scalars(select(SyncRun).order_by(SyncRun.id)))
        failed = [r for r in runs if r.status == "failed"]
        if failed:
            logs = "\n".join(f"--- {w.name} ---\n{w.log()[-4000:]}" for w in workers)
            pytest.fail(f"{len(failed)} sync(s) failed, e.g. {failed[0].error_kind}: {failed[0].error}\n{logs}")
        by_account: dict[int, list[SyncRun]] = defaultdict(list)
        for run in runs:
            by_account[run.account_id].append(run)
        done = all(any(r.status == "ok" for r in by_account[a]) for a in keys)
        return by_account if done else None

    wait_for("every account to be synced once", all_synced, timeout=60, workers=workers)
    time.sleep(1.5)  # more than a dispatch period: a second claim of any account would show up now
    by_account = all_synced()
    assert by_account is not None and set(by_account) == set(keys)
    for worker in workers:
        assert worker.stop() == 0, worker.log()
    assert_clean_logs(*workers)

    all_runs = [run for runs in by_account.values() for run in runs]
    for account_id, runs in by_account.items():
        # Exactly one run per account in this cycle, ok, and no two runs of one account overlapping in time.
        assert [r.status for r in runs] == ["ok"], (account_id, [(r.status, r.worker) for r in runs])
        spans = sorted((r.started_at, r.finished_at) for r in runs)
        assert all(a[1] is not None and a[1] <= b[0] for a, b in itertools.pairwise(spans))
    # Both processes did part of the work, and nobody else did any.
    per_worker = Counter(run.worker for run in all_runs)
    assert len(per_worker) == 2, per_worker
    for worker in workers:
        assert any(worker.owns(name) for name in per_worker), (worker.name, worker.pid, per_worker)
    # Each process kept to its pool: never more than SYNC_MAX_WORKERS of its runs at once.
    for name in per_worker:
        events = sorted(
            [(r.started_at, 1) for r in all_runs if r.worker == name]
            + [(r.finished_at, -1) for r in all_runs if r.worker == name],
            key=lambda e: (e[0], e[1]),
        )
        running = peak = 0
        for _moment, step in events:
            running += step
            peak = max(peak, running)
        assert 1 <= peak <= MAX_WORKERS, (name, peak)

    # The provider saw each key's window read exactly once (a double sync would read it twice).
    window_start = first_window_start(all_runs[0].started_at, BACKFILL_DAYS)
    requests_per_key = Counter(r.headers["authorization"].removeprefix("Bearer ") for r in fake.requests)
    for account_id, (run,) in by_account.items():
        assert run.window_start == window_start
        assert run.window_end is not None
        batches = math.ceil((run.window_end - run.window_start) / CHUNK)
        assert requests_per_key[keys[account_id]] == batches * (len(OPENAI_USAGE_ENDPOINTS) + 1), account_id

    # Every account's data is complete, and the same for all (every key sees the same dataset).
    reference: list[tuple[Any, ...]] | None = None
    for account_id, (run,) in by_account.items():
        rows = usage_rows(db, account_id)
        assert run.window_start is not None and run.window_end is not None
        check_against_dataset(rows, ds, run.window_start, run.window_end)
        if reference is None:
            reference = rows
        assert rows == reference, account_id
        spend = sum((row[SPEND_COLUMNS.index("cost")] for row in spend_rows(db, account_id)), Decimal(0))
        assert spend == ds.openai_cost_total(run.window_start, run.window_end), account_id
        state = account_state(db, account_id)
        assert (state.status, state.claimed_by, state.synced_until) == ("ok", None, run.window_end)
    assert fake.errors == []
