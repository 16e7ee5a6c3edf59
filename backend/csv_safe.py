"""The one way Spendwatch writes CSV: every text cell a spreadsheet would run as a formula is neutralized."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

# A cell starting with one of these is a formula to spreadsheet programs (CSV injection, e.g. =HYPERLINK(…) or
# +cmd|…): bank descriptions, notes, model and project names come from outside and are not to be trusted with that.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK_CHARS = 64 * 1024


def cell(value: Any) -> str:
    """VALUE as CSV cell text; text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return str(value)  # a number is data even when negative: -12.50 stays a number
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_chunks(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> Iterator[str]:
    """ROWS as CSV text (a header of COLUMNS first, every cell through `cell`), yielded in chunks of about 64 KiB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([cell(name) for name in columns])
    for row in rows:
        writer.writerow([cell(row.get(name)) for name in columns])
        if buffer.tell() > CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
