"""Detect a CSV statement's layout: encoding, delimiter, header row, columns, date format, decimals and sign."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .csv_reader import header_names, iter_records, parse_amount, strip_time
from .limits import ParseLimits, check_rows, check_time
from .model import CsvMapping, LayoutError, MappingError, StatementError

_DELIMITERS = (",", ";", "\t", "|")
_HEADER_SCAN_LINES = 60
_DECIMAL_VOTES = 2000  # distinct amount cells that vote on the decimal separator
_SAMPLE = 50  # cells tried with every candidate date format before the finalists see the whole column
_UNSEEN: Any = object()

# Candidate date formats, tried over the whole date column.
DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%y",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y%m%d",
    "%d %b %Y",
    "%d-%b-%Y",
    "%d %b %y",
    "%d-%b-%y",
    "%b %d, %Y",
    "%d %B %Y",
    "%B %d, %Y",
)

# Header keywords per role, best first. An exact label match beats a keyword found inside a longer label
# ("Amount (GBP)"), and only the keywords in _PHRASES may match inside a longer label.
_ROLES: dict[str, tuple[str, ...]] = {
    "date": (
        "transaction date", "date", "posting date", "posted date", "post date", "trans date", "booking date",
        "started date", "date posted", "buchungstag", "buchungsdatum", "datum", "fecha", "date operation",
        "value date", "valuta", "wertstellung", "completed date", "posted",
    ),
    "debit": (
        "debit", "debits", "debit amount", "amount debit", "withdrawal", "withdrawals", "withdrawal amount",
        "paid out", "money out", "soll", "ausgang", "out",
    ),
    "credit": (
        "credit", "credits", "credit amount", "amount credit", "deposit", "deposits", "deposit amount",
        "paid in", "money in", "haben", "eingang", "in",
    ),
    "amount": (
        "amount", "transaction amount", "betrag", "umsatz", "montant", "importe", "bedrag", "net amount", "value",
    ),
    "balance": ("balance", "running balance", "running bal", "saldo", "kontostand", "solde", "available balance"),
    "fee": ("fee", "fees", "gebühr", "gebuehr"),
    "status": ("status", "state", "transaction status"),
    "id": (
        "transaction id", "id", "transaction number", "reference number", "ref number", "fitid",
        "transaction reference number", "transaktions id",
    ),
    "currency": ("currency", "ccy", "währung", "waehrung", "devise", "moneda", "currency code"),
    "pending": ("pending",),
    "description": (
        "description", "transaction description", "narrative", "details", "transaction details", "memo", "notes",
        "note", "verwendungszweck", "beschreibung", "libellé", "libelle", "concepto", "omschrijving",
    ),
    "merchant": (
        "payee", "name", "merchant", "merchant name", "payee name", "counterparty", "beneficiary",
        "auftraggeber empfänger", "beguenstigter zahlungspflichtiger", "empfänger", "auftraggeber",
    ),
}  # fmt: skip
_PHRASES: dict[str, tuple[str, ...]] = {
    "date": ("date", "datum"),
    "debit": ("debit", "withdrawal", "money out", "paid out"),
    "credit": ("credit", "deposit", "money in", "paid in"),
    "amount": ("amount", "betrag", "umsatz"),
    "balance": ("balance", "saldo"),
    "fee": ("fee",),
    "status": ("status",),
    "id": ("transaction id", "reference number"),
    "currency": ("currency", "währung"),
    "description": ("description", "details", "beschreibung"),
    "merchant": ("payee", "merchant"),
}
_SECONDARY_DESCRIPTION = ("memo", "notes", "note")  # joined after the main description when both exist
_PAYMENT_TEXT = re.compile(r"payment|thank you|autopay|refund|credit", re.IGNORECASE)


def _norm(label: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", label.casefold()).split())


_ROLE_KEYWORDS = {role: tuple(_norm(k) for k in words) for role, words in _ROLES.items()}


def _score(label: str, role: str) -> int:
    words = _ROLE_KEYWORDS[role]
    if label in words:
        return 1000 - words.index(label)
    padded = f" {label} "
    for i, phrase in enumerate(_PHRASES.get(role, ())):
        if f" {phrase} " in padded:
            return 500 - i
    return 0


def classify(cells: Sequence[str]) -> dict[str, list[int]]:
    """Give each header cell its best role; return role → column indexes, best match first."""
    scored: dict[str, list[tuple[int, int]]] = {}
    for i, cell in enumerate(cells):
        label = _norm(cell)
        if not label:
            continue
        best_role, best = "", 0
        for role in _ROLES:  # ties go to the earlier role: "Amount Debit" is a debit column
            score = _score(label, role)
            if score > best:
                best_role, best = role, score
        if best_role:
            scored.setdefault(best_role, []).append((-best, i))
    return {role: [i for _, i in sorted(found)] for role, found in scored.items()}


def _is_header(roles: dict[str, list[int]]) -> bool:
    return "date" in roles and any(r in roles for r in ("amount", "debit", "credit"))


# --- decoding -------------------------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _guess_encoding(data: bytes) -> list[str]:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return [name]
    sample = data[:4096]
    if sample.count(0) > len(sample) // 4:
        # UTF-16 without a BOM: ASCII text leaves a zero in every other byte.
        odd_zeros = sample[1::2].count(0)
        return ["utf-16-le"] if odd_zeros > sample[0::2].count(0) else ["utf-16-be"]
    return ["utf-8", "cp1252", "latin-1"]


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode statement bytes (BOM sniff, UTF-8, then cp1252, then latin-1); return (text, encoding used)."""
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise MappingError("encoding", f"the file is not valid {encoding} text") from None
        return _normalize(text), encoding
    for name in _guess_encoding(data):
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        return _normalize(text), name
    raise StatementError("the file is not text in any encoding we know")  # pragma: no cover - latin-1 decodes all


