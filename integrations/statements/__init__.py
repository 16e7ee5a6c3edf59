"""Statement files (CSV, OFX/QFX) → a preview of the transactions understood, before anything is stored.

Pure: no database, no Flask. The backend dedupes `ParsedRow.fingerprint` against stored transactions:
"id:<bank id>" when the bank gives one, else "h:<hash of date, amount, description, balance>#<occurrence>".
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from .csv_layout import decode, detect_layout
from .csv_reader import read_csv
from .limits import LimitError, ParseLimits, check_shape, time_limit
from .model import (
    NAMED_DATE_FORMATS,
    CsvMapping,
    LayoutError,
    MappingError,
    ParsedRow,
    ParsedStatement,
    SkippedRow,
    StatementError,
    statement_currency,
)
from .ofx_reader import looks_like_ofx, read_ofx

__all__ = [
    "NAMED_DATE_FORMATS",
    "CsvMapping",
    "LayoutError",
    "LimitError",
    "MappingError",
    "ParseLimits",
    "ParsedRow",
    "ParsedStatement",
    "SkippedRow",
    "StatementError",
    "parse_statement",
]

_OFX_SUFFIXES = (".ofx", ".qfx", ".qbo")


def parse_statement(
    data: bytes, *, filename: str = "", mapping: CsvMapping | None = None, limits: ParseLimits | None = None
) -> ParsedStatement:
    """Parse statement bytes (OFX/QFX or CSV; `mapping` overrides the detected CSV layout) into a preview, within
    LIMITS (LimitError beyond them)."""
    limits = limits or ParseLimits()
    with time_limit(limits.seconds):
        return _parse(data, filename, mapping, limits)


def _parse(data: bytes, filename: str, mapping: CsvMapping | None, limits: ParseLimits) -> ParsedStatement:
    if not data.strip():
        raise StatementError("the file is empty")
    fingerprint = hashlib.sha256(data).hexdigest()
    if looks_like_ofx(data) or PurePath(filename).suffix.lower() in _OFX_SUFFIXES:
        rows, skipped, warnings, account, currency, balance = read_ofx(data, limits)
        if mapping is not None:
            warnings.insert(0, "the column mapping was ignored: OFX files carry their own structure")
        return ParsedStatement(
            format="ofx",
            rows=rows,
            skipped=skipped,
            warnings=warnings,
            account_hint=account,
            currency=currency,
            statement_fingerprint=fingerprint,
            closing_balance=balance,
        )
    if mapping is None:
        text, encoding = decode(data)
        check_shape(text, limits)  # before detection, which splits lines with every candidate delimiter
        mapping, warnings = detect_layout(text, encoding, limits)
    else:
        mapping.validate()
        text, _ = decode(data, mapping.encoding)
        check_shape(text, limits)
        warnings = []
    rows, skipped, read_warnings = read_csv(text, mapping, limits)
    warnings += read_warnings
    return ParsedStatement(
        format="csv",
        rows=rows,
        skipped=skipped,
        warnings=warnings,
        mapping=mapping,
        currency=statement_currency(rows, warnings),
        statement_fingerprint=fingerprint,
    )
