"""The sync dispatcher: claims due accounts and syncs them on a bounded pool of threads."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from backend.config import Settings
from backend.db import Database
from backend.services.sync import Claimed, claim_due, release, sync_account
from jobs.coalesce import Coalescer

log = logging.getLogger("spendwatch.jobs.sync")

# At most this many accounts per claim transaction. Claimed accounts wait in a local queue until a pool thread
# is free, so a worker claims at most a quarter of its pool ahead: enough to make claiming cheap (one
# transaction per 16 accounts at the default bound of 64), too few to starve another worker of due accounts.
CLAIM_BATCH = 16


def worker_name() -> str:
    """Identifies this process in claims and sync runs: host, pid and a random part (pids get reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class SyncDispatcher:
    """Called by the scheduler every few seconds. Each call starts as many chains as the pool has free threads;
    a chain syncs one claimed account after another until none is due, so a long cycle runs at the full bound
    rather than in waves between dispatches. Accounts are claimed a few at a time into a local queue (one
    claim transaction per CLAIM_BATCH accounts, not one per account). A per-provider bound (optional) limits
    how many accounts of one kind sync at once."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        worker: str | None = None,
        after_sync: Callable[[list[int]], object] | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.config = settings.sync
        self.worker = worker or worker_name()
        self.pool = ThreadPoolExecutor(max_workers=self.config.max_workers, thread_name_prefix="sync")
        self.lock = threading.Lock()
        self.claim_lock = threading.Lock()
        self.queue: deque[Claimed] = deque()
        self.claim_batch = max(1, min(CLAIM_BATCH, self.config.max_workers // 4))
        self.chains = 0
        self.in_flight: set[int] = set()
        self.per_kind: dict[str, int] = {}
        self.stopping = threading.Event()
        # Alert evaluation right after syncs (new spend, or a failing account), per workspace, coalesced.
        self.after_sync = Coalescer(after_sync, name="after-sync") if after_sync else None

    def _next(self) -> Claimed | None:
        """The next claimed account to sync: from the local queue, claiming more when it is empty."""
        with self.claim_lock:
            if not self.queue and not self.stopping.is_set():
                with self.database.system_session() as session:
                    self.queue.extend(
                        claim_due(
                            session=session,
                            worker=self.worker,
                            limit=self.claim_batch,
                            config=self.config,
                            base_urls=self.settings.provider_base_urls,
                        )
                    )
            if not self.queue:
                return None
            item = self.queue.popleft()
        with self.lock:
            self.in_flight.add(item.account_id)
        return item

    def _open_chain(self) -> bool:
        with self.lock:
            if self.chains >= self.config.max_workers:
                return False
            self.chains += 1
            return True

    def _close_chain(self) -> None:
        with self.lock:
            self.chains -= 1

    def __call__(self, *, wait_for_completion: bool = False) -> dict[str, int]:
        """Start a chain per free thread while accounts are due; with WAIT_FOR_COMPLETION, return when none is."""
        chains: list[Future[int]] = []
        while self._open_chain():
            item = self._next()
            if item is None:
                self._close_chain()
                break
            chains.append(self.pool.submit(self._chain, item))
        synced = len(chains)
        if wait_for_completion:
            wait(chains)
            synced = sum(f.result() for f in chains)
        return {"started": len(chains), "synced": synced, "in_flight": len(self.in_flight)}

    def _chain(self, first: Claimed) -> int:
        """Sync FIRST, then keep taking the next claimed account until none is due."""
        item: Claimed | None = first
        done = 0
        try:
            while item is not None:
                self._sync(item)
                done += 1
                item = self._next()
        finally:
            self._close_chain()
        return done

    def _take_slot(self, kind: str) -> bool:
        limit = self.config.provider_limits.get(kind)
        with self.lock:
            if limit is not None and self.per_kind.get(kind, 0) >= limit:
                return False
            self.per_kind[kind] = self.per_kind.get(kind, 0) + 1
            return True

    def _sync(self, item: Claimed) -> None:
        account_id, kind = item.account_id, item.kind
        try:
            # Wait for a slot of this provider kind (the sync renews its claim if the wait was long).
            while not self._take_slot(kind):
                threading.Event().wait(0.05)
            try:
                sync_account(db=self.database, claimed=item, worker=self.worker, config=self.config)
            finally:
                with self.lock:
                    self.per_kind[kind] -= 1
        except Exception:
            # One bad account must not take the dispatcher down; sync_account already records provider errors.
            log.exception("sync of account %s crashed", account_id)
        finally:
            with self.lock:
                self.in_flight.discard(account_id)
            if self.after_sync is not None:
                self.after_sync.add([item.workspace_id])

    def shutdown(self) -> None:
        """Stop claiming, give back claimed accounts not yet started, and wait for the syncs under way."""
        self.stopping.set()
        with self.claim_lock:
            unstarted = list(self.queue)
            self.queue.clear()
        if unstarted:
            with self.database.system_session() as session:
                release(session=session, worker=self.worker, claimed=unstarted)
        self.pool.shutdown(wait=True, cancel_futures=False)
        if self.after_sync is not None:
            self.after_sync.close()
