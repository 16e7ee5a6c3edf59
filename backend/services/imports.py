"""Statement imports: a file parsed into a preview (kept with its bytes), corrected, committed as transactions in one
transaction, undone; and the CSV layouts people save as import formats. Every query is scoped by workspace."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PureWindowsPath
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.db import AmountOutOfRange, utcnow
from backend.errors import ApiError, Conflict, Invalid, NotFound
from backend.models import BankAccount, ImportBatch, ImportFormat, Transaction
from backend.models.transactions import Amount
from backend.services import money_ingest
from backend.services.statement_parser import StatementParser, parse_inline
from integrations.statements import (
    CsvMapping,
    LayoutError,
    LimitError,
    MappingError,
    ParsedRow,
    ParsedStatement,
    SkippedRow,
    StatementError,
)

T = TypeVar("T")

MAX_FILE_BYTES = 5 * 1024 * 1024  # one statement file; monthly or yearly statements are far smaller
MAX_FILE_LABEL = "5 MB"
MAX_FINGERPRINT = 120  # Transaction.fingerprint
MAX_TEXT = 200  # Transaction.merchant and external_id
MAX_FILENAME = 255  # ImportBatch.filename
CHUNK = 500
_CURRENCY = re.compile(r"[A-Z]{3}")


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _clean(text: str, limit: int | None = None) -> str:
    """Text PostgreSQL can store (no NUL), cut to LIMIT characters."""
    text = text.replace("\x00", "")
    return text[:limit] if limit is not None else text


# --- looking things up --------------------------------------------------------------------------------------------


def get_bank_account(*, session: Session, workspace_id: int, bank_account_id: int) -> BankAccount:
    """The workspace's bank account, or 422 (an id in the request's input, like other routes' references)."""
    account = session.scalars(
        select(BankAccount).where(BankAccount.id == bank_account_id, BankAccount.workspace_id == workspace_id)
    ).first()
    if account is None:
        # The same answer for another workspace's account as for one that never existed.
        raise Invalid(
            "bank_account_id is not a bank account of this workspace.",
            code="unknown_bank_account",
            details=[{"loc": ["bank_account_id"], "msg": "unknown bank account", "type": "unknown_bank_account"}],
        )
    return account


def get_import(*, session: Session, workspace_id: int, import_id: int) -> ImportBatch:
    """The import batch, or 404 when it does not exist in this workspace."""
    batch = session.scalars(
        select(ImportBatch).where(ImportBatch.id == import_id, ImportBatch.workspace_id == workspace_id)
    ).first()
    if batch is None:
        raise NotFound("No such import in this workspace.")
    return batch


def list_imports(
    *, session: Session, workspace_id: int, bank_account_id: int | None, limit: int, before: int | None
) -> list[ImportBatch]:
    """The workspace's imports, newest first (by id), optionally of one bank account and before an id."""
    query = select(ImportBatch).where(ImportBatch.workspace_id == workspace_id)
    if bank_account_id is not None:
        query = query.where(ImportBatch.bank_account_id == bank_account_id)
    if before is not None:
        query = query.where(ImportBatch.id < before)
    return list(session.scalars(query.order_by(ImportBatch.id.desc()).limit(limit)))


def get_format(*, session: Session, workspace_id: int, format_id: int) -> ImportFormat:
    """The saved import format, or 404 when it does not exist in this workspace."""
    found = session.scalars(
        select(ImportFormat).where(ImportFormat.id == format_id, ImportFormat.workspace_id == workspace_id)
    ).first()
    if found is None:
        raise NotFound("No such import format in this workspace.")
    return found


def list_formats(*, session: Session, workspace_id: int) -> list[ImportFormat]:
    """The workspace's saved import formats by name."""
    return list(
        session.scalars(
            select(ImportFormat)
            .where(ImportFormat.workspace_id == workspace_id)
            .order_by(ImportFormat.name, ImportFormat.id)
        )
    )


# --- mappings and parsing -------------------------------------------------------------------------------------------


