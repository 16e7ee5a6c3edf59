"""Apply a CsvMapping to decoded CSV text: rows in, ParsedRow / SkippedRow out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
from collections.abc import Iterator, Sequence
from decimal import Decimal

from .limits import ParseLimits, check_rows, check_time
from .model import (
    CsvMapping,
    MappingError,
    ParsedRow,
    SkippedRow,
    StatementError,
    assign_fingerprints,
    resolve_date_format,
)

SKIP_STATUSES = frozenset(
    {"cancelled", "canceled", "failed", "declined", "reversed", "reverted", "void", "voided", "rejected"}
)
PENDING_STATUSES = frozenset({"pending", "authorised", "authorized", "in progress", "processing", "vorgemerkt"})
_TRUTHY = frozenset({"true", "yes", "y", "1", "pending", "x"})
# A field spanning more lines than this usually means an unclosed quote swallowed the rows after it.
_LONG_FIELD_LINES = 10

_TIME_SUFFIX = re.compile(
    r"(?:[T\s]+|\s*,\s*)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?$"
)
_CR_DR = re.compile(r"\s*(?<![A-Za-z])(CR|DR)\.?$", re.IGNORECASE)
# Currency symbols, upper-case ISO codes and spaces (no-break and thin spaces are thousands separators too).
_NOISE = re.compile(r"[\s\u00a0\u202f'\u2019$€£¥₹₩₽¢]|(?<![A-Za-z])[A-Z]{3}(?![A-Za-z])")
_MINUS = "-\u2212\u2013"  # hyphen-minus, minus sign, en dash
_PLACEHOLDERS = frozenset({"-", "\u2013", "\u2014", "--"})  # "nothing in this column"
# Grouping must look like grouping ("1,234", "1,23,456"): "12,50" read with decimal "." is an error, not 1250.
_GROUPED = {".": re.compile(r"\d{1,3}(?:,\d{2,3})*,\d{3}"), ",": re.compile(r"\d{1,3}(?:\.\d{2,3})*\.\d{3}")}
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+|\d+\.")
# The common cases, fast: "-1234.56" and "-1,234.56" (or "-1234,56" and "-1.234,56" with a decimal comma).
_PLAIN = {
    ".": re.compile(r"-?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?"),
    ",": re.compile(r"-?(?:\d+|\d{1,3}(?:\.\d{3})+)(?:,\d+)?"),
}


def parse_amount(cell: str, decimal: str = ".") -> Decimal | None:
    """Parse a bank amount cell ("($29.44)", "- $30.00", "1.234,56", "30.00-", "12.00 CR"); None when blank."""
    text = cell.strip()
    if _PLAIN[decimal].fullmatch(text):
        return Decimal(text.replace(",", "") if decimal == "." else text.replace(".", "").replace(",", "."))
    if not text or text in _PLACEHOLDERS:
        return None
    negative = False
    suffix = _CR_DR.search(text)
    if suffix:
        negative = suffix.group(1).upper() == "DR"
        text = text[: suffix.start()]
    text = _NOISE.sub("", text)
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith("+"):
        text = text[1:]
    if text[:1] and text[0] in _MINUS:
        negative, text = True, text[1:]
    elif text[-1:] and text[-1] in _MINUS:  # trailing minus: "30.00-"
        negative, text = True, text[:-1]
    if text.startswith("(") and text.endswith(")"):  # "-(5.00)", or "$(5.00)" once the symbol came off
        negative, text = True, text[1:-1]
    group = "," if decimal == "." else "."
    whole, _, fraction = text.partition(decimal)
    if group in whole and not _GROUPED[decimal].fullmatch(whole):
        raise ValueError(cell)
    if group in fraction:  # "1.234,56" read with "." as the decimal: the other convention, refused, not misread
        raise ValueError(cell)
    text = text.replace(group, "").replace(decimal, ".")
    if not _NUMBER.fullmatch(text):
        raise ValueError(cell)
    value = Decimal(text)
    return -value if negative else value


def strip_time(cell: str) -> str:
    """Drop a trailing time of day ("2024-05-02 09:14:22", "2024-05-02T09:14:22Z") from a date cell."""
    return _TIME_SUFFIX.sub("", cell.strip())


def parse_date(cell: str, date_format: str) -> dt.date:
    """Parse a date cell with a strptime format (a trailing time of day is ignored); ValueError when it does not fit."""
    text = cell.strip()
    try:
        return dt.datetime.strptime(text, date_format).date()  # noqa: DTZ007 (calendar dates, no time zone)
    except ValueError:
        return dt.datetime.strptime(strip_time(text), date_format).date()  # noqa: DTZ007


def text_from_line(text: str, line: int) -> str:
    """Return `text` from its 0-based physical line `line` on (newlines already normalized to \\n)."""
    pos = 0
    for _ in range(line):
        nxt = text.find("\n", pos)
        if nxt < 0:
            return ""
        pos = nxt + 1
    return text[pos:]


def iter_records(text: str, delimiter: str, start_line: int) -> Iterator[tuple[int, int, list[str]]]:
    """Yield (1-based first line, lines spanned, cells) for each CSV record from physical line `start_line` on."""
    reader = csv.reader(io.StringIO(text_from_line(text, start_line)), delimiter=delimiter)
    done = 0
    try:
        for cells in reader:
            check_time()
            yield start_line + done + 1, reader.line_num - done, cells
            done = reader.line_num
    except csv.Error as exc:
        # The csv module's own complaints (e.g. an unclosed quote running into the field size limit).
        raise StatementError(f"line {start_line + done + 1}: the CSV cannot be read ({exc})") from None


def header_names(cells: Sequence[str]) -> list[str]:
    """Clean header cells into unique column names (blank → "column N", repeats → "Name (2)")."""
    names: list[str] = []
    seen: set[str] = set()
    for i, cell in enumerate(cells):
        name = " ".join(cell.replace("\ufeff", "").split()) or f"column {i + 1}"
        base, n = name, 2
        while name in seen:
            name, n = f"{base} ({n})", n + 1
        seen.add(name)
        names.append(name)
    return names


def raw_row(header: Sequence[str], cells: Sequence[str]) -> dict[str, str]:
    """Return header → cell for a record, keeping non-empty cells beyond the header as "column N"."""
    if len(cells) == len(header):  # the usual record: one cell per column
        return dict(zip(header, cells, strict=True))
    raw = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
    for i in range(len(header), len(cells)):
        if cells[i].strip():
            raw[f"column {i + 1}"] = cells[i]
    return raw


def _collapse(text: str) -> str:
    return " ".join(text.split())


_NO_COLUMN = sys.maxsize  # the index of a column the mapping does not use: past any record's end, so ""


class _RowReader:
    """Turns one record into a ParsedRow or a SkippedRow according to a mapping. The mapping's columns are looked up
    once, as indexes: a statement has as many records as a bank exports."""

    def __init__(self, mapping: CsvMapping, header: list[str]) -> None:
        self.mapping = mapping
        self.date_format = resolve_date_format(mapping.date_format)
        self.index = {name: i for i, name in enumerate(header)}
        self.dates: dict[str, dt.date] = {}  # dates repeat a lot: strptime once per distinct cell
        self.warnings: list[str] = []
        at = self.column_index
        m = mapping
        self.date_i, self.amount_i = at(m.date_column), at(m.amount_column)
        self.debit_i, self.credit_i, self.fee_i = at(m.debit_column), at(m.credit_column), at(m.fee_column)
        self.status_i, self.pending_i, self.balance_i = at(m.status_column), at(m.pending_column), at(m.balance_column)
        self.merchant_i, self.id_i, self.currency_i = at(m.merchant_column), at(m.id_column), at(m.currency_column)
        self.description_is = [at(c) for c in m.description_columns]

    def column_index(self, column: str | None) -> int:
        return _NO_COLUMN if column is None else self.index[column]

    def date(self, cell: str) -> dt.date:
        found = self.dates.get(cell)
        if found is None:
            found = self.dates[cell] = parse_date(cell, self.date_format)
        return found

    def amount(self, cells: Sequence[str]) -> Decimal | str:
        """Return the signed amount, or the reason it cannot be read."""
        m = self.mapping
        n = len(cells)
        if m.amount_column:
            cell = cells[self.amount_i] if self.amount_i < n else ""
            try:
                value = parse_amount(cell, m.decimal)
            except ValueError:
                return f"unreadable amount '{cell.strip()}'"
            if value is None:
                return "missing amount"
        else:
            debit_cell = cells[self.debit_i] if self.debit_i < n else ""
            credit_cell = cells[self.credit_i] if self.credit_i < n else ""
            try:
                debit, credit = parse_amount(debit_cell, m.decimal), parse_amount(credit_cell, m.decimal)
            except ValueError:
                return f"unreadable debit/credit '{debit_cell.strip()}' / '{credit_cell.strip()}'"
            if debit is None and credit is None:
                return "missing amount (debit and credit are both empty)"
            # Both columns hold sizes; some banks still write debits as "($29.44)" or "- $30.00".
            value = abs(credit or Decimal(0)) - abs(debit or Decimal(0))
        if m.sign == "inverted":
            value = -value
        if m.fee_column:
            fee_cell = cells[self.fee_i] if self.fee_i < n else ""
            try:
                fee = parse_amount(fee_cell, m.decimal)
            except ValueError:
                return f"unreadable fee '{fee_cell.strip()}'"
            value -= abs(fee or Decimal(0))
        return value

    def read(self, line: int, cells: list[str], raw: dict[str, str]) -> ParsedRow | SkippedRow:
        m = self.mapping
        n = len(cells)
        pending = False
        if m.status_column:
            status = _collapse(cells[self.status_i] if self.status_i < n else "")
            if status.casefold() in SKIP_STATUSES:
                return SkippedRow(line, f"status {status}", raw)
            pending = status.casefold() in PENDING_STATUSES
        if m.pending_column:
            pending = pending or (cells[self.pending_i] if self.pending_i < n else "").strip().casefold() in _TRUTHY
        date_cell = (cells[self.date_i] if self.date_i < n else "").strip()
        if not date_cell:
            return SkippedRow(line, "missing date", raw)
        date = self.dates.get(date_cell)
        if date is None:
            try:
                date = self.date(date_cell)
            except ValueError:
                return SkippedRow(line, f"unreadable date '{date_cell}' (expected {m.date_format})", raw)
        amount = self.amount(cells)
        if isinstance(amount, str):
            return SkippedRow(line, amount, raw)
        balance: Decimal | None = None
        if m.balance_column:
            balance_cell = cells[self.balance_i] if self.balance_i < n else ""
            try:
                balance = parse_amount(balance_cell, m.decimal)
            except ValueError:
                self.warnings.append(f"line {line}: unreadable balance '{balance_cell.strip()}' ignored")
        merchant = " ".join((cells[self.merchant_i] if self.merchant_i < n else "").split())
        described = self.description_is
        if len(described) == 1:
            description = " ".join((cells[described[0]] if described[0] < n else "").split()) or merchant
        else:
            parts = (" ".join((cells[i] if i < n else "").split()) for i in described)
            description = " ".join(p for p in parts if p) or merchant
        return ParsedRow(
            line,
            date,
            amount,
            description,
            merchant,
            (cells[self.id_i] if self.id_i < n else "").strip(),
            (cells[self.currency_i] if self.currency_i < n else "").strip().upper(),
            pending,
            balance,
            "",
            raw,
        )


def read_csv(
    text: str, mapping: CsvMapping, limits: ParseLimits | None = None
) -> tuple[list[ParsedRow], list[SkippedRow], list[str]]:
    """Read every record after the header with `mapping`; return rows, skipped rows and warnings (LimitError
    beyond LIMITS' rows)."""
    limits = limits or ParseLimits()
    records = iter_records(text, mapping.delimiter, mapping.header_row)
    first = next(records, None)
    if first is None:
        raise MappingError("header_row", f"the file has no line {mapping.header_row + 1}")
    header = header_names(first[2])
    mapping.validate(header)
    reader = _RowReader(mapping, header)
    rows: list[ParsedRow] = []
    skipped: list[SkippedRow] = []
    warnings: list[str] = []
    for line, spanned, cells in records:
        if not "".join(cells).strip():
            continue  # blank lines and rows of empty cells carry nothing (the cells are all whitespace)
        if spanned > _LONG_FIELD_LINES:
            warnings.append(f"line {line}: a quoted field spans {spanned} lines; check the file for an unclosed quote")
        result = reader.read(line, cells, raw_row(header, cells))
        if isinstance(result, ParsedRow):
            rows.append(result)
        else:
            skipped.append(result)
        check_rows(len(rows) + len(skipped), limits)
    warnings += reader.warnings
    warnings += assign_fingerprints(rows)
    return rows, skipped, warnings
