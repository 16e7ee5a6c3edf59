"""Read OFX/QFX statements: ofxtools (strict) first, a tolerant tag scanner for the files it refuses."""

from __future__ import annotations

import datetime as dt
import html
import re
import warnings as pywarnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any

from ofxtools.Parser import OFXTree

from .limits import ParseLimits, check_rows, check_time
from .model import ParsedRow, SkippedRow, StatementError, assign_fingerprints, mask_account, statement_currency

_STATEMENT_TAGS = ("STMTRS", "CCSTMTRS")
_STMTTRN = re.compile(r"<STMTTRN>", re.IGNORECASE)
# Where a transaction's fields end when closing tags are missing.
_STMTTRN_END = re.compile(
    r"</?STMTTRN>|</BANKTRANLIST>|<LEDGERBAL>|<AVAILBAL>|</STMTRS>|</CCSTMTRS>|<STMTRS>|<CCSTMTRS>", re.IGNORECASE
)
_FIELD = re.compile(r"<([A-Za-z0-9._]+)>([^<\r\n]*)")
_DATE = re.compile(r"\s*(\d{4})(\d{2})(\d{2})")


@dataclass
class _Transaction:
    """One STMTTRN's fields, from either reader, before it becomes a ParsedRow."""

    line: int
    fields: dict[str, str]  # tag → text, as found in the file (nested tags as "PAYEE.NAME")
    amount: Decimal | None
    fitid: str
    name: str
    memo: str
    payee: str
    currency: str


@dataclass
class _Result:
    transactions: list[_Transaction] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)
    closing_balance: Decimal | None = None
    warnings: list[str] = field(default_factory=list)


def looks_like_ofx(data: bytes) -> bool:
    """Return True when the bytes start like an OFX/QFX document (SGML header or XML)."""
    head = data[:4096].replace(b"\x00", b"").upper()
    return b"OFXHEADER" in head or b"<OFX>" in head


def _text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # pragma: no cover - latin-1 decodes everything


def _stmttrn_starts(text: str) -> Iterator[tuple[int, re.Match[str]]]:
    """Yield (1-based line, match) for every <STMTTRN> tag, counting lines incrementally (big files stay linear)."""
    line, pos = 1, 0
    for match in _STMTTRN.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        yield line, match


def _line_numbers(text: str) -> list[int]:
    return [line for line, _ in _stmttrn_starts(text)]


def _decimal(value: str) -> Decimal | None:
    value = value.strip().replace(" ", "")
    if "," in value and "." not in value:
        value = value.replace(",", ".")  # OFX allows a comma as the decimal separator
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _date(value: str) -> dt.date | None:
    # The bank's own calendar date: the first 8 digits, before any time and time zone (ofxtools converts to
    # UTC, which moves "20240401000000[+2:CEST]" to 31 March).
    match = _DATE.match(value)
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _flatten(element: ET.Element, prefix: str = "") -> Iterator[tuple[str, str]]:
    for child in element:
        tag = f"{prefix}{child.tag}"
        if len(child):
            yield from _flatten(child, f"{tag}.")
        else:
            yield tag, html.unescape((child.text or "").strip())


def _strict(data: bytes, lines: list[int]) -> _Result:
    tree = OFXTree()
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")  # ofxtools warns about private tags such as <INTU.BID>
        tree.parse(BytesIO(data))
        ofx: Any = tree.convert()
    root = tree.getroot()
    elements = [el for el in root.iter() if el.tag in _STATEMENT_TAGS] if root is not None else []
    statements = [s for s in ofx.statements if type(s).__name__ in _STATEMENT_TAGS]
    if not statements:
        raise StatementError("the OFX file holds no bank or credit card statement")
    result = _Result()
    ordinal = 0
    for element, stmt in zip(elements, statements, strict=False):
        result.accounts.append(str(stmt.account.acctid or ""))
        result.currencies.append(str(stmt.curdef or ""))
        if result.closing_balance is None and stmt.ledgerbal is not None:
            result.closing_balance = stmt.ledgerbal.balamt
        tranlist = element.find("BANKTRANLIST")
        raw_trns = tranlist.findall("STMTTRN") if tranlist is not None else []
        for raw, trn in zip(raw_trns, stmt.banktranlist or [], strict=False):
            fields = dict(_flatten(raw))
            result.transactions.append(
                _Transaction(
                    line=lines[ordinal] if ordinal < len(lines) else 0,
                    fields=fields,
                    amount=trn.trnamt,
                    fitid=str(trn.fitid or ""),
                    name=str(trn.name or ""),
                    memo=str(trn.memo or ""),
                    payee=str(trn.payee.name or "") if trn.payee is not None else "",
                    currency=str(stmt.curdef or ""),
                )
            )
            ordinal += 1
    return result