def mapping_error(exc: MappingError, loc: Sequence[str] = ("mapping",)) -> Invalid:
    """A MappingError as the 422 the API answers, its loc naming the mapping field at fault."""
    where = [*loc] if exc.field == "mapping" else [*loc, exc.field]
    return Invalid(
        f"The column mapping is not valid: {exc.field}: {exc.message}.",
        code="invalid_mapping",
        details=[{"loc": where, "msg": exc.message, "type": "invalid_mapping"}],
    )


def check_mapping(data: dict[str, Any], loc: Sequence[str] = ("mapping",)) -> CsvMapping:
    """A user's mapping dict as a CsvMapping, or 422 naming the bad field."""
    try:
        return CsvMapping.from_dict(data)
    except MappingError as exc:
        raise mapping_error(exc, loc) from None


def resolve_mapping(
    *, session: Session, workspace_id: int, mapping: dict[str, Any] | None, format_id: int | None
) -> CsvMapping | None:
    """The mapping a request asks for: given inline, or a saved format's (422 for both, or an unknown format)."""
    if mapping is not None and format_id is not None:
        raise Invalid(
            "Give either a mapping or a format_id, not both.",
            details=[{"loc": ["format_id"], "msg": "either mapping or format_id", "type": "exclusive"}],
        )
    if mapping is not None:
        return check_mapping(mapping)
    if format_id is None:
        return None
    saved = session.scalars(
        select(ImportFormat).where(ImportFormat.id == format_id, ImportFormat.workspace_id == workspace_id)
    ).first()
    if saved is None:
        raise Invalid(
            "format_id is not an import format of this workspace.",
            code="unknown_format",
            details=[{"loc": ["format_id"], "msg": "unknown import format", "type": "unknown_format"}],
        )
    return check_mapping(saved.mapping, ("format_id",))


def parse(
    data: bytes, *, filename: str, mapping: CsvMapping | None, parser: StatementParser | None = None
) -> ParsedStatement:
    """Parse statement bytes with PARSER's limits (the API's bounded pool; None: on this thread, no time limit),
    turning the parser's errors into 422s meant for the user."""
    try:
        if parser is None:
            return parse_inline(data, filename=filename, mapping=mapping)
        return parser.parse(data, filename=filename, mapping=mapping)
    except LimitError as exc:
        raise Invalid(
            f"This statement is too large to read: {exc.message}.", code=exc.code, details=exc.details
        ) from None
    except MappingError as exc:
        raise mapping_error(exc) from None
    except LayoutError as exc:
        raise Invalid(
            f"The columns of this CSV file were not recognized: {exc.message}. Upload it again with a mapping "
            "that names the date and amount columns.",
            code="layout_not_detected",
        ) from None
    except StatementError as exc:
        raise Invalid(f"This statement cannot be read: {exc.message}.", code="unreadable_statement") from None


def check_size(data: bytes) -> None:
    """413 for a file over MAX_FILE_BYTES."""
    if len(data) > MAX_FILE_BYTES:
        raise ApiError(
            f"The statement file is larger than {MAX_FILE_LABEL}; export a shorter period and import it in parts.",
            code="payload_too_large",
            status=413,
        )


def stored_fingerprint(fingerprint: str) -> str:
    """The fingerprint as stored: a bank id too long for the column is replaced by its hash (stable across files)."""
    if len(fingerprint) <= MAX_FINGERPRINT:
        return fingerprint
    kind = fingerprint.split(":", 1)[0][:8]
    return f"{kind}~sha256:{hashlib.sha256(fingerprint.encode()).hexdigest()}"


# --- the preview ----------------------------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    """A parsed row, its fingerprint as stored, and why it is a duplicate (None: it is new)."""

    row: ParsedRow
    fingerprint: str
    duplicate: str | None = None


