"""Manual usage entries: usage and costs typed in or uploaded as CSV for providers that have no usage API.

An entry is one usage record of kind "manual", one UTC day wide, keyed by (date, model, project) within its
account: storing an entry with the same key again replaces it. Its cost is what the user entered, and counts
as the provider's own cost (cost_source "provider"), so no estimate is ever made for it.

CSV imports are all-or-nothing: every row is checked first, and unless every row is valid nothing is stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.models import ProviderAccount
from backend.models import UsageRecord as UsageRow
from backend.models.usage import Money
from backend.services.ingest import ingest, rebuild_daily_spend
from backend.services.usage import decode_cursor, encode_cursor
from integrations.records import UsageRecord

log = logging.getLogger(__name__)
T = TypeVar("T")

MANUAL_PROVIDER = "manual"  # the provider kind whose accounts take entries
ENTRY_KIND = "manual"  # the usage record kind of an entry
MAX_TEXT = 200  # model and project, as the usage_records columns
MAX_COUNT = 10**15  # tokens or requests of one day: far above any real day, far below BIGINT
COST_PLACES = 10
EARLIEST_DAY = dt.date(2000, 1, 1)
MAX_CSV_ROWS = 100_000
MAX_REPORTED_ERRORS = 100

# The CSV layout: the header row names the columns, in any order, case-insensitively.
REQUIRED_COLUMNS = ("date", "model", "input_tokens", "output_tokens", "cost")
OPTIONAL_COLUMNS = ("project", "requests", "currency")
CSV_COLUMNS = ("date", "model", "project", "input_tokens", "output_tokens", "requests", "cost", "currency")

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_COUNT = re.compile(r"\d+")
_AMOUNT = re.compile(r"\d+(\.\d*)?|\.\d+")
_CURRENCY = re.compile(r"[A-Z]{3}")


# -- the rules an entry follows, shared by the JSON schema and the CSV parser (each raises ValueError) -------


def check_day(day: dt.date, *, today: dt.date | None = None) -> dt.date:
    """A day an entry may be for: from 2000 up to tomorrow (UTC), which covers 'today' in every time zone."""
    today = today or utcnow().date()
    if day < EARLIEST_DAY:
        raise ValueError(f"must be {EARLIEST_DAY.isoformat()} or later")
    if day > today + dt.timedelta(days=1):
        raise ValueError("is in the future")
    return day


def parse_day(text: str) -> dt.date:
    text = text.strip()
    if not _DAY.fullmatch(text):
        raise ValueError(f"not a date in the form YYYY-MM-DD: {text!r}")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a valid date: {text!r}") from None
    return check_day(day)


def check_text(value: str, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise ValueError("is required")
    if len(value) > MAX_TEXT:
        raise ValueError(f"is longer than {MAX_TEXT} characters")
    return value


def parse_count(text: str) -> int:
    """A whole number of tokens or requests; an empty cell is 0."""
    text = text.strip()
    if not text:
        return 0
    if not _COUNT.fullmatch(text):
        raise ValueError(f"not a whole number: {text!r}")
    value = int(text)
    if value > MAX_COUNT:
        raise ValueError(f"is larger than {MAX_COUNT}")
    return value


def check_cost(value: Decimal) -> Decimal:
    """A cost as stored: finite, not negative, at most 10 decimal places and Money.limit (922,337,203.68…)."""
    if not value.is_finite():
        raise ValueError("must be a finite number")
    if value < 0:
        raise ValueError("must not be negative")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > COST_PLACES:
        raise ValueError(f"has more than {COST_PLACES} decimal places")
    if value > Money.limit:
        raise ValueError(f"is more than {Money.limit}")
    return value


def parse_currency(text: str) -> str:
    """A three-letter currency code (ISO 4217), upper-cased; an empty cell is USD."""
    code = text.strip().upper()
    if not code:
        return "USD"
    if not _CURRENCY.fullmatch(code):
        raise ValueError(f"not a three-letter currency code such as USD: {text.strip()!r}")
    return code


def parse_cost(text: str, currency: str) -> Decimal:
    """A decimal amount with '.' as the separator; a leading '$' is tolerated (for USD)."""
    raw = text.strip()
    if not raw:
        raise ValueError("is required")
    amount = raw
    if amount.startswith("$"):
        if currency != "USD":
            raise ValueError(f"'$' given for a {currency} amount: {raw!r}")
        amount = amount[1:].strip()
    if "," in amount and _AMOUNT.fullmatch(amount.replace(",", ".", 1)):
        raise ValueError(f"use '.' as the decimal separator, not ',': {raw!r}")
    if not _AMOUNT.fullmatch(amount):
        raise ValueError(f"not a number: {raw!r}")
    try:
        return check_cost(Decimal(amount))
    except InvalidOperation:  # pragma: no cover - the pattern only lets plain decimals through
        raise ValueError(f"not a number: {raw!r}") from None


# -- entries ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One day of usage of one model (and project) of a manual account, as the user gave it."""

    date: dt.date
    model: str
    project: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    cost: Decimal = Decimal(0)
    currency: str = "USD"

    @property
    def key(self) -> tuple[dt.date, str, str]:
        return (self.date, self.model, self.project)

    def record(self) -> UsageRecord:
        return UsageRecord(
            bucket_start=_day_start(self.date),
            bucket_width="1d",
            kind=ENTRY_KIND,
            model=self.model,
            project=self.project,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            requests=self.requests,
            cost=self.cost,  # entered by the user: counts as the provider's own cost
            currency=self.currency,
        )


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def require_manual(account: ProviderAccount) -> ProviderAccount:
    """ACCOUNT, or 409 when it is synced from a provider (its records are the provider's, not the user's)."""
    if account.kind != MANUAL_PROVIDER:
        raise Conflict(
            f"Only accounts of kind '{MANUAL_PROVIDER}' take manual entries; this one is synced from "
            f"its provider ({account.kind}).",
            code="not_manual_account",
        )
    return account


