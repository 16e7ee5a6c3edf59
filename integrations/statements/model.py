"""Statement parsing model: errors, the CSV layout (`CsvMapping`), parsed rows and the preview (`ParsedStatement`).

Money is Decimal, dates are `datetime.date`; positive amounts are money in, negative amounts money out.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

SIGNS = ("signed", "inverted")
DECIMALS = (".", ",")
# Named date formats a user may pick instead of writing a strptime format.
NAMED_DATE_FORMATS = {
    "iso": "%Y-%m-%d",
    "us": "%m/%d/%Y",
    "us_short": "%m/%d/%y",
    "uk": "%d/%m/%Y",
    "uk_short": "%d/%m/%y",
    "dot": "%d.%m.%Y",
    "compact": "%Y%m%d",
}


class StatementError(Exception):
    """A statement file could not be read; `message` is meant for the user (a 422, never a traceback)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LayoutError(StatementError):
    """The layout of a CSV file could not be detected."""


class MappingError(StatementError):
    """A CSV mapping given by the user is invalid; `field` names the mapping field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def resolve_date_format(date_format: str) -> str:
    """Return the strptime format for a named or literal date format."""
    return NAMED_DATE_FORMATS.get(date_format, date_format)


@dataclass(slots=True)
class CsvMapping:
    """How to read one CSV layout; detected by `csv_layout.detect_layout` or corrected by the user."""

    date_column: str = ""
    description_columns: list[str] = field(default_factory=list)
    amount_column: str | None = None
    # Alternative to amount_column: two columns of positive numbers (debit = money out, credit = money in).
    debit_column: str | None = None
    credit_column: str | None = None
    date_format: str = "%Y-%m-%d"
    encoding: str = "utf-8"
    delimiter: str = ","
    header_row: int = 0  # 0-based line of the header, i.e. the number of preamble lines skipped
    sign: str = "signed"  # "inverted": the bank shows money out as positive (card statements)
    decimal: str = "."
    id_column: str | None = None
    status_column: str | None = None
    balance_column: str | None = None
    merchant_column: str | None = None
    currency_column: str | None = None
    pending_column: str | None = None
    fee_column: str | None = None  # a fee charged on top of the amount (Revolut), subtracted from it

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of the mapping."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, list) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, columns: Sequence[str] | None = None) -> CsvMapping:
        """Build a mapping from user input, raising MappingError on the first bad field."""
        if not isinstance(data, Mapping):
            raise MappingError("mapping", "must be an object")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise MappingError(str(key), "unknown mapping field")
        values: dict[str, Any] = {}
        for name in known & set(data):
            value = data[name]
            if name == "description_columns":
                if isinstance(value, str):
                    value = [value]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise MappingError(name, "must be a list of column names")
                value = [v for v in value if v.strip()]
            elif name == "header_row":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise MappingError(name, "must be a whole number")
            elif name.endswith("_column"):
                if value is not None and not isinstance(value, str):
                    raise MappingError(name, "must be a column name or null")
                value = value or None
            elif not isinstance(value, str):
                raise MappingError(name, "must be a string")
            values[name] = value
        mapping = cls(**values)
        mapping.validate(columns)
        return mapping

    def columns_used(self) -> list[tuple[str, str]]:
        """Return (mapping field, column name) for every column the mapping reads."""
        used = [("date_column", self.date_column)]
        used += [("description_columns", c) for c in self.description_columns]
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_column") and f.name != "date_column" and value:
                used.append((f.name, value))
        return used

    def validate(self, columns: Sequence[str] | None = None) -> None:
        """Check the mapping, and when `columns` (the file's header) is given, that every column exists."""
        if not self.date_column:
            raise MappingError("date_column", "a date column is required")
        if self.amount_column and (self.debit_column or self.credit_column):
            raise MappingError("amount_column", "use either an amount column or debit and credit columns, not both")
        if not self.amount_column and not (self.debit_column and self.credit_column):
            raise MappingError("amount_column", "an amount column, or both a debit and a credit column, is required")
        if self.sign not in SIGNS:
            raise MappingError("sign", f"must be one of {', '.join(SIGNS)}")
        if self.decimal not in DECIMALS:
            raise MappingError("decimal", "must be '.' or ','")
        if len(self.delimiter) != 1 or self.delimiter in '"\r\n' or self.delimiter.isalnum():
            raise MappingError("delimiter", "must be a single separator character such as ',', ';' or a tab")
        if self.header_row < 0:
            raise MappingError("header_row", "must be 0 or more")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise MappingError("encoding", f"unknown encoding '{self.encoding}'") from None
        fmt = resolve_date_format(self.date_format)
        if "%" not in fmt:
            named = ", ".join(NAMED_DATE_FORMATS)
            raise MappingError("date_format", f"must be a strptime format such as %d/%m/%Y or one of {named}")
        try:
            # A format that cannot read back its own output would never match a date.
            probe = dt.date(2024, 1, 31)
            if dt.datetime.strptime(probe.strftime(fmt), fmt).date() != probe:  # noqa: DTZ007 (dates only)
                raise ValueError(fmt)
        except ValueError:
            raise MappingError("date_format", f"'{self.date_format}' is not a usable date format") from None
        if columns is not None:
            present = set(columns)
            for name, column in self.columns_used():
                if column not in present:
                    listed = ", ".join(f"'{c}'" for c in columns)
                    raise MappingError(name, f"no column named '{column}' in the file (columns: {listed})")


@dataclass(slots=True)
class ParsedRow:
    """One transaction understood from a statement, with the raw row it came from."""

    line: int  # 1-based line in the file where the row (or OFX <STMTTRN>) starts
    date: dt.date
    amount: Decimal
    description: str
    merchant: str = ""
    external_id: str = ""
    currency: str = ""
    pending: bool = False
    balance: Decimal | None = None
    fingerprint: str = ""
    raw: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (amounts as strings)."""
        return {
            "line": self.line,
            "date": self.date.isoformat(),
            "amount": str(self.amount),
            "description": self.description,
            "merchant": self.merchant,
            "external_id": self.external_id,
            "currency": self.currency,
            "pending": self.pending,
            "balance": None if self.balance is None else str(self.balance),
            "fingerprint": self.fingerprint,
            "raw": dict(self.raw),
        }


@dataclass(slots=True)
class SkippedRow:
    """A row that was read but not turned into a transaction, and why."""

    line: int
    reason: str
    raw: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {"line": self.line, "reason": self.reason, "raw": dict(self.raw)}


@dataclass(slots=True)
class ParsedStatement:
    """What was understood from one statement file: the preview shown before anything is committed."""

    format: str  # "csv" | "ofx"
    rows: list[ParsedRow]
    skipped: list[SkippedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    mapping: CsvMapping | None = None  # the CSV layout detected or given; None for OFX
    account_hint: str | None = None  # OFX ACCTID masked to its last 4 characters
    currency: str = ""  # the single currency of the rows, "" when unknown or mixed
    statement_fingerprint: str = ""  # sha256 of the file's bytes
    closing_balance: Decimal | None = None  # OFX LEDGERBAL

    def total(self) -> Decimal:
        """Return the sum of all row amounts (pending rows included)."""
        return sum((row.amount for row in self.rows), Decimal(0))

    def by_month(self) -> dict[str, Decimal]:
        """Return row totals per calendar month ("YYYY-MM"), oldest first."""
        months: dict[str, Decimal] = {}
        for row in self.rows:
            key = f"{row.date.year:04d}-{row.date.month:02d}"
            months[key] = months.get(key, Decimal(0)) + row.amount
        return dict(sorted(months.items()))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready preview of the statement."""
        return {
            "format": self.format,
            "mapping": None if self.mapping is None else self.mapping.to_dict(),
            "account_hint": self.account_hint,
            "currency": self.currency,
            "statement_fingerprint": self.statement_fingerprint,
            "closing_balance": None if self.closing_balance is None else str(self.closing_balance),
            "total": str(self.total()),
            "by_month": {k: str(v) for k, v in self.by_month().items()},
            "warnings": list(self.warnings),
            "rows": [row.to_dict() for row in self.rows],
            "skipped": [row.to_dict() for row in self.skipped],
        }


def mask_account(account_id: str) -> str | None:
    """Return an account number masked to its last 4 characters, or None when empty."""
    account_id = account_id.strip()
    return f"****{account_id[-4:]}" if account_id else None


def _plain(amount: Decimal) -> str:
    # -4.50 and -4.5 are the same money; "10", not "1E+1", and never "-0".
    return "0" if amount == 0 else format(amount.normalize(), "f")


def content_key(row: ParsedRow) -> str:
    """Return the hash of (date, amount, normalized description, balance) used for rows without a bank id."""
    description = " ".join(row.description.casefold().split())
    balance = "" if row.balance is None else _plain(row.balance)
    text = "\x1f".join((row.date.isoformat(), _plain(row.amount), description, balance))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# The duplicate rule that loses nothing. A row with a bank id gets "id:<id>". Otherwise "h:<hash>#<n>": the
# content hash (date, amount, normalized description, balance if any) plus the occurrence index of that same
# content within this file, so two identical coffees in one file stay two rows and a re-import of the same
# file gives the same fingerprints (adds nothing). Accepted trade-off: overlapping statements of different
# periods that both contain a row without an id give its first occurrence the same fingerprint in both files
# (a second identical row only in the later file is kept as "#1"). An id repeated on several rows of one
# file is not trusted (it would merge distinct rows): those rows fall back to the content fingerprint.
def assign_fingerprints(rows: list[ParsedRow]) -> list[str]:
    """Set each row's fingerprint (id, or content hash plus occurrence index) and return warnings."""
    counts = Counter(row.external_id for row in rows if row.external_id)
    repeated = sorted(i for i, n in counts.items() if n > 1)
    seen: Counter[str] = Counter()
    for row in rows:
        if row.external_id and counts[row.external_id] == 1:
            row.fingerprint = f"id:{row.external_id}"
            continue
        key = content_key(row)
        row.fingerprint = f"h:{key}#{seen[key]}"
        seen[key] += 1
    if not repeated:
        return []
    shown = ", ".join(repeated[:5]) + (" …" if len(repeated) > 5 else "")
    return [f"{len(repeated)} transaction id(s) appear on several rows ({shown}); those rows are matched by content"]


def statement_currency(rows: list[ParsedRow], warnings: list[str]) -> str:
    """Return the rows' single currency ("" when none), adding a warning when they are mixed."""
    found = sorted({row.currency for row in rows if row.currency})
    if len(found) > 1:
        warnings.append(f"rows are in several currencies ({', '.join(found)})")
        return ""
    return found[0] if found else ""
