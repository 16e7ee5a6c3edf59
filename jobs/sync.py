"""The sync dispatcher: claims due accounts and syncs them on a bounded pool of threads."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait

from backend.config import Settings
from backend.db import Database
from backend.services.sync import Claimed, claim_due, sync_account

log = logging.getLogger("spendwatch.jobs.sync")


def worker_name() -> str:
    """Identifies this process in claims and sync runs: host, pid and a random part (pids get reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class SyncDispatcher:
    """Called by the scheduler every few seconds. Each call claims as many due accounts as the pool has free
    slots; a pool thread that finishes an account claims the next due one at once, so a long cycle runs at the
    full bound rather than in waves between dispatches. A per-provider bound (optional) limits how many
    accounts of one kind sync at once."""

    def __init__(self, database: Database, settings: Settings, *, worker: str | None = None) -> None:
        self.database = database
        self.settings = settings
        self.config = settings.sync
        self.worker = worker or worker_name()
        self.pool = ThreadPoolExecutor(max_workers=self.config.max_workers, thread_name_prefix="sync")
        self.lock = threading.Lock()
        self.in_flight: set[int] = set()
        self.per_kind: dict[str, int] = {}
        self.stopping = threading.Event()

    def _free_slots(self) -> int:
        with self.lock:
            return self.config.max_workers - len(self.in_flight)

    def _claim(self, limit: int) -> list[Claimed]:
        if limit <= 0 or self.stopping.is_set():
            return []
        with self.database.system_session() as session:
            claimed = claim_due(
                session=session,
                worker=self.worker,
                limit=limit,
                lease=dt.timedelta(seconds=self.config.lease_seconds),
            )
        with self.lock:
            self.in_flight.update(c.account_id for c in claimed)
        return claimed

    def __call__(self, *, wait_for_completion: bool = False) -> dict[str, int]:
        """Claim due accounts and start their syncs; with WAIT_FOR_COMPLETION, return when no account is due."""
        claimed = self._claim(self._free_slots())
        chains: list[Future[int]] = [self.pool.submit(self._chain, item) for item in claimed]
        synced = len(claimed)
        if wait_for_completion:
            wait(chains)
            synced = sum(f.result() for f in chains)
        return {"claimed": len(claimed), "synced": synced, "in_flight": len(self.in_flight)}

    def _chain(self, first: Claimed) -> int:
        """Sync FIRST, then keep claiming and syncing one due account at a time until none is due."""
        item: Claimed | None = first
        done = 0
        while item is not None:
            self._sync(item.account_id, item.kind)
            done += 1
            next_items = self._claim(1)
            item = next_items[0] if next_items else None
        return done

    def _take_slot(self, kind: str) -> bool:
        limit = self.config.provider_limits.get(kind)
        with self.lock:
            if limit is not None and self.per_kind.get(kind, 0) >= limit:
                return False
            self.per_kind[kind] = self.per_kind.get(kind, 0) + 1
            return True

    def _sync(self, account_id: int, kind: str) -> None:
        try:
            # Wait for a slot of this provider kind; the lease is renewed when the sync starts.
            while not self._take_slot(kind):
                threading.Event().wait(0.05)
            try:
                sync_account(
                    db=self.database,
                    account_id=account_id,
                    worker=self.worker,
                    config=self.config,
                    base_urls=self.settings.provider_base_urls,
                )
            finally:
                with self.lock:
                    self.per_kind[kind] -= 1
        except Exception:
            # One bad account must not take the dispatcher down; sync_account already records provider errors.
            log.exception("sync of account %s crashed", account_id)
        finally:
            with self.lock:
                self.in_flight.discard(account_id)

    def shutdown(self) -> None:
        """Stop claiming new accounts and wait for the syncs under way."""
        self.stopping.set()
        self.pool.shutdown(wait=True, cancel_futures=False)