def duplicate_keys(entries: Sequence[Entry]) -> list[tuple[int, int]]:
    """(index, index of its first occurrence) for every entry whose (date, model, project) came before."""
    first: dict[tuple[dt.date, str, str], int] = {}
    duplicates = []
    for index, entry in enumerate(entries):
        if entry.key in first:
            duplicates.append((index, first[entry.key]))
        else:
            first[entry.key] = index
    return duplicates


def store_entries(*, session: Session, account: ProviderAccount, entries: Sequence[Entry]) -> int:
    """Upsert ENTRIES (an entry with the key of a stored one replaces it) and rebuild the daily spend of the
    days they touch, in the caller's transaction. The same key twice in ENTRIES is a 422: which one to keep
    would be a guess."""
    require_manual(account)
    duplicates = duplicate_keys(entries)
    if duplicates:
        raise Invalid(
            "Some entries have the same date, model and project as an earlier one in this request.",
            code="duplicate_entry",
            details=[
                {"loc": ["entries", str(i)], "msg": f"same date, model and project as entries.{j}", "type": "duplicate"}
                for i, j in duplicates
            ],
        )
    stored = ingest(session=session, account=account, records=[e.record() for e in entries])
    log.info("manual entries stored account=%s entries=%s", account.id, stored)
    return stored