def _first(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.IGNORECASE | re.DOTALL)
    return html.unescape(match.group(1).strip()) if match else ""


def _lenient(text: str) -> _Result:
    result = _Result()
    account = _first(r"<ACCTID>([^<\r\n]*)", text)
    currency = _first(r"<CURDEF>([^<\r\n]*)", text).upper()
    result.accounts.append(account)
    result.currencies.append(currency)
    result.closing_balance = _decimal(_first(r"<LEDGERBAL>.*?<BALAMT>([^<\r\n]*)", text))
    for line, match in _stmttrn_starts(text):
        check_time()
        end = _STMTTRN_END.search(text, match.end())
        block = text[match.end() : end.start() if end else len(text)]
        fields: dict[str, str] = {}
        for tag, value in _FIELD.findall(block):
            fields.setdefault(tag.upper(), html.unescape(value.strip()))
        result.transactions.append(
            _Transaction(
                line=line,
                fields=fields,
                amount=_decimal(fields.get("TRNAMT", "")),
                fitid=fields.get("FITID", ""),
                name=fields.get("NAME", ""),
                memo=fields.get("MEMO", ""),
                payee="",
                currency=currency,
            )
        )
    return result


def _first_line(exc: Exception) -> str:
    message = str(exc).strip().splitlines()
    return (message[0].rstrip(": ") if message else type(exc).__name__)[:200]


def read_ofx(
    data: bytes, limits: ParseLimits | None = None
) -> tuple[list[ParsedRow], list[SkippedRow], list[str], str | None, str, Decimal | None]:
    """Read an OFX/QFX file; return rows, skipped rows, warnings, masked account, currency, closing balance
    (LimitError beyond LIMITS' rows)."""
    limits = limits or ParseLimits()
    text = _text(data)
    check_rows(len(_STMTTRN.findall(text)), limits)  # before ofxtools builds an object per transaction
    try:
        result = _strict(data, _line_numbers(text))
    except StatementError:
        raise
    except Exception as exc:  # ofxtools raises many types (ParseError, OFXHeaderError, ValueError, …)
        result = _lenient(text)
        if not result.transactions:
            raise StatementError(f"this OFX file cannot be read: {_first_line(exc)}") from None
        result.warnings.append(f"parsed leniently: ofxtools refused the file ({_first_line(exc)})")
    rows: list[ParsedRow] = []
    skipped: list[SkippedRow] = []
    for trn in result.transactions:
        check_time()
        date = _date(trn.fields.get("DTPOSTED", ""))
        if date is None:
            skipped.append(SkippedRow(trn.line, f"unreadable date '{trn.fields.get('DTPOSTED', '')}'", trn.fields))
            continue
        if trn.amount is None:
            skipped.append(SkippedRow(trn.line, f"unreadable amount '{trn.fields.get('TRNAMT', '')}'", trn.fields))
            continue
        description = trn.name
        if trn.memo and trn.memo.casefold() != trn.name.casefold():
            description = f"{trn.name} {trn.memo}".strip()
        rows.append(
            ParsedRow(
                line=trn.line,
                date=date,
                amount=trn.amount,  # OFX is already signed: negative = debit
                description=" ".join(description.split()),
                merchant=" ".join((trn.payee or trn.name).split()),
                external_id=trn.fitid.strip(),
                currency=trn.currency.upper(),
                raw=trn.fields,
            )
        )
    warnings = result.warnings
    accounts = [mask_account(a) for a in result.accounts]
    if len(result.accounts) > 1:
        shown = ", ".join(a or "?" for a in accounts)
        warnings.append(f"the file holds {len(accounts)} statements ({shown}); their transactions are shown together")
    if not rows and not skipped:
        warnings.append("the statement holds no transactions")
    warnings += assign_fingerprints(rows)
    currency = statement_currency(rows, warnings) or next((c for c in result.currencies if c), "")
    return rows, skipped, warnings, accounts[0] if accounts else None, currency, result.closing_balance
