"""Statement files are parsed off the request thread: a few at once per process, each under a time limit.

Parsing is pure Python CPU work, and a thread cannot be killed, so the bound has three parts:
- the parser checks each file's shape (line length, fields per line, rows) before it splits anything, and checks
  its own deadline inside its loops (`integrations.statements.limits`): a parse past the deadline stops itself;
- a semaphore caps the parses running at once (`ImportSettings.max_parses`): an upload that finds every slot taken
  for `slot_wait_seconds` is answered 503 `import_busy` with Retry-After, so a burst of uploads cannot take every
  request thread and CPU (health checks and other requests keep being answered);
- the request thread waits for the parse at most a little longer than the deadline, then answers 422
  `parse_timeout` even if the parse is stuck in one long C call; its slot is freed only when the parse really ends,
  so a stuck parse still counts against the cap.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from backend.config import ImportSettings
from backend.errors import Unavailable
from integrations.statements import CsvMapping, LimitError, ParsedStatement, ParseLimits, parse_statement

# How much longer than the parser's own deadline the request waits before answering parse_timeout itself.
_GRACE_SECONDS = 2.0


class StatementParser:
    """A bounded pool that parses statement files with ImportSettings' limits (built by create_app)."""

    def __init__(self, settings: ImportSettings) -> None:
        self.settings = settings
        self.limits = ParseLimits(max_rows=settings.max_rows, seconds=settings.parse_seconds)
        self._slots = threading.BoundedSemaphore(settings.max_parses)
        # Workers start on first use (no threads at import or app creation); never more than there are slots.
        self._pool = ThreadPoolExecutor(max_workers=settings.max_parses, thread_name_prefix="statement-parse")

    def parse(self, data: bytes, *, filename: str, mapping: CsvMapping | None) -> ParsedStatement:
        """Parse DATA in the pool; 503 when every slot stays taken, LimitError past a limit or the deadline."""
        if not self._slots.acquire(timeout=self.settings.slot_wait_seconds):
            raise Unavailable(
                "Too many statement files are being read right now; try again in a few seconds.",
                code="import_busy",
                retry_after=max(1, round(self.settings.parse_seconds / 4)),
            )
        try:
            future: Future[ParsedStatement] = self._pool.submit(
                parse_statement, data, filename=filename, mapping=mapping, limits=self.limits
            )
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _done: self._slots.release())
        try:
            return future.result(timeout=self.settings.parse_seconds + _GRACE_SECONDS)
        except FutureTimeout:
            raise LimitError(
                "parse_timeout",
                "reading the file took longer than the time allowed for one statement; split it into shorter periods",
            ) from None


def parse_inline(data: bytes, *, filename: str, mapping: CsvMapping | None) -> ParsedStatement:
    """Parse DATA on this thread with the default shape limits and no time limit (CLI, benchmarks)."""
    return parse_statement(data, filename=filename, mapping=mapping, limits=ParseLimits())