def list_entries(
    *,
    session: Session,
    account: ProviderAccount,
    start: dt.date | None,
    end: dt.date | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[UsageRow], str | None]:
    """The account's entries in [START, END] (either bound optional), newest day first, one keyset page."""
    require_manual(account)
    stmt = select(UsageRow).where(
        UsageRow.workspace_id == account.workspace_id,
        UsageRow.account_id == account.id,
        UsageRow.kind == ENTRY_KIND,
    )
    if start is not None:
        stmt = stmt.where(UsageRow.bucket_start >= _day_start(start))
    if end is not None:
        stmt = stmt.where(UsageRow.bucket_start < _day_start(end + dt.timedelta(days=1)))
    if cursor:
        when, row_id = decode_cursor(cursor)
        stmt = stmt.where(tuple_(UsageRow.bucket_start, UsageRow.id) < tuple_(when, row_id))
    rows = list(session.scalars(stmt.order_by(UsageRow.bucket_start.desc(), UsageRow.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def delete_entry(*, session: Session, account: ProviderAccount, day: dt.date, model: str, project: str) -> None:
    """Delete the entry (DAY, MODEL, PROJECT) and rebuild that day's spend; 404 when there is none."""
    require_manual(account)
    result = session.execute(
        delete(UsageRow)
        .where(
            UsageRow.workspace_id == account.workspace_id,
            UsageRow.account_id == account.id,
            UsageRow.kind == ENTRY_KIND,
            UsageRow.bucket_width == "1d",
            UsageRow.bucket_start == _day_start(day),
            UsageRow.model == model,
            UsageRow.project == project,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound("No entry for this date, model and project.", code="entry_not_found")
    rebuild_daily_spend(session=session, account=account, start=day, end=day)
    log.info("manual entry deleted account=%s day=%s", account.id, day.isoformat())


# -- CSV import ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int | None  # as a spreadsheet numbers it: the header is row 1; None for the file as a whole
    column: str | None
    message: str


@dataclass
class ImportReport:
    rows: int = 0  # data rows read (blank lines aside)
    stored: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    #: The problem with the file as a whole ("csv_empty", "csv_not_text", "csv_invalid"), or None when valid.
    code: str | None = None

    def fail(self, code: str, row: int | None, column: str | None, message: str) -> None:
        self.code = self.code or code
        self.errors.append(RowError(row, column, message))

    @property
    def ok(self) -> bool:
        return not self.errors


def _expected() -> str:
    optional = ", ".join(OPTIONAL_COLUMNS)
    return f"expected columns: {', '.join(REQUIRED_COLUMNS)} (required) and {optional} (optional)"


def _decode(data: bytes, report: ImportReport) -> str | None:
    """The file as text, or None (with the reason in REPORT) when it is empty, binary or not UTF-8."""
    if data.startswith(b"PK\x03\x04"):
        report.fail("csv_not_text", None, None, "This looks like a spreadsheet (.xlsx) file; save it as CSV (UTF-8).")
        return None
    if b"\x00" in data:
        report.fail("csv_not_text", None, None, "The file is not CSV text (it contains binary data); save it as CSV.")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        report.fail(
            "csv_not_text",
            None,
            None,
            f"The file is not UTF-8 text (byte {exc.start + 1} is not valid UTF-8); save it as CSV (UTF-8).",
        )
        return None
    if not text.strip():
        report.fail("csv_empty", None, None, "The file is empty; it needs a header row and at least one row.")
        return None
    return text


def _header(cells: list[str], report: ImportReport) -> dict[str, int] | None:
    """Column name -> cell index, or None (errors in REPORT) when the header row is not the documented one."""
    names = [c.strip().lower() for c in cells]
    columns: dict[str, int] = {}
    known = set(CSV_COLUMNS)
    if len(names) == 1 and ";" in names[0]:
        report.fail("csv_invalid", 1, None, f"The file seems to use ';' between columns; use ','. {_expected()}.")
        return None
    for index, name in enumerate(names):
        if name not in known:
            shown = name or f"(column {index + 1} has no name)"
            report.fail("csv_invalid", 1, shown, f"unknown column; {_expected()}")
        elif name in columns:
            report.fail("csv_invalid", 1, name, "this column appears twice")
        else:
            columns[name] = index
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            report.fail("csv_invalid", 1, name, f"missing column; {_expected()}")
    return None if report.errors else columns


def _entry(cells: list[str], columns: dict[str, int], row: int, report: ImportReport) -> Entry | None:
    """The entry of one data row, or None with its errors (one per bad cell) added to REPORT."""
    errors: list[RowError] = []

    def take(name: str, parse: Callable[[str], T], fallback: T) -> T:
        index = columns.get(name)
        try:
            return parse(cells[index] if index is not None else "")
        except ValueError as exc:
            errors.append(RowError(row, name, str(exc)))
            return fallback

    day = take("date", parse_day, EARLIEST_DAY)
    model = take("model", lambda v: check_text(v, required=True), "")
    project = take("project", lambda v: check_text(v, required=False), "")
    input_tokens = take("input_tokens", parse_count, 0)
    output_tokens = take("output_tokens", parse_count, 0)
    requests = take("requests", parse_count, 0)
    currency = take("currency", parse_currency, "USD")
    cost = take("cost", lambda v: parse_cost(v, currency), Decimal(0))
    if errors:
        report.code = report.code or "csv_invalid"
        report.errors.extend(errors)
        return None
    return Entry(day, model, project, input_tokens, output_tokens, requests, cost, currency)


def parse_csv(data: bytes) -> ImportReport:
    """Read and check every row of an uploaded CSV file; the entries are in the report when all are valid."""
    report = ImportReport()
    text = _decode(data, report)
    if text is None:
        return report
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    row = 1  # the record being read, numbered as a spreadsheet shows it (the header is row 1)
    try:
        header = next(reader)
        columns = _header(header, report)
        if columns is None:
            return report
        first_row: dict[tuple[dt.date, str, str], int] = {}
        for cells in reader:
            row += 1
            if not any(c.strip() for c in cells):
                continue  # a blank line (often the last one)
            report.rows += 1
            if report.rows > MAX_CSV_ROWS:
                report.fail("csv_invalid", row, None, f"The file has more than {MAX_CSV_ROWS} rows; split it.")
                break
            if len(cells) != len(header):
                report.fail(
                    "csv_invalid", row, None, f"has {len(cells)} values but the header has {len(header)} columns"
                )
                continue
            entry = _entry(cells, columns, row, report)
            if entry is None:
                continue
            if entry.key in first_row:
                report.fail(
                    "csv_invalid",
                    row,
                    None,
                    f"same date, model and project as row {first_row[entry.key]}; each may appear only once",
                )
                continue
            first_row[entry.key] = row
            report.entries.append(entry)
    except csv.Error as exc:
        report.fail("csv_invalid", row + 1, None, f"The file is not valid CSV here: {exc}.")
    if not report.rows and not report.errors:
        report.fail("csv_empty", None, None, "The file has a header row but no data rows.")
    return report


def import_csv(*, session: Session, account: ProviderAccount, data: bytes, dry_run: bool) -> ImportReport:
    """Check every row of DATA; store all of them (in the caller's transaction) only when every row is valid
    and this is not a dry run. Never stores part of a file."""
    require_manual(account)
    report = parse_csv(data)
    report.dry_run = dry_run
    if report.ok and not dry_run:
        report.stored = store_entries(session=session, account=account, entries=report.entries)
    log.info(
        "manual CSV import account=%s rows=%s stored=%s errors=%s dry_run=%s",
        account.id,
        report.rows,
        report.stored,
        len(report.errors),
        dry_run,
    )
    return report