def _normalize(text: str) -> str:
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    sample = text[:20000]
    control = sum(1 for ch in sample if ch < " " and ch not in "\t\n")
    if sample and control > len(sample) // 100 + 2:
        raise StatementError("this does not look like a CSV or OFX statement (the file holds binary data)")
    return text


# --- detection ------------------------------------------------------------------------------------------------


@dataclass
class _Header:
    line: int
    delimiter: str
    cells: list[str]
    roles: dict[str, list[int]]


def _split_line(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


def find_headers(text: str) -> list[_Header]:
    """Find lines that look like a header (a date label and an amount label), most likely first."""
    lines = text.split("\n", _HEADER_SCAN_LINES)[:_HEADER_SCAN_LINES]
    found: list[_Header] = []
    partial: _Header | None = None
    for delimiter in _DELIMITERS:
        for n, line in enumerate(lines):
            if delimiter not in line:
                continue
            cells = _split_line(line, delimiter)
            roles = classify(cells)
            if _is_header(roles):
                found.append(_Header(n, delimiter, cells, roles))
                continue
            if len(roles) > (len(partial.roles) if partial else 0) and len(cells) > 1:
                partial = _Header(n, delimiter, cells, roles)
    if found:
        # The right delimiter splits the header into the most columns; then the earliest header wins. Later
        # candidates only matter when a summary line ("Statement date, Amount due") came first.
        return sorted(found, key=lambda h: (-len(h.cells), h.line))
    if partial is None:
        raise LayoutError(
            f"no header row found in the first {_HEADER_SCAN_LINES} lines: expected a line with a date column "
            "and an amount column (or debit and credit columns)"
        )
    names = ", ".join(f"'{c.strip()}'" for c in partial.cells if c.strip())
    missing = "date column" if "date" not in partial.roles else "amount column (and no debit and credit columns)"
    raise LayoutError(f"line {partial.line + 1} looks like a header but has no {missing}; columns: {names}")


def detect_date_format(cells: Sequence[str]) -> tuple[str, list[str]] | None:
    """Pick the date format that reads the most cells; return it and the alternatives it tied with."""
    # Distinct values only: a statement repeats its dates, and strptime is the slow part of detection. Distinct cells
    # first (the same values in the same first-seen order), so that strip_time runs once per distinct cell.
    values = list(dict.fromkeys(strip_time(c) for c in dict.fromkeys(cells) if c.strip()))
    if not values:
        return None

    def fits(fmt: str, items: Sequence[str]) -> int:
        ok = 0
        for value in items:
            check_time()
            try:
                dt.datetime.strptime(value, fmt)  # noqa: DTZ007 (calendar dates only)
            except ValueError:
                continue
            ok += 1
        return ok

    sample = values[:_SAMPLE]
    counts = {fmt: fits(fmt, sample) for fmt in DATE_FORMATS}
    best = max(counts.values())
    if best == 0 or best * 2 < len(sample):
        return None
    finalists = [fmt for fmt in DATE_FORMATS if counts[fmt] == best]
    if len(finalists) > 1 and len(values) > len(sample):
        # Only the finalists see the whole column: one day > 12 anywhere settles dd/mm against mm/dd.
        full = {fmt: fits(fmt, values) for fmt in finalists}
        top = max(full.values())
        finalists = [fmt for fmt in finalists if full[fmt] == top]
    if len(finalists) == 1:
        return finalists[0], []
    # Still ambiguous: month-first for "/" (US habit), day-first for "." and "-".
    month_first = [f for f in finalists if f.startswith("%m")]
    day_first = [f for f in finalists if f.startswith("%d")]
    if "/" in finalists[0] and month_first:
        chosen = month_first[0]
    elif day_first:
        chosen = day_first[0]
    else:
        chosen = finalists[0]
    return chosen, [f for f in finalists if f != chosen]


def detect_decimal(cells: Sequence[str], delimiter: str) -> str:
    """Decide the decimal separator from amount cells ("1.234,56" and "-7,85" vote for ",")."""
    dot = comma = 0
    voters: dict[str, None] = {}  # the first _DECIMAL_VOTES distinct non-blank cells, in order
    for c in cells:
        if len(voters) >= _DECIMAL_VOTES:
            break
        if c not in voters and c.strip():
            voters[c] = None
    for cell in voters:
        digits = re.sub(r"[^\d.,]", "", cell)
        last_dot, last_comma = digits.rfind("."), digits.rfind(",")
        if last_dot >= 0 and last_comma >= 0:
            if last_comma > last_dot:
                comma += 1
            else:
                dot += 1
        elif last_comma >= 0 or last_dot >= 0:
            sep = "," if last_comma >= 0 else "."
            after = len(digits) - max(last_dot, last_comma) - 1
            if digits.count(sep) > 1:  # only grouping repeats: "1.234.567" means "," is the decimal
                comma, dot = (comma + 1, dot) if sep == "." else (comma, dot + 1)
            elif after != 3:  # "7,85" or "7.5": a decimal separator ("1,234" could be either)
                comma, dot = (comma + 1, dot) if sep == "," else (comma, dot + 1)
    if comma == dot:
        return "," if delimiter == ";" else "."
    return "," if comma > dot else "."


def _column_amounts(rows: Sequence[Sequence[str]], index: int, decimal: str) -> list[Decimal | str | None]:
    """Parse one column: a Decimal, None for a blank cell, or the cell text when it is not an amount."""
    values: list[Decimal | str | None] = []
    parsed: dict[str, Decimal | str | None] = {}  # amounts repeat: parse each distinct cell once
    for cells in rows:
        cell = cells[index] if index < len(cells) else ""
        value = parsed.get(cell, _UNSEEN)
        if value is _UNSEEN:
            check_time()
            try:
                value = parse_amount(cell, decimal)
            except ValueError:
                value = cell.strip()
            parsed[cell] = value
        values.append(value)
    return values


def detect_layout(text: str, encoding: str, limits: ParseLimits | None = None) -> tuple[CsvMapping, list[str]]:
    """Detect the CsvMapping for decoded CSV text; return it with warnings, or raise LayoutError (LimitError
    beyond LIMITS' rows)."""
    failures: list[LayoutError] = []
    for header in find_headers(text)[:5]:
        try:
            return _layout_from(text, header, encoding, limits or ParseLimits())
        except LayoutError as exc:
            failures.append(exc)
    raise failures[0]  # find_headers raises itself when it finds no candidate at all


def _layout_from(text: str, header: _Header, encoding: str, limits: ParseLimits) -> tuple[CsvMapping, list[str]]:
    names = header_names(header.cells)
    records = iter_records(text, header.delimiter, header.line)
    first = next(records, None)
    if first is None or first[2] != header.cells:
        # The line on its own split differently from the record: a quote opened in the header never closes.
        raise LayoutError(f"the header on line {header.line + 1} has an unclosed quote")
    rows = [cells for _, _, cells in records if "".join(cells).strip()]  # not blank: a cell with more than spaces
    check_rows(len(rows), limits)
    roles = header.roles
    warnings: list[str] = []

    def column(i: int) -> list[str]:
        return [cells[i] if i < len(cells) else "" for cells in rows]

    # Date: the best-named column whose cells read as dates.
    date_index, date_format = roles["date"][0], "%Y-%m-%d"
    if rows:
        for i in roles["date"]:
            detected = detect_date_format(column(i))
            if detected is not None:
                date_index, (date_format, others) = i, detected
                if others:
                    warnings.append(
                        f"dates in '{names[i]}' fit both {date_format} and {', '.join(others)}; "
                        f"read as {date_format}: change date_format if that is wrong"
                    )
                break
        else:
            sample = next((c for c in column(roles["date"][0]) if c.strip()), "")
            raise LayoutError(f"the dates in column '{names[roles['date'][0]]}' cannot be read (e.g. '{sample}')")
    else:
        warnings.append("the file has a header but no transaction rows")

    amount_like = [i for r in ("amount", "debit", "credit", "balance") for i in roles.get(r, [])]
    decimal = detect_decimal([c for i in amount_like for c in column(i)], header.delimiter)
    mapping = CsvMapping(
        encoding=encoding,
        delimiter=header.delimiter,
        header_row=header.line,
        date_column=names[date_index],
        date_format=date_format,
        decimal=decimal,
    )
    _pick_amount(mapping, roles, names, rows, warnings)
    _pick_optional(mapping, roles, names, rows, warnings)
    return mapping, warnings


def _pick_amount(
    mapping: CsvMapping, roles: dict[str, list[int]], names: list[str], rows: list[list[str]], warnings: list[str]
) -> None:
    for i in roles.get("amount", []):
        values = _column_amounts(rows, i, mapping.decimal)
        bad = sum(1 for v in values if isinstance(v, str))
        if len(values) - bad >= bad:
            mapping.amount_column = names[i]
            texts = [j for r in ("description", "merchant") for j in roles.get(r, [])]
            _detect_sign(mapping, values, rows, texts, warnings)
            return
    debit, credit = roles.get("debit", []), roles.get("credit", [])
    if debit and credit:
        mapping.debit_column, mapping.credit_column = names[debit[0]], names[credit[0]]
        return
    if "amount" in roles:
        i = roles["amount"][0]
        sample = next((v for v in _column_amounts(rows, i, mapping.decimal) if isinstance(v, str) and v), "")
        raise LayoutError(f"the amounts in column '{names[i]}' cannot be read (e.g. '{sample}')")
    have, lacking = ("debit", "credit") if debit else ("credit", "debit")
    column = names[(debit or credit)[0]]
    raise LayoutError(f"found a {have} column ('{column}') but no {lacking} column and no amount column")


def _detect_sign(
    mapping: CsvMapping,
    values: list[Decimal | str | None],
    rows: list[list[str]],
    texts: list[int],
    warnings: list[str],
) -> None:
    amounts = [v for v in values if isinstance(v, Decimal)]
    positive = sum(1 for a in amounts if a > 0)
    negative = sum(1 for a in amounts if a < 0)
    if not positive:
        return
    if not negative:
        warnings.append(
            "every amount is positive; if this is a card statement that shows charges as positive, "
            "set sign to 'inverted'"
        )
        return
    # Card statements show charges as positive and payments/refunds as negative: inverted when most rows are
    # positive and at least half of the negative rows read like payments, refunds or credits.
    reads_like_payment: dict[str, bool] = {}  # descriptions repeat: search each distinct one once

    def payment(text: str) -> bool:
        found = reads_like_payment.get(text)
        if found is None:
            check_time()
            found = reads_like_payment[text] = _PAYMENT_TEXT.search(text) is not None
        return found

    payments = sum(
        1
        for value, cells in zip(values, rows, strict=True)
        if isinstance(value, Decimal) and value < 0 and any(i < len(cells) and payment(cells[i]) for i in texts)
    )
    if payments * 2 >= negative and positive >= 2 * negative:
        mapping.sign = "inverted"
        warnings.append(
            "amounts look like a card statement (charges positive, payments negative): read positive amounts "
            "as money out; set sign to 'signed' if that is wrong"
        )


def _pick_optional(
    mapping: CsvMapping, roles: dict[str, list[int]], names: list[str], rows: list[list[str]], warnings: list[str]
) -> None:
    def first(role: str) -> str | None:
        found = roles.get(role)
        return names[found[0]] if found else None

    mapping.balance_column = first("balance")
    mapping.status_column = first("status")
    mapping.id_column = first("id")
    mapping.currency_column = first("currency")
    mapping.pending_column = first("pending")
    mapping.merchant_column = first("merchant")
    fee = roles.get("fee")
    if fee and any(isinstance(v, Decimal) and v for v in _column_amounts(rows, fee[0], mapping.decimal)):
        mapping.fee_column = names[fee[0]]
        warnings.append(f"fees in '{names[fee[0]]}' are subtracted from the amounts")
    described = roles.get("description", [])
    main = [i for i in described if _norm(names[i]) not in _SECONDARY_DESCRIPTION][:1] or described[:1]
    extra = [i for i in described if i not in main and _norm(names[i]) in _SECONDARY_DESCRIPTION][:1]
    if main:
        mapping.description_columns = [names[i] for i in sorted(main + extra)]
    elif mapping.merchant_column:
        mapping.description_columns = [mapping.merchant_column]
