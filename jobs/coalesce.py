"""Run a follow-up for keys that keep arriving, on one background thread, each key at most once per pass.

The sync pool finishes many accounts a second; alert evaluation should follow each sync within a moment but
need not run once per account: keys (workspace ids) added while a pass runs wait for the next pass.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)


class Coalescer:
    """Calls FOLLOW_UP(keys) on its own thread with every key added since the previous call."""

    def __init__(self, follow_up: Callable[[list[int]], object], *, name: str) -> None:
        self.follow_up = follow_up
        self.name = name
        self._pending: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, keys: Iterable[int]) -> None:
        """Ask for a follow-up of KEYS soon (starts the thread on first use)."""
        with self._lock:
            self._pending.update(keys)
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        self._wake.set()

    def _drain(self) -> None:
        with self._lock:
            keys, self._pending = sorted(self._pending), set()
        if not keys:
            return
        try:
            self.follow_up(keys)
        except Exception:
            # The scheduled job runs the same follow-up for everything anyway: log, never stop the thread.
            log.exception("%s failed for %s", self.name, keys)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait()
            self._wake.clear()
            self._drain()

    def close(self) -> None:
        """Run the follow-up for what is pending, then stop the thread."""
        self._stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=30)
        self._drain()
