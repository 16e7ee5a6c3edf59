"""Syncing provider accounts: claiming due accounts, fetching their usage window, and recording each run."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from backend.config import SyncSettings
from backend.db import Database, utcnow
from backend.errors import Conflict, out_of_range
from backend.models import ProviderAccount, SyncRun
from backend.services import accounts, instance_settings, money_ingest
from backend.services.ingest import ingest
from backend.services.instance_settings import SyncIntervals
from backend.services.pricing import EMPTY_PRICES, PriceTable, load_overrides
from integrations.providers import get_provider
from integrations.providers.base import Provider, ProviderCategory, ProviderError
from integrations.records import SyncWindow, TransactionSync, UsageBatch

log = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=6)
# Money accounts re-read this many days: a pending card payment posts days later, often under a new id.
MONEY_LOOKBACK_DAYS = 14

# A provider amount or cost past what the money columns hold exactly (docs/security/data.md): nothing is stored.
OUT_OF_RANGE = "the provider reported an amount beyond what Spendwatch can store exactly; nothing was stored"


@dataclass(frozen=True)
class Claimed:
    """An account claimed for syncing, with its run already opened and what the sync needs to start."""

    account_id: int
    workspace_id: int
    kind: str
    run_id: int
    window: SyncWindow
    claimed_at: dt.datetime
    interval: dt.timedelta  # until the next sync after a success (read at claim time: settings rarely change)
    provider: Provider = field(repr=False, compare=False)
    prices: PriceTable = field(repr=False, compare=False, default=EMPTY_PRICES)  # admin overrides, per claim
    cursor: str | None = None  # cursor-based money sources (Plaid): where this sync starts


def _due(now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    """Conditions of an account that is due and not claimed by a live lease."""
    return (
        ProviderAccount.enabled.is_(True),
        ProviderAccount.next_sync_at.is_not(None),
        ProviderAccount.next_sync_at <= now,
        or_(ProviderAccount.claimed_until.is_(None), ProviderAccount.claimed_until < now),
    )


def claim_due(
    *,
    session: Session,
    worker: str,
    limit: int,
    config: SyncSettings,
    base_urls: Mapping[str, str] | None = None,
    trigger: str = "schedule",
) -> list[Claimed]:
    """Claim up to LIMIT due accounts for WORKER and open a run for each (commits). Two workers never claim the
    same account: PostgreSQL skips rows another worker has locked; elsewhere a conditional UPDATE must hit its
    one row. A run still "running" on a claimed account belonged to a worker that died (its lease lapsed): it
    is marked abandoned here. One transaction serves the whole batch: a sync itself then needs only one more
    transaction per stored batch."""
    if limit <= 0:
        return []
    now = utcnow()
    candidates = select(ProviderAccount.id).where(*_due(now)).order_by(ProviderAccount.next_sync_at, ProviderAccount.id)
    claim = (
        update(ProviderAccount)
        .values(claimed_by=worker, claimed_until=now + dt.timedelta(seconds=config.lease_seconds))
        .returning(ProviderAccount)
        .execution_options(synchronize_session=False)
    )
    won: list[ProviderAccount] = []
    if session.get_bind().dialect.name == "postgresql":
        # Lock what nobody else holds, then claim it. (Not one UPDATE … WHERE id IN (SELECT … LIMIT n SKIP
        # LOCKED): the planner may run that subquery once per row and claim far more than n.)
        ids = session.scalars(candidates.limit(limit).with_for_update(skip_locked=True)).all()
        if ids:
            won = list(session.scalars(claim.where(ProviderAccount.id.in_(ids))))
    else:
        for account_id in session.scalars(candidates.limit(limit * 2)).all():
            if len(won) == limit:
                break
            account = session.scalars(claim.where(ProviderAccount.id == account_id, *_due(now))).one_or_none()
            if account is not None:
                won.append(account)
    if not won:
        session.commit()
        return []
    won.sort(key=lambda a: a.id)
    session.execute(
        update(SyncRun)
        .where(SyncRun.account_id.in_([a.id for a in won]), SyncRun.status == "running")
        .values(status="abandoned", finished_at=now, error="the worker stopped during this run")
        .execution_options(synchronize_session=False)
    )
    runs, windows = [], []
    for account in won:
        window = sync_window(account, config, now)
        windows.append(window)
        runs.append(
            SyncRun(
                workspace_id=account.workspace_id,
                account_id=account.id,
                trigger=trigger,
                status="running",
                started_at=now,
                window_start=window.start,
                window_end=window.end,
                worker=worker[:120],
            )
        )
    session.add_all(runs)
    session.flush()
    instance = instance_settings.get_config(session=session)
    intervals = instance.sync_intervals
    prices = load_overrides(session=session)
    urls = instance_settings.provider_urls(config=instance, operator=base_urls)
    claimed = [
        Claimed(
            a.id,
            a.workspace_id,
            a.kind,
            run.id,
            window,
            now,
            _interval(intervals, a),
            _provider(a, urls, instance.allow_private_webhooks),
            prices,
            a.sync_cursor,
        )
        for a, run, window in zip(won, runs, windows, strict=True)
    ]
    session.commit()
    return claimed


def _provider(account: ProviderAccount, base_urls: Mapping[str, str] | None, allow_private: bool) -> Provider:
    return accounts.provider_for(account, dict(base_urls or {}), allow_private=allow_private)


def release(*, session: Session, worker: str, claimed: list[Claimed]) -> None:
    """Give back claims WORKER took but will not sync (it is stopping), so another worker can at once."""
    if not claimed:
        return
    session.execute(
        update(ProviderAccount)
        .where(ProviderAccount.id.in_([c.account_id for c in claimed]), ProviderAccount.claimed_by == worker)
        .values(claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(SyncRun)
        .where(SyncRun.id.in_([c.run_id for c in claimed]))
        .values(status="abandoned", finished_at=utcnow(), error="the worker stopped before this run started")
        .execution_options(synchronize_session=False)
    )


def _renewed(session: Session, account_id: int, worker: str, lease: dt.timedelta) -> ProviderAccount | None:
    """Extend WORKER's lease on the account and load it (one statement); None when the lease was lost (another
    worker has the account now) or the account is gone."""
    return session.scalars(
        update(ProviderAccount)
        .where(ProviderAccount.id == account_id, ProviderAccount.claimed_by == worker)
        .values(claimed_until=utcnow() + lease)
        .returning(ProviderAccount)
        .execution_options(synchronize_session=False)
    ).one_or_none()


def request_sync(*, session: Session, account: ProviderAccount) -> dt.datetime:
    """Make the account due now: the next dispatch (every few seconds) picks it up. Returns when it is due.
    Accounts of kinds that never sync (manual entries) answer 409 and stay out of the worker's reach."""
    if not accounts.provider_class(account.kind).syncs:
        raise Conflict(
            "This account's usage is entered by hand or uploaded, not synced from a provider.", code="not_syncable"
        )
    account.next_sync_at = due = utcnow()
    return due