@dataclass
class Preview:
    """What committing the batch's file would do: new and duplicate rows, skipped rows, totals."""

    batch: ImportBatch
    statement: ParsedStatement
    rows: list[PreviewRow]
    skipped: list[SkippedRow]
    warnings: list[str] = field(default_factory=list)

    @property
    def new_rows(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.duplicate is None]

    def total(self, *, new_only: bool) -> Decimal:
        rows = self.new_rows if new_only else self.rows
        return sum((r.row.amount for r in rows), Decimal(0))

    def by_month(self, *, new_only: bool) -> dict[str, Decimal]:
        months: dict[str, Decimal] = {}
        for r in self.new_rows if new_only else self.rows:
            key = f"{r.row.date.year:04d}-{r.row.date.month:02d}"
            months[key] = months.get(key, Decimal(0)) + r.row.amount
        return dict(sorted(months.items()))


def _storable(statement: ParsedStatement) -> tuple[list[ParsedRow], list[SkippedRow]]:
    """Rows that fit the transaction columns; an amount too large to store is skipped with its reason."""
    rows: list[ParsedRow] = []
    skipped = list(statement.skipped)
    for row in statement.rows:
        try:
            Amount.exact(row.amount)  # as the column will round it: 99999999999999.99995 rounds past the limit
        except AmountOutOfRange:
            skipped.append(SkippedRow(line=row.line, reason="amount too large to store", raw=dict(row.raw)))
        else:
            rows.append(row)
    skipped.sort(key=lambda s: s.line)
    return rows, skipped


def _duplicate_reasons(session: Session, bank_account: BankAccount, fingerprints: Sequence[str]) -> dict[str, str]:
    """Why each fingerprint already stored in the bank account is a duplicate."""
    found: dict[str, int | None] = {}
    postgres = session.get_bind().dialect.name == "postgresql"
    for chunk in _chunks(list(dict.fromkeys(fingerprints))):
        # By (bank account, fingerprint) alone, as store() looks them up: the bank account was read within the
        # workspace, and a workspace_id term here made SQLite pick the workspace's date index and scan every
        # transaction of the workspace per chunk (18 s to preview a re-uploaded 100,000-row statement).
        for fingerprint, import_id in session.execute(
            select(Transaction.fingerprint, Transaction.import_id).where(
                Transaction.bank_account_id == bank_account.id,
                money_ingest.fingerprint_among(chunk, postgres),
            )
        ):
            found[fingerprint] = import_id
    batch_ids = sorted({i for i in found.values() if i is not None})
    committed: dict[int, dt.datetime | None] = {}
    for ids in _chunks(batch_ids):
        for batch_id, committed_at in session.execute(
            select(ImportBatch.id, ImportBatch.committed_at).where(
                ImportBatch.workspace_id == bank_account.workspace_id, ImportBatch.id.in_(ids)
            )
        ):
            committed[batch_id] = committed_at
    reasons: dict[str, str] = {}
    for fingerprint, import_id in found.items():
        when = committed.get(import_id) if import_id is not None else None
        if import_id is not None and when is not None:
            reasons[fingerprint] = f"already imported on {when.date().isoformat()} (import #{import_id})"
        elif fingerprint.startswith("id"):
            reasons[fingerprint] = "same bank id as a stored transaction"
        else:
            reasons[fingerprint] = "same date, amount and description as a stored transaction"
    return reasons


def _previous_imports(session: Session, batch: ImportBatch) -> list[str]:
    """A warning for each committed import of the very same file into the same bank account."""
    rows = session.scalars(
        select(ImportBatch)
        .where(
            ImportBatch.workspace_id == batch.workspace_id,
            ImportBatch.bank_account_id == batch.bank_account_id,
            ImportBatch.statement_fingerprint == batch.statement_fingerprint,
            ImportBatch.status == "committed",
            ImportBatch.id != batch.id,
        )
        .order_by(ImportBatch.id)
    ).all()
    return [
        f"this file was already imported on {b.committed_at.date().isoformat()} (import #{b.id})"
        for b in rows
        if b.committed_at is not None
    ]


