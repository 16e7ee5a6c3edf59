"""Syncing provider accounts: claiming due accounts, fetching their usage window, and recording each run."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from backend.config import SyncSettings
from backend.db import Database, utcnow
from backend.errors import Conflict
from backend.models import ProviderAccount, SyncRun
from backend.services import accounts, instance_settings
from backend.services.ingest import ingest
from integrations.providers.base import Provider, ProviderCategory, ProviderError
from integrations.records import SyncWindow, UsageBatch

log = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=6)


@dataclass(frozen=True)
class Claimed:
    account_id: int
    kind: str


def _due(now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    """Conditions of an account that is due and not claimed by a live lease."""
    return (
        ProviderAccount.enabled.is_(True),
        ProviderAccount.next_sync_at.is_not(None),
        ProviderAccount.next_sync_at <= now,
        or_(ProviderAccount.claimed_until.is_(None), ProviderAccount.claimed_until < now),
    )


def claim_due(*, session: Session, worker: str, limit: int, lease: dt.timedelta) -> list[Claimed]:
    """Claim up to LIMIT due accounts for WORKER (commits). Two workers never claim the same account:
    PostgreSQL skips rows another worker has locked; elsewhere a conditional UPDATE must hit its one row.
    A run still "running" on a claimed account belonged to a worker that died (its lease lapsed): it is
    marked abandoned here."""
    if limit <= 0:
        return []
    now = utcnow()
    candidates = select(ProviderAccount.id).where(*_due(now)).order_by(ProviderAccount.next_sync_at, ProviderAccount.id)
    claim = update(ProviderAccount).values(claimed_by=worker, claimed_until=now + lease)
    claimed: list[Claimed] = []
    if session.get_bind().dialect.name == "postgresql":
        # Lock what nobody else holds, then claim it. (Not one UPDATE … WHERE id IN (SELECT … LIMIT n SKIP
        # LOCKED): the planner may run that subquery once per row and claim far more than n.)
        ids = session.scalars(candidates.limit(limit).with_for_update(skip_locked=True)).all()
        if ids:
            rows = session.execute(
                claim.where(ProviderAccount.id.in_(ids))
                .returning(ProviderAccount.id, ProviderAccount.kind)
                .execution_options(synchronize_session=False)
            ).all()
            claimed = sorted((Claimed(r.id, r.kind) for r in rows), key=lambda c: c.account_id)
    else:
        for account_id in session.scalars(candidates.limit(limit * 2)).all():
            if len(claimed) == limit:
                break
            won = session.execute(
                claim.where(ProviderAccount.id == account_id, *_due(now))
                .returning(ProviderAccount.kind)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if won is not None:
                claimed.append(Claimed(account_id, won))
    if claimed:
        session.execute(
            update(SyncRun)
            .where(SyncRun.account_id.in_([c.account_id for c in claimed]), SyncRun.status == "running")
            .values(status="abandoned", finished_at=now, error="the worker stopped during this run")
            .execution_options(synchronize_session=False)
        )
    session.commit()
    return claimed


def release(*, session: Session, worker: str, account_ids: list[int]) -> None:
    """Give back claims WORKER took but will not sync (it is stopping), so another worker can at once."""
    if account_ids:
        session.execute(
            update(ProviderAccount)
            .where(ProviderAccount.id.in_(account_ids), ProviderAccount.claimed_by == worker)
            .values(claimed_by=None, claimed_until=None)
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
    """First sync: the backfill period. Later: from the watermark minus the lookback (providers revise)."""
    if account.synced_until is None:
        start = now - dt.timedelta(days=config.backfill_days)
    else:
        start = min(account.synced_until, now) - dt.timedelta(days=config.lookback_days)
    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    return SyncWindow(start, now)


def _interval(session: Session, account: ProviderAccount) -> dt.timedelta:
    intervals = instance_settings.get_config(session=session).sync_intervals
    cls = accounts.provider_class(account.kind)
    default = intervals.money_minutes if cls.category == ProviderCategory.MONEY else intervals.ai_minutes
    return dt.timedelta(minutes=account.sync_interval_minutes or default)


def _finish(session: Session, account: ProviderAccount, error: ProviderError | None, message: str | None) -> None:
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
        account.next_sync_at = now + _interval(session, account)
        return
    account.last_error = message or (error.message if error else "")
    account.consecutive_failures += 1
    if error is not None and error.kind == "auth":
        # Retrying cannot help: wait until someone changes the credentials (that makes it due again).
        account.status = "needs_attention"
        account.next_sync_at = None
    else:
        account.status = "failing"
        backoff = _interval(session, account) * (2 ** min(account.consecutive_failures - 1, 8))
        account.next_sync_at = now + min(backoff, MAX_BACKOFF)


def _store(session: Session, account: ProviderAccount, batch: UsageBatch) -> int:
    """Ingest BATCH and move the watermark in the same transaction: it vouches for exactly what is stored."""
    stored = ingest(session=session, account=account, records=batch.records)
    if account.synced_until is None or batch.complete_until > account.synced_until:
        account.synced_until = batch.complete_until  # never backwards
    return stored


@dataclass
class _Run:
    """A sync under way: its run row, window and provider client."""

    id: int
    window: SyncWindow
    provider: Provider
    records: int = 0
    lease_lost: bool = False


def _start(
    db: Database,
    account_id: int,
    worker: str,
    config: SyncSettings,
    base_urls: Mapping[str, str] | None,
    trigger: str,
) -> _Run | None:
    """Renew the claim and open a run row (one transaction); None when the claim was lost before starting."""
    with db.system_session() as session:
        account = _renewed(session, account_id, worker, dt.timedelta(seconds=config.lease_seconds))
        if account is None:
            return None
        now = utcnow()
        window = sync_window(account, config, now)
        run = SyncRun(
            workspace_id=account.workspace_id,
            account_id=account_id,
            trigger=trigger,
            status="running",
            started_at=now,
            window_start=window.start,
            window_end=window.end,
            worker=worker[:120],
        )
        session.add(run)
        session.flush()
        return _Run(run.id, window, accounts.provider_for(account, dict(base_urls or {})))


def _end_run(session: Session, run: _Run, error: ProviderError | None, message: str | None) -> str:
    status = "ok" if error is None and message is None else "failed"
    values: dict[str, object] = {"status": status, "finished_at": utcnow(), "records": run.records}
    if status == "failed":
        values |= {
            "error": message or (error.message if error else ""),
            "error_kind": error.kind if error else "internal",
        }
    session.execute(
        update(SyncRun).where(SyncRun.id == run.id).values(**values).execution_options(synchronize_session=False)
    )
    return status


def sync_account(
    *,
    db: Database,
    account_id: int,
    worker: str,
    config: SyncSettings,
    base_urls: Mapping[str, str] | None = None,
    trigger: str = "schedule",
) -> str | None:
    """Sync one claimed account: fetch its window batch by batch, each batch stored with the watermark in one
    transaction, and record the run. Returns the run's status, or None when the claim was lost before starting.

    One batch is held back until the next one arrives, so the last batch, the run's outcome and the account's
    status share one transaction: a steady-state sync (one batch) costs two transactions, not four."""
    run = _start(db, account_id, worker, config, base_urls, trigger)
    if run is None:
        return None
    lease = dt.timedelta(seconds=config.lease_seconds)
    held: UsageBatch | None = None
    error: ProviderError | None = None
    message: str | None = None
    try:
        for batch in run.provider.fetch_usage(run.window):
            if held is not None and not _store_held(db, account_id, worker, lease, run, held):
                break
            held = batch
    except ProviderError as exc:
        error = exc
    except Exception:
        log.exception("sync of account %s failed unexpectedly", account_id)
        message = "internal error while syncing; see the worker log"
    with db.system_session() as session:
        account = None if run.lease_lost else _renewed(session, account_id, worker, lease)
        if account is None:
            # Another worker holds the account now (or it was deleted): close our run, leave the account alone.
            _end_run(session, run, None, "another worker took over this account (the lease lapsed)")
            return "failed"
        if held is not None:
            # Complete on its own even when a later page failed: keep it (the watermark says how far it goes).
            run.records += _store(session, account, held)
        status = _end_run(session, run, error, message)
        _finish(session, account, error, message)
        log.info(
            "sync account=%s kind=%s status=%s records=%s%s",
            account_id,
            account.kind,
            status,
            run.records,
            f" error_kind={error.kind}" if error else (" error_kind=internal" if message else ""),
        )
        return status


def _store_held(db: Database, account_id: int, worker: str, lease: dt.timedelta, run: _Run, batch: UsageBatch) -> bool:
    """Store a batch that is not the last one in its own transaction; False when the lease was lost."""
    with db.system_session() as session:
        account = _renewed(session, account_id, worker, lease)
        if account is None:
            run.lease_lost = True
            return False
        run.records += _store(session, account, batch)
        session.execute(
            update(SyncRun)
            .where(SyncRun.id == run.id)
            .values(records=run.records)
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
