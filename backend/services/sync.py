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
from integrations.providers.base import ProviderCategory, ProviderError
from integrations.records import SyncWindow

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
    PostgreSQL skips rows another worker has locked; elsewhere a conditional UPDATE must hit its one row."""
    if limit <= 0:
        return []
    now = utcnow()
    candidates = (
        select(ProviderAccount.id, ProviderAccount.kind)
        .where(*_due(now))
        .order_by(ProviderAccount.next_sync_at, ProviderAccount.id)
    )
    claimed: list[Claimed] = []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(candidates.limit(limit).with_for_update(skip_locked=True, of=ProviderAccount)).all()
        if rows:
            session.execute(
                update(ProviderAccount)
                .where(ProviderAccount.id.in_([r.id for r in rows]))
                .values(claimed_by=worker, claimed_until=now + lease)
            )
        claimed = [Claimed(r.id, r.kind) for r in rows]
    else:
        for row in session.execute(candidates.limit(limit * 2)).all():
            if len(claimed) == limit:
                break
            won = session.execute(
                update(ProviderAccount)
                .where(ProviderAccount.id == row.id, *_due(now))
                .values(claimed_by=worker, claimed_until=now + lease)
                .execution_options(synchronize_session=False)
            )
            if won.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(Claimed(row.id, row.kind))
    session.commit()
    return claimed


def _renew(session: Session, account_id: int, worker: str, lease: dt.timedelta) -> bool:
    """Extend WORKER's lease on the account; False when the lease was lost (another worker has it now)."""
    renewed = session.execute(
        update(ProviderAccount)
        .where(ProviderAccount.id == account_id, ProviderAccount.claimed_by == worker)
        .values(claimed_until=utcnow() + lease)
        .execution_options(synchronize_session=False)
    )
    return renewed.rowcount == 1  # type: ignore[attr-defined]


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


def _finish(
    session: Session, account: ProviderAccount, run: SyncRun, error: ProviderError | None, message: str | None
) -> None:
    now = utcnow()
    run.finished_at = now
    account.last_sync_at = now
    account.claimed_by = None
    account.claimed_until = None
    if error is None and message is None:
        run.status = "ok"
        account.status = "ok"
        account.last_error = None
        account.last_success_at = now
        account.consecutive_failures = 0
        account.next_sync_at = now + _interval(session, account)
        return
    run.status = "failed"
    run.error = message or (error.message if error else "")
    run.error_kind = error.kind if error else "internal"
    account.last_error = run.error
    account.consecutive_failures += 1
    if error is not None and error.kind == "auth":
        # Retrying cannot help: wait until someone changes the credentials (that makes it due again).
        account.status = "needs_attention"
        account.next_sync_at = None
    else:
        account.status = "failing"
        backoff = _interval(session, account) * (2 ** min(account.consecutive_failures - 1, 8))
        account.next_sync_at = now + min(backoff, MAX_BACKOFF)


def sync_account(
    *,
    db: Database,
    account_id: int,
    worker: str,
    config: SyncSettings,
    base_urls: Mapping[str, str] | None = None,
    trigger: str = "schedule",
) -> SyncRun | None:
    """Sync one claimed account: fetch its window batch by batch, each batch stored with the watermark in one
    transaction, and record the run. Returns the run, or None when the claim was lost before starting."""
    lease = dt.timedelta(seconds=config.lease_seconds)
    with db.system_session() as session:
        if not _renew(session, account_id, worker, lease):
            return None
        account = session.get(ProviderAccount, account_id)
        if account is None:
            return None
        # A run left "running" by a worker that died is over: say so.
        session.execute(
            update(SyncRun)
            .where(SyncRun.account_id == account_id, SyncRun.status == "running")
            .values(status="abandoned", finished_at=utcnow(), error="the worker stopped during this run")
        )
        window = sync_window(account, config, utcnow())
        run = SyncRun(
            workspace_id=account.workspace_id,
            account_id=account_id,
            trigger=trigger,
            status="running",
            started_at=utcnow(),
            window_start=window.start,
            window_end=window.end,
            worker=worker[:120],
        )
        session.add(run)
        session.flush()
        run_id = run.id
        provider = accounts.provider_for(account, dict(base_urls or {}))

    error: ProviderError | None = None
    message: str | None = None
    try:
        for batch in provider.fetch_usage(window):
            with db.system_session() as session:
                if not _renew(session, account_id, worker, lease):
                    message = "another worker took over this account (the lease lapsed)"
                    break
                account = session.get(ProviderAccount, account_id)
                current = session.get(SyncRun, run_id)
                if account is None or current is None:
                    return None  # deleted while syncing
                stored = ingest(session=session, account=account, records=batch.records)
                # The watermark moves in the same transaction as the data it vouches for, and never backwards.
                if account.synced_until is None or batch.complete_until > account.synced_until:
                    account.synced_until = batch.complete_until
                current.records += stored
    except ProviderError as exc:
        error = exc
    except Exception:
        log.exception("sync of account %s failed unexpectedly", account_id)
        message = "internal error while syncing; see the worker log"
    with db.system_session() as session:
        account = session.get(ProviderAccount, account_id)
        finished = session.get(SyncRun, run_id)
        if account is None or finished is None:
            return None
        _finish(session, account, finished, error, message)
        log.info(
            "sync account=%s kind=%s status=%s records=%s%s",
            account_id,
            account.kind,
            finished.status,
            finished.records,
            f" error_kind={finished.error_kind}" if finished.error_kind else "",
        )
        return finished


def list_runs(*, session: Session, workspace_id: int, account_id: int, limit: int) -> list[SyncRun]:
    """The account's most recent sync runs, newest first."""
    stmt = (
        select(SyncRun)
        .where(SyncRun.workspace_id == workspace_id, SyncRun.account_id == account_id)
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