def sync_window(account: ProviderAccount, config: SyncSettings, now: dt.datetime) -> SyncWindow:
    """First sync: the backfill period. Later: from the watermark minus the lookback (providers revise; banks
    post pending transactions days later, under new ids, so money accounts look further back)."""
    if account.synced_until is None:
        start = now - dt.timedelta(days=config.backfill_days)
    else:
        lookback = config.lookback_days
        cls = get_provider(account.kind)
        if cls is not None and cls.category == ProviderCategory.MONEY:
            lookback = max(lookback, MONEY_LOOKBACK_DAYS)
        start = min(account.synced_until, now) - dt.timedelta(days=lookback)
    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    return SyncWindow(start, now)


def _interval(intervals: SyncIntervals, account: ProviderAccount) -> dt.timedelta:
    cls = accounts.provider_class(account.kind)
    default = intervals.money_minutes if cls.category == ProviderCategory.MONEY else intervals.ai_minutes
    return dt.timedelta(minutes=account.sync_interval_minutes or default)


def _finish(account: ProviderAccount, interval: dt.timedelta, error: ProviderError | None, message: str | None) -> None:
    """Release the claim and set the account's status and next sync from the run's outcome."""
    now = utcnow()
    account.last_sync_at = now
    account.claimed_by = None
    account.claimed_until = None
    if error is None and message is None:
        account.status = "ok"
        account.last_error = None
        account.last_success_at = now
        account.consecutive_failures = 0
        account.next_sync_at = now + interval
        return
    account.last_error = message or (error.message if error else "")
    account.consecutive_failures += 1
    if error is not None and error.kind == "auth":
        # Retrying cannot help: wait until someone changes the credentials (that makes it due again).
        account.status = "needs_attention"
        account.next_sync_at = None
    else:
        account.status = "failing"
        backoff = interval * (2 ** min(account.consecutive_failures - 1, 8))
        account.next_sync_at = now + min(backoff, MAX_BACKOFF)


def _store(session: Session, account: ProviderAccount, batch: UsageBatch, prices: PriceTable) -> int:
    """Ingest BATCH and move the watermark in the same transaction: it vouches for exactly what is stored."""
    stored = ingest(session=session, account=account, records=batch.records, prices=prices)
    if account.synced_until is None or batch.complete_until > account.synced_until:
        account.synced_until = batch.complete_until  # never backwards
    return stored


@dataclass
class _Progress:
    """What a sync under way has stored so far."""

    records: int = 0
    lease_lost: bool = False


def _end_run(
    session: Session, run_id: int, progress: _Progress, error: ProviderError | None, message: str | None
) -> str:
    status = "ok" if error is None and message is None else "failed"
    values: dict[str, object] = {"status": status, "finished_at": utcnow(), "records": progress.records}
    if status == "failed":
        values |= {
            "error": message or (error.message if error else ""),
            "error_kind": error.kind if error else "internal",
        }
    session.execute(
        update(SyncRun).where(SyncRun.id == run_id).values(**values).execution_options(synchronize_session=False)
    )
    return status