def _currency_warning(statement: ParsedStatement, bank_account: BankAccount) -> list[str]:
    """A warning when the rows' currency is not the bank account's."""
    found = sorted({r.currency for r in statement.rows if r.currency and r.currency != bank_account.currency})
    if not found:
        return []
    return [
        f"the statement is in {', '.join(found)} but the bank account '{bank_account.name}' is in "
        f"{bank_account.currency}; amounts are stored as they are, without conversion"
    ]


def _preview_rows(statement: ParsedStatement) -> tuple[list[PreviewRow], list[SkippedRow]]:
    """STATEMENT's storable rows with their stored fingerprints (no duplicate reasons yet), and its skipped rows."""
    rows, skipped = _storable(statement)
    return [PreviewRow(row=row, fingerprint=stored_fingerprint(row.fingerprint)) for row in rows], skipped


def build_preview(
    *, session: Session, batch: ImportBatch, bank_account: BankAccount, statement: ParsedStatement
) -> Preview:
    """The preview of STATEMENT for BATCH: each row's stored fingerprint and duplicate reason, warnings."""
    items, skipped = _preview_rows(statement)
    reasons = _duplicate_reasons(session, bank_account, [i.fingerprint for i in items])
    for item in items:
        item.duplicate = reasons.get(item.fingerprint)
    warnings = [*statement.warnings, *_previous_imports(session, batch), *_currency_warning(statement, bank_account)]
    return Preview(batch=batch, statement=statement, rows=items, skipped=skipped, warnings=warnings)


def _statement_mapping(statement: ParsedStatement) -> dict[str, Any] | None:
    """The statement's CSV mapping as stored on the batch (None for OFX)."""
    return None if statement.mapping is None else statement.mapping.to_dict()


def _batch_mapping(batch: ImportBatch) -> CsvMapping | None:
    """The mapping stored on a CSV batch (None for OFX)."""
    if batch.format != "csv" or batch.mapping is None:
        return None
    return check_mapping(batch.mapping)


def _filename(name: str | None) -> str:
    """The upload's file name without any directory, as stored."""
    base = PureWindowsPath(_clean(name or "")).name  # splits on both / and \
    return base.strip()[:MAX_FILENAME]


def create_import(
    *,
    session: Session,
    workspace_id: int,
    bank_account_id: int,
    filename: str | None,
    data: bytes,
    mapping: dict[str, Any] | None,
    format_id: int | None,
    parser: StatementParser | None = None,
) -> Preview:
    """Parse an uploaded statement and store it as a batch in status "preview" (with the file); nothing on error."""
    check_size(data)
    bank_account = get_bank_account(session=session, workspace_id=workspace_id, bank_account_id=bank_account_id)
    chosen = resolve_mapping(session=session, workspace_id=workspace_id, mapping=mapping, format_id=format_id)
    name = _filename(filename)
    statement = parse(data, filename=name, mapping=chosen, parser=parser)
    batch = ImportBatch(
        workspace_id=workspace_id,
        bank_account_id=bank_account.id,
        filename=name,
        format=statement.format,
        statement_fingerprint=statement.statement_fingerprint,
        mapping=_statement_mapping(statement),
        status="preview",
        content=data,
        rows_added=0,
        rows_duplicate=0,
        rows_skipped=0,
        created_at=utcnow(),
    )
    # The preview's lookups first, the batch's INSERT last: on SQLite the write lock is taken at the first write
    # and held to the commit, so it covers one INSERT, not a 100,000-row duplicate lookup.
    preview = build_preview(session=session, batch=batch, bank_account=bank_account, statement=statement)
    session.add(batch)
    session.flush()
    return preview


def _bank_account_of(session: Session, batch: ImportBatch) -> BankAccount:
    """The batch's bank account."""
    account = session.scalars(
        select(BankAccount).where(
            BankAccount.id == batch.bank_account_id, BankAccount.workspace_id == batch.workspace_id
        )
    ).first()
    if account is None:  # pragma: no cover - deleting a bank account deletes its imports (CASCADE)
        raise NotFound("The bank account of this import no longer exists.")
    return account


