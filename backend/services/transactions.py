"""A workspace's bank transactions: filtered keyset pages, exports, edits (with rules made from an example), manual
entries and transfer pairing by hand. Storing goes through money_ingest, the one place transactions are stored."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from backend.errors import Conflict, Invalid, NotFound
from backend.models import BankAccount, Category, Transaction, TransactionRule
from backend.models.transactions import Amount
from backend.money.rules import RuleError, matches, parse_rule, rule_from_example
from backend.money.txn import Txn
from backend.services import alert_marks, money_ingest

CENT = Decimal("0.01")
SCALE = Decimal("0.0001")  # the amount columns' scale
MAX_ID = 2**63 - 1
MANUAL_PREFIX = "new:"  # money_ingest.unique_fingerprint(): a transaction a person entered
EXPORT_CHUNK = 1000
SIMILAR_CHUNK = 1000
MAX_RULE_NAME = 200


def shown(value: Decimal) -> Decimal:
    """An amount for JSON: at the columns' scale, trailing zeros dropped but never fewer than two decimals."""
    value = value.quantize(SCALE)  # also drops the float noise of SQLite sums
    if not value:
        return Decimal("0.00")  # never "-0.00"
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    return normal.quantize(CENT) if isinstance(exponent, int) and exponent >= -2 else normal


@dataclass(frozen=True)
class Filters:
    """What the list and the export are narrowed to (None: no condition)."""

    bank_account_id: int | None = None
    category_id: int | None = None
    uncategorized: bool | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    q: str | None = None
    pending: bool | None = None
    is_transfer: bool | None = None
    excluded: bool | None = None


def conditions(workspace_id: int, filters: Filters) -> list[ColumnElement[bool]]:
    """The WHERE clauses of FILTERS, always within the workspace."""
    where: list[ColumnElement[bool]] = [Transaction.workspace_id == workspace_id]
    f = filters
    if f.bank_account_id is not None:
        where.append(Transaction.bank_account_id == f.bank_account_id)
    if f.category_id is not None:
        family = select(Category.id).where(
            Category.workspace_id == workspace_id,
            or_(Category.id == f.category_id, Category.parent_id == f.category_id),
        )
        where.append(Transaction.category_id.in_(family))
    if f.uncategorized is not None:
        where.append(Transaction.category_id.is_(None) if f.uncategorized else Transaction.category_id.is_not(None))
    if f.start is not None:
        where.append(Transaction.posted_on >= f.start)
    if f.end is not None:
        where.append(Transaction.posted_on <= f.end)
    if f.min_amount is not None:
        where.append(Transaction.amount >= f.min_amount)
    if f.max_amount is not None:
        where.append(Transaction.amount <= f.max_amount)
    if f.q:
        # icontains: ILIKE on PostgreSQL, lower() LIKE lower() on SQLite; autoescape makes % and _ literal.
        where.append(
            or_(
                Transaction.description.icontains(f.q, autoescape=True),
                Transaction.merchant.icontains(f.q, autoescape=True),
                Transaction.notes.icontains(f.q, autoescape=True),
            )
        )
    for name in ("pending", "is_transfer", "excluded"):
        value = getattr(f, name)
        if value is not None:
            where.append(getattr(Transaction, name).is_(value))
    return where


# --- keyset pages --------------------------------------------------------------------------------------------------


def _sort_column(sort: str) -> tuple[InstrumentedAttribute[Any], bool]:
    """The column SORT orders by and whether it is descending ("-date" is newest first)."""
    column: InstrumentedAttribute[Any] = Transaction.amount if sort.lstrip("-") == "amount" else Transaction.posted_on
    return column, sort.startswith("-")


def _ordered(stmt: Select[Any], sort: str) -> Select[Any]:
    column, descending = _sort_column(sort)
    if descending:
        return stmt.order_by(column.desc(), Transaction.id.desc())
    return stmt.order_by(column.asc(), Transaction.id.asc())


def _bad_cursor(message: str = "The cursor is not valid; use next_cursor from the previous page.") -> Invalid:
    return Invalid(message, code="bad_cursor", details=[{"loc": ["cursor"], "msg": message, "type": "bad_cursor"}])