def sync_account(*, db: Database, claimed: Claimed, worker: str, config: SyncSettings) -> str | None:
    """Sync one claimed account: fetch its window batch by batch, each batch stored with the watermark in one
    transaction, and close its run. Returns the run's status, or None when the claim was lost before starting.

    One batch is held back until the next one arrives, so the last batch, the run's outcome and the account's
    status share one transaction: with the claim's share, a steady-state sync (one batch) costs just over one
    transaction."""
    lease = dt.timedelta(seconds=config.lease_seconds)
    account_id, run_id = claimed.account_id, claimed.run_id
    progress = _Progress()
    if utcnow() - claimed.claimed_at > lease / 2:
        # It waited long for a free slot (a per-provider bound): make sure the claim is still ours.
        with db.system_session() as session:
            if _renewed(session, account_id, worker, lease) is None:
                _end_run(session, run_id, progress, None, "another worker took over this account (the lease lapsed)")
                return None
    if claimed.provider.category == ProviderCategory.MONEY:
        return _sync_money(db=db, claimed=claimed, worker=worker, lease=lease, progress=progress)
    held: UsageBatch | None = None
    error: ProviderError | None = None
    message: str | None = None
    try:
        for batch in claimed.provider.fetch_usage(claimed.window):
            if held is not None and not _store_held(db, claimed, worker, lease, progress, held):
                break
            held = batch
    except ProviderError as exc:
        error = exc
    except Exception as exc:
        log.exception("sync of account %s failed unexpectedly", account_id)
        message = OUT_OF_RANGE if out_of_range(exc) else "internal error while syncing; see the worker log"
    with db.system_session() as session:
        account = None if progress.lease_lost else _renewed(session, account_id, worker, lease)
        if account is None:
            # Another worker holds the account now (or it was deleted): close our run, leave the account alone.
            _end_run(session, run_id, progress, None, "another worker took over this account (the lease lapsed)")
            return "failed"
        if held is not None:
            # Complete on its own even when a later page failed: keep it (the watermark says how far it goes).
            progress.records += _store(session, account, held, claimed.prices)
        return _close(session, account, claimed, progress, error, message)


def _close(
    session: Session,
    account: ProviderAccount,
    claimed: Claimed,
    progress: _Progress,
    error: ProviderError | None,
    message: str | None,
) -> str:
    """End the run and set the account's status and next sync from its outcome (the sync's last transaction)."""
    status = _end_run(session, claimed.run_id, progress, error, message)
    _finish(account, claimed.interval, error, message)
    log.info(
        "sync account=%s kind=%s status=%s records=%s%s",
        account.id,
        account.kind,
        status,
        progress.records,
        f" error_kind={error.kind}" if error else (" error_kind=internal" if message else ""),
    )
    return status


def _sync_money(*, db: Database, claimed: Claimed, worker: str, lease: dt.timedelta, progress: _Progress) -> str:
    """A bank connection's sync: fetch everything (all pages of a cursor source, all windows of a window source),
    then apply it, save the cursor, close the run and set the status in one transaction."""
    account_id, run_id = claimed.account_id, claimed.run_id
    fetched: TransactionSync | None = None
    error: ProviderError | None = None
    message: str | None = None
    try:
        fetched = claimed.provider.fetch_transactions(claimed.window, claimed.cursor)
    except ProviderError as exc:
        error = exc
    except Exception as exc:
        log.exception("sync of account %s failed unexpectedly", account_id)
        message = OUT_OF_RANGE if out_of_range(exc) else "internal error while syncing; see the worker log"
    with db.system_session() as session:
        account = _renewed(session, account_id, worker, lease)
        if account is None:
            _end_run(session, run_id, progress, None, "another worker took over this account (the lease lapsed)")
            return "failed"
        if fetched is not None:
            try:
                with session.begin_nested():  # the changes and the cursor together, or neither
                    outcome = money_ingest.apply_sync(session, account, fetched, window=claimed.window)
                progress.records = outcome.added + outcome.updated + outcome.removed
                account.synced_until = max(account.synced_until or claimed.window.end, claimed.window.end)
            except Exception as exc:
                log.exception("storing the transactions of account %s failed", account_id)
                failed = "internal error while storing transactions; see the worker log"
                message = OUT_OF_RANGE if out_of_range(exc) else failed
        return _close(session, account, claimed, progress, error, message)


def _store_held(
    db: Database, claimed: Claimed, worker: str, lease: dt.timedelta, progress: _Progress, batch: UsageBatch
) -> bool:
    """Store a batch that is not the last one in its own transaction; False when the lease was lost."""
    with db.system_session() as session:
        account = _renewed(session, claimed.account_id, worker, lease)
        if account is None:
            progress.lease_lost = True
            return False
        progress.records += _store(session, account, batch, claimed.prices)
        session.execute(
            update(SyncRun)
            .where(SyncRun.id == claimed.run_id)
            .values(records=progress.records)
            .execution_options(synchronize_session=False)
        )
        return True


def list_runs(*, session: Session, workspace_id: int, account_id: int, limit: int) -> list[SyncRun]:
    """The account's most recent sync runs, newest first."""
    stmt = (
        select(SyncRun)
        .where(SyncRun.workspace_id == workspace_id, SyncRun.account_id == account_id)
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