def _require_preview(batch: ImportBatch, action: str) -> bytes:
    """The batch's file, or 409 when the batch is no longer in preview."""
    if batch.status != "preview" or batch.content is None:
        raise Conflict(
            f"Import #{batch.id} is {batch.status}; only an import in preview can be {action}.",
            code=f"import_{batch.status}",
        )
    return batch.content


def repreview(
    *,
    session: Session,
    batch: ImportBatch,
    mapping: dict[str, Any] | None,
    format_id: int | None,
    parser: StatementParser | None = None,
) -> Preview:
    """Parse the batch's file again, with a corrected mapping (kept on the batch) or the one it has."""
    content = _require_preview(batch, "previewed again")
    chosen = resolve_mapping(session=session, workspace_id=batch.workspace_id, mapping=mapping, format_id=format_id)
    if chosen is None:
        chosen = _batch_mapping(batch)
    statement = parse(content, filename=batch.filename, mapping=chosen, parser=parser)
    preview = build_preview(
        session=session, batch=batch, bank_account=_bank_account_of(session, batch), statement=statement
    )
    batch.mapping = _statement_mapping(statement)  # after the lookups: the UPDATE takes SQLite's write lock
    batch.format = statement.format
    session.flush()
    return preview


def _new_transaction(item: PreviewRow, bank_account: BankAccount) -> money_ingest.NewTransaction:
    """A preview row as the transaction to store (text cut to the columns, currency else the account's)."""
    row = item.row
    currency = row.currency if _CURRENCY.fullmatch(row.currency or "") else bank_account.currency
    return money_ingest.NewTransaction(
        fingerprint=item.fingerprint,
        posted_on=row.date,
        amount=row.amount,
        currency=currency,
        description=_clean(row.description),
        merchant=_clean(row.merchant, MAX_TEXT),
        external_id=_clean(row.external_id, MAX_TEXT),
        pending=row.pending,
        raw={_clean(str(k)): _clean(str(v)) for k, v in row.raw.items()},
    )