def encode_cursor(row: Transaction, sort: str) -> str:
    """An opaque cursor: the sort, the last row's sort value and its id."""
    value = row.posted_on.isoformat() if sort.lstrip("-") == "date" else str(row.amount)
    raw = json.dumps([sort, value, row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[dt.date | Decimal, int]:
    """The (sort value, id) a cursor points after; a 422 for anything we did not issue for this sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, row_id = json.loads(raw)
        if not isinstance(value, str) or not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError("wrong types")
        if not 1 <= row_id <= MAX_ID:
            raise ValueError("id out of range")
        # An amount key is compared with the column in SQL: one it can hold, or AmountOutOfRange (a ValueError).
        key: dt.date | Decimal = (
            dt.date.fromisoformat(value) if sort.lstrip("-") == "date" else Amount.exact(Decimal(value))
        )
    except (ValueError, TypeError, binascii.Error, InvalidOperation, UnicodeDecodeError):
        raise _bad_cursor() from None
    if cursor_sort != sort:
        raise _bad_cursor("The cursor belongs to another sort order; start again without it.")
    return key, row_id


def _after(sort: str, key: dt.date | Decimal, row_id: int) -> ColumnElement[bool]:
    """Rows after (KEY, ROW_ID) in SORT order: an expanded row comparison, typed by the column on every backend."""
    column, descending = _sort_column(sort)
    if descending:
        return or_(column < key, and_(column == key, Transaction.id < row_id))
    return or_(column > key, and_(column == key, Transaction.id > row_id))


def page(
    *, session: Session, workspace_id: int, filters: Filters, sort: str, limit: int, cursor: str | None
) -> tuple[list[Transaction], str | None]:
    """One page of matching transactions in SORT order (id breaks ties), continuing after CURSOR."""
    stmt = select(Transaction).where(*conditions(workspace_id, filters))
    if cursor:
        key, row_id = decode_cursor(cursor, sort)
        stmt = stmt.where(_after(sort, key, row_id))
    rows = list(session.scalars(_ordered(stmt, sort).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1], sort) if len(rows) > limit else None
    return rows[:limit], next_cursor


EXPORT_COLUMNS = (
    "date",
    "amount",
    "currency",
    "description",
    "merchant",
    "category",
    "notes",
    "account",
    "pending",
    "transfer",
)


def export_rows(*, session: Session, workspace_id: int, filters: Filters, sort: str) -> Iterator[dict[str, Any]]:
    """Every matching transaction in SORT order as export rows, read in keyset chunks (never all in memory)."""
    # Names by id (a workspace has few categories and accounts); rows are unpacked: a Result is not a mapping.
    names = select(Category.id, Category.name).where(Category.workspace_id == workspace_id)
    categories = {cid: name for cid, name in session.execute(names)}
    banks = select(BankAccount.id, BankAccount.name).where(BankAccount.workspace_id == workspace_id)
    accounts = {bid: name for bid, name in session.execute(banks)}
    base = _ordered(select(Transaction).where(*conditions(workspace_id, filters)), sort)
    after: tuple[dt.date | Decimal, int] | None = None
    column, _ = _sort_column(sort)
    while True:
        stmt = base if after is None else base.where(_after(sort, *after))
        chunk = list(session.scalars(stmt.limit(EXPORT_CHUNK)))
        for row in chunk:
            yield {
                "date": row.posted_on.isoformat(),
                "amount": shown(row.amount),
                "currency": row.currency,
                "description": row.description,
                "merchant": row.merchant,
                "category": categories.get(row.category_id, "") if row.category_id is not None else "",
                "notes": row.notes,
                "account": accounts.get(row.bank_account_id, ""),
                "pending": "true" if row.pending else "false",
                "transfer": "true" if row.is_transfer else "false",
            }
        if len(chunk) < EXPORT_CHUNK:
            return
        last = chunk[-1]
        after = (getattr(last, column.key), last.id)
        session.expunge_all()  # keep the identity map from growing with the export


# --- one transaction -----------------------------------------------------------------------------------------------


def get_transaction(*, session: Session, workspace_id: int, transaction_id: int) -> Transaction:
    """One transaction of the workspace, or 404."""
    row = session.scalar(
        select(Transaction).where(Transaction.id == transaction_id, Transaction.workspace_id == workspace_id)
    )
    if row is None:
        raise NotFound("No such transaction in this workspace.")
    return row


def check_category(session: Session, workspace_id: int, category_id: int | None) -> Category | None:
    """The workspace's category CATEGORY_ID (None for None), else a 422 on category_id."""
    if category_id is None:
        return None
    category = session.scalar(select(Category).where(Category.id == category_id, Category.workspace_id == workspace_id))
    if category is None:
        raise Invalid(
            "No such category in this workspace.",
            code="unknown_category",
            details=[{"loc": ["category_id"], "msg": "unknown category", "type": "unknown_category"}],
        )
    return category


def _set_manual_category(row: Transaction, category_id: int | None) -> None:
    row.category_id, row.category_source, row.category_confidence, row.category_rule_id = (
        category_id,
        "manual",
        money_ingest.ONE,
        None,
    )


def _txn(row: Transaction) -> Txn:
    # As money_ingest builds it: the rules see what categorize would show them.
    return Txn(
        id=row.id,
        account_id=row.bank_account_id,
        posted_on=row.posted_on,
        amount=row.amount,
        description=row.description,
        merchant=row.merchant,
        category_id=row.category_id,
        is_transfer=row.is_transfer,
        pending=row.pending,
    )


@dataclass
class PatchOutcome:
    """What a PATCH did beyond the row itself."""

    created_rule_id: int | None = None
    applied_to: int | None = None


def create_rule_from(session: Session, row: Transaction, category: Category) -> TransactionRule:
    """A rule putting transactions like ROW into CATEGORY, after the workspace's other rules."""
    try:
        definition = rule_from_example(_txn(row), category.id)
    except RuleError as exc:
        raise Invalid(
            exc.message, code="no_rule", details=[{"loc": ["create_rule"], "msg": exc.message, "type": "rule"}]
        ) from None
    last = session.scalar(
        select(func.max(TransactionRule.position)).where(TransactionRule.workspace_id == row.workspace_id)
    )
    label = row.merchant or row.description
    suffix = f" \u2192 {category.name}"
    label = label[: MAX_RULE_NAME - len(suffix)].rstrip() if len(label) + len(suffix) > MAX_RULE_NAME else label
    rule = TransactionRule(
        workspace_id=row.workspace_id,
        name=(label + suffix)[:MAX_RULE_NAME],
        position=0 if last is None else int(last) + 1,
        enabled=True,
        definition=definition,
    )
    session.add(rule)
    session.flush()
    return rule


def apply_to_similar(session: Session, rule: TransactionRule, example: Transaction) -> int:
    """Re-run the categorization cascade on the workspace's other transactions the new RULE matches (not the ones a
    person categorized); returns how many the rule now categorizes."""
    parsed = parse_rule({**rule.definition, "id": rule.id, "position": rule.position})
    base = (
        select(Transaction)
        .where(
            Transaction.workspace_id == rule.workspace_id,
            Transaction.id != example.id,
            or_(Transaction.category_source.is_(None), Transaction.category_source != "manual"),
        )
        .order_by(Transaction.id)
    )
    similar: list[Transaction] = []
    last_id = 0
    while True:
        # Merchant keys are normalized in Python (no SQL equivalent): scan in id chunks, keep the matching ones.
        chunk = list(session.scalars(base.where(Transaction.id > last_id).limit(SIMILAR_CHUNK)))
        similar.extend(row for row in chunk if matches(parsed, _txn(row)))
        if len(chunk) < SIMILAR_CHUNK:
            break
        last_id = chunk[-1].id
    if not similar:
        return 0
    money_ingest.categorize(session, rule.workspace_id, similar)
    session.flush()
    return sum(1 for row in similar if row.category_rule_id == rule.id)


def update_transaction(*, session: Session, row: Transaction, changes: dict[str, Any]) -> PatchOutcome:
    """Apply a PATCH: category (a person's choice), notes, merchant, excluded; optionally a rule made from it."""
    outcome = PatchOutcome()
    category = check_category(session, row.workspace_id, changes.get("category_id"))  # before anything changes
    for name in ("notes", "merchant", "excluded"):
        if name in changes:
            setattr(row, name, changes[name])
    if "category_id" in changes:
        _set_manual_category(row, changes["category_id"])
    if changes.get("create_rule") and category is not None:
        rule = create_rule_from(session, row, category)
        outcome.created_rule_id = rule.id
        if changes.get("apply_to_similar"):
            outcome.applied_to = apply_to_similar(session, rule, row)
    session.flush()
    alert_marks.mark(session, [row.workspace_id])
    return outcome


def create_transaction(*, session: Session, workspace_id: int, data: dict[str, Any]) -> Transaction:
    """A transaction a person entered, stored (categorized, paired with a transfer) through money_ingest.store."""
    account = session.scalar(
        select(BankAccount).where(BankAccount.id == data["bank_account_id"], BankAccount.workspace_id == workspace_id)
    )
    if account is None:
        raise Invalid(
            "No such bank account in this workspace.",
            code="unknown_bank_account",
            details=[{"loc": ["bank_account_id"], "msg": "unknown bank account", "type": "unknown_bank_account"}],
        )
    check_category(session, workspace_id, data.get("category_id"))  # nothing is stored for a bad one
    item = money_ingest.NewTransaction(
        fingerprint=money_ingest.unique_fingerprint(),
        posted_on=data["posted_on"],
        amount=data["amount"],
        currency=data.get("currency") or account.currency,
        description=data["description"],
        merchant=data.get("merchant") or "",
        raw={"source": "manual"},
    )
    stored = money_ingest.store(session, bank_account=account, items=[item], update_existing=False)
    row = session.get(Transaction, stored.added[0])
    if row is None:  # pragma: no cover - store() just inserted it in this transaction
        raise NotFound("The new transaction vanished.")
    if data.get("notes"):
        # The person's notes first, then any a rule added while storing.
        row.notes = "\n".join(n for n in (data["notes"], row.notes) if n)
    if data.get("category_id") is not None:
        _set_manual_category(row, data["category_id"])
    session.flush()
    return row


def delete_transaction(*, session: Session, row: Transaction) -> None:
    """Delete a transaction a person entered (409 for a bank's or a statement's); its transfer peer is released."""
    if not row.fingerprint.startswith(MANUAL_PREFIX):
        raise Conflict("Only transactions entered by hand can be deleted; exclude this one instead.", code="not_manual")
    _release(session, [row], lock=False)
    session.delete(row)
    session.flush()
    alert_marks.mark(session, [row.workspace_id])


# --- transfers -----------------------------------------------------------------------------------------------------


def _release(session: Session, rows: Sequence[Transaction], *, lock: bool) -> None:
    """ROWS' transfer peers (outside ROWS) stop being transfers; with LOCK, never paired again automatically."""
    ids = {r.id for r in rows}
    peers = [r.transfer_peer_id for r in rows if r.transfer_peer_id is not None and r.transfer_peer_id not in ids]
    if not peers:
        return
    values: dict[str, Any] = {"is_transfer": False, "transfer_peer_id": None}
    if lock:
        values["transfer_locked"] = True
    session.execute(
        update(Transaction)
        .where(Transaction.workspace_id == rows[0].workspace_id, Transaction.id.in_(peers))
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )


def unpair(*, session: Session, row: Transaction) -> None:
    """Not a transfer after all: ROW and its peer are cleared and locked (automatic pairing leaves them alone)."""
    _release(session, [row], lock=True)
    row.is_transfer, row.transfer_peer_id, row.transfer_locked = False, None, True
    session.flush()
    alert_marks.mark(session, [row.workspace_id])


def pair(*, session: Session, row: Transaction, peer_id: int) -> None:
    """Pair ROW with PEER_ID by hand: opposite amounts on two different accounts of the workspace; both locked."""

    def invalid(message: str) -> Invalid:
        return Invalid(message, code="not_a_pair", details=[{"loc": ["peer_id"], "msg": message, "type": "pair"}])

    peer = session.scalar(
        select(Transaction).where(Transaction.id == peer_id, Transaction.workspace_id == row.workspace_id)
    )
    if peer is None:
        raise invalid("No such transaction in this workspace.")
    if peer.id == row.id:
        raise invalid("A transaction cannot be paired with itself.")
    if peer.bank_account_id == row.bank_account_id:
        raise invalid("A transfer is between two different accounts.")
    if not row.amount or peer.amount != -row.amount:
        raise invalid("A transfer pairs opposite amounts (one out, the same amount in).")
    if row.transfer_peer_id == peer.id and peer.transfer_peer_id == row.id:
        row.transfer_locked = peer.transfer_locked = True  # already a pair: now one a person confirmed
    else:
        _release(session, [row, peer], lock=False)  # their previous partners (if any) are free again
        row.is_transfer = peer.is_transfer = True
        row.transfer_peer_id, peer.transfer_peer_id = peer.id, row.id
        row.transfer_locked = peer.transfer_locked = True
    session.flush()
    alert_marks.mark(session, [row.workspace_id])
