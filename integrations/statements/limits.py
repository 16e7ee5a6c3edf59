"""Bounds on what a statement may make the parser do: line length, fields per line, rows, and a time limit.

The shape bounds are checked on the decoded text before layout detection looks at it (one line of 4.9 MB of commas
used to become five million cells for every candidate delimiter); the time limit is checked inside the parse loops,
so a parse that runs long stops itself with a LimitError instead of holding a CPU.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from .model import StatementError

DELIMITERS = (",", ";", "\t", "|")
# Preamble lines a bank may put above the header (account number, period, …), not counted as rows.
PREAMBLE_LINES = 60


class LimitError(StatementError):
    """The file exceeds one of the parse limits; `code` names which, `details` the limit and where it was hit."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class ParseLimits:
    """What one statement may hold and how long reading it may take (seconds None: no time limit)."""

    max_line_chars: int = 10_000  # a bank's line is a few hundred characters, long memo fields included
    max_fields: int = 200  # fields per line: statements have 3 to 40 columns
    max_rows: int = 100_000  # transactions per file: a year of a busy account is a few thousand
    seconds: float | None = None


_deadline: ContextVar[float | None] = ContextVar("statement_parse_deadline", default=None)


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Make check_time() raise once SECONDS have passed, inside the block (in this thread only)."""
    token = _deadline.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def check_time() -> None:
    """Raise LimitError("parse_timeout") when the current parse has run past its time limit."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise LimitError(
            "parse_timeout",
            "reading the file took longer than the time allowed for one statement; split it into shorter periods",
        )


def check_rows(count: int, limits: ParseLimits) -> None:
    """LimitError("too_many_rows") when COUNT rows exceed the limit."""
    if count > limits.max_rows:
        raise LimitError(
            "too_many_rows",
            f"the file holds more than {limits.max_rows:,} rows; import it in parts (one period at a time)",
            limit=limits.max_rows,
        )


def check_shape(text: str, limits: ParseLimits) -> None:
    """Refuse decoded CSV text whose lines are too long, too wide or too many, before anything splits it into cells."""
    check_rows(text.count("\n") - PREAMBLE_LINES, limits)  # physical lines: exact counts come while reading
    lines = text.split("\n")
    # max(map(len)) and str.count run in C: the checks cost milliseconds for a 5 MB file.
    if max(map(len, lines)) > limits.max_line_chars:
        n = next(i for i, line in enumerate(lines) if len(line) > limits.max_line_chars)
        raise LimitError(
            "line_too_long",
            f"line {n + 1} is {len(lines[n]):,} characters long; a statement line may have at most "
            f"{limits.max_line_chars:,}",
            limit=limits.max_line_chars,
            line=n + 1,
        )
    for delimiter in DELIMITERS:
        if max(line.count(delimiter) for line in lines) + 1 > limits.max_fields:
            n = next(i for i, line in enumerate(lines) if line.count(delimiter) + 1 > limits.max_fields)
            shown = {"\t": "tab"}.get(delimiter, f"'{delimiter}'")
            raise LimitError(
                "too_many_fields",
                f"line {n + 1} splits into {lines[n].count(delimiter) + 1:,} fields at {shown}; a statement line "
                f"may have at most {limits.max_fields}",
                limit=limits.max_fields,
                line=n + 1,
            )