def commit(
    *,
    session: Session,
    batch: ImportBatch,
    mapping: dict[str, Any] | None,
    format_id: int | None,
    parser: StatementParser | None = None,
) -> money_ingest.StoreResult:
    """Store the batch's new rows and drop its file, all or nothing; 409 unless preview.

    Two transactions: the first only reads (parse, duplicate lookup, categorizing: seconds for a big file) and ends
    here, committing nothing but the workspace's default categories if categorizing had to create them; the second
    (the caller's) claims the batch and inserts the rows in bulk, so the write lock (SQLite's is database-wide) is
    held for the INSERT only. A failure in the second leaves no row and the batch in preview."""
    content = _require_preview(batch, "committed")
    chosen = resolve_mapping(session=session, workspace_id=batch.workspace_id, mapping=mapping, format_id=format_id)
    if chosen is None:
        chosen = _batch_mapping(batch)
    statement = parse(content, filename=batch.filename, mapping=chosen, parser=parser)
    bank_account = _bank_account_of(session, batch)
    # Not build_preview(): prepare() finds the duplicates itself; the preview's reasons and warnings would be wasted.
    rows, skipped = _preview_rows(statement)
    items = [_new_transaction(item, bank_account) for item in rows]
    prepared = money_ingest.prepare(
        session, bank_account=bank_account, items=items, update_existing=False, import_id=batch.id
    )
    session.commit()
    # The status is claimed with a conditional UPDATE: a concurrent commit of the same batch waits on it, then 409s.
    now = utcnow()
    claimed = session.execute(
        update(ImportBatch)
        .where(
            ImportBatch.id == batch.id,
            ImportBatch.workspace_id == batch.workspace_id,
            ImportBatch.status == "preview",
        )
        .values(status="committed", committed_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Import #{batch.id} was committed meanwhile.", code="import_committed")
    try:
        result = money_ingest.write(session, prepared)
    except IntegrityError:  # another import into this account stored some of these rows meanwhile
        session.rollback()
        raise Conflict(
            "Another import into this bank account was committed at the same time; nothing was added. "
            "Commit again: rows stored meanwhile will count as duplicates.",
            code="concurrent_import",
        ) from None
    batch.status, batch.committed_at = "committed", now
    batch.mapping = _statement_mapping(statement)
    batch.format = statement.format
    batch.rows_added = len(result.added)
    batch.rows_duplicate = len(result.duplicates)
    batch.rows_skipped = len(skipped)
    batch.content = None
    session.flush()
    return result


def undo(*, session: Session, batch: ImportBatch) -> int:
    """Delete every transaction the batch added and mark it undone; 409 unless committed. Returns how many."""
    claimed = session.execute(
        update(ImportBatch)
        .where(
            ImportBatch.id == batch.id,
            ImportBatch.workspace_id == batch.workspace_id,
            ImportBatch.status == "committed",
        )
        .values(status="undone", undone_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(batch)
        raise Conflict(
            f"Import #{batch.id} is {batch.status}; only a committed import can be undone.",
            code=f"import_{batch.status}",
        )
    removed = money_ingest.delete_import(session, batch.id)
    session.refresh(batch)
    return removed


def discard(*, session: Session, batch: ImportBatch) -> None:
    """Delete a batch still in preview (its file with it); 409 for a committed or undone one."""
    _require_preview(batch, "discarded")
    gone = session.execute(
        delete(ImportBatch)
        .where(
            ImportBatch.id == batch.id,
            ImportBatch.workspace_id == batch.workspace_id,
            ImportBatch.status == "preview",
        )
        .execution_options(synchronize_session=False)
    )
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Import #{batch.id} was committed meanwhile.", code="import_committed")
    session.expunge(batch)


# --- saved formats --------------------------------------------------------------------------------------------------


def _name_taken(session: Session, workspace_id: int, name: str, exclude: int | None = None) -> None:
    """409 when another format of the workspace has NAME."""
    query = select(ImportFormat.id).where(ImportFormat.workspace_id == workspace_id, ImportFormat.name == name)
    if exclude is not None:
        query = query.where(ImportFormat.id != exclude)
    if session.scalar(query) is not None:
        raise Conflict(f"An import format named '{name}' exists already.", code="name_taken")


def _flush_format(session: Session, name: str) -> None:
    """Flush, turning a concurrent insert of the same name into the 409 the pre-check gives."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"An import format named '{name}' exists already.", code="name_taken") from None


def save_format(*, session: Session, batch: ImportBatch, name: str) -> ImportFormat:
    """Save the batch's CSV mapping under NAME (unique in the workspace: 409)."""
    if batch.mapping is None:
        raise Conflict(
            "This import has no column mapping to save: OFX files carry their own structure.", code="no_mapping"
        )
    mapping = check_mapping(batch.mapping)
    _name_taken(session, batch.workspace_id, name)
    saved = ImportFormat(workspace_id=batch.workspace_id, name=name, mapping=mapping.to_dict())
    session.add(saved)
    _flush_format(session, name)
    return saved


def update_format(*, session: Session, saved: ImportFormat, changes: dict[str, Any]) -> ImportFormat:
    """Rename a format and/or replace its mapping (checked like a mapping sent with an import)."""
    if changes.get("mapping") is not None:
        saved.mapping = check_mapping(changes["mapping"]).to_dict()
    if changes.get("name") is not None and changes["name"] != saved.name:
        _name_taken(session, saved.workspace_id, changes["name"], exclude=saved.id)
        saved.name = changes["name"]
    _flush_format(session, saved.name)
    return saved


def delete_format(*, session: Session, saved: ImportFormat) -> None:
    """Delete a saved format (imports made with it keep their own copy of the mapping)."""
    session.delete(saved)
    session.flush()
