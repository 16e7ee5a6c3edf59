"""Storing bank transactions, from a sync, a statement import or a person: deduplicated by fingerprint, categorized
(rules, then the workspace's own history, then the bank's label, then the keyword map), transfers paired, the
workspace's budgets marked for the next alert tick. Everything in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    String,
    Table,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.models import BankAccount, ProviderAccount, Transaction, TransactionRule
from backend.money.categories import keyword_category
from backend.money.learned import LearnedIndex
from backend.money.rules import Outcome, Rule, RuleError, RuleSet, parse_rule
from backend.money.transfers import find_transfers
from backend.money.txn import Txn
from backend.services import alert_marks
from backend.services.categories import ensure_defaults, provider_category_key
from integrations.records import BankAccountRecord, SyncWindow, TransactionRecord, TransactionSync

T = TypeVar("T")
CHUNK = 500
# Fingerprints looked up per query when storing: far under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
LOOKUP_CHUNK = 5000
TRANSFER_WINDOW_DAYS = 5
# How much categorized history the learned suggestions read (newest first): enough to know the regular merchants.
LEARNED_HISTORY = 5000
# Categories people chose, directly or through their rules: what learned suggestions learn from (not our guesses).
TRUSTED_SOURCES = ("manual", "rule")
PROVIDER_CONFIDENCE = Decimal("0.80")
ONE = Decimal("1.00")


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class NewTransaction:
    """A transaction to store, whatever its source. FINGERPRINT is its natural key within its bank account."""

    fingerprint: str
    posted_on: dt.date
    amount: Decimal
    currency: str = "USD"
    description: str = ""
    merchant: str = ""
    external_id: str = ""
    pending: bool = False
    pending_external_id: str = ""
    provider_category: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


def from_record(record: TransactionRecord) -> NewTransaction:
    """A synced record as a NewTransaction (bank ids are unique per account: "id:<id>"; a record without one —
    no source we sync sends such — is always new)."""
    fingerprint = f"id:{record.external_id}" if record.external_id else unique_fingerprint()
    return NewTransaction(
        fingerprint=fingerprint,
        posted_on=record.posted_on,
        amount=record.amount,
        currency=record.currency,
        description=record.description,
        merchant=record.merchant,
        external_id=record.external_id,
        pending=record.pending,
        pending_external_id=record.pending_external_id,
        provider_category=record.provider_category,
        raw=dict(record.raw),
    )


@dataclass
class StoreResult:
    """What one store() did."""

    added: list[int] = field(default_factory=list)  # ids of new transactions
    updated: int = 0  # existing ones changed by a sync
    duplicates: list[str] = field(default_factory=list)  # fingerprints already stored (imports: left alone)
    replaced_pending: int = 0  # pending transactions superseded by their posted version
    transfers: int = 0  # pairs found


def unique_fingerprint() -> str:
    """A fingerprint no other transaction has: for transactions people enter by hand."""
    return f"new:{uuid.uuid4().hex}"


def _txn(row: Transaction, key: int | None = None) -> Txn:
    return Txn(
        id=row.id if key is None else key,
        account_id=row.bank_account_id,
        posted_on=row.posted_on,
        amount=row.amount,
        description=row.description,
        merchant=row.merchant,
        category_id=row.category_id,
        is_transfer=row.is_transfer,
        pending=row.pending,
    )


def load_rules(session: Session, workspace_id: int) -> list[Rule]:
    """The workspace's enabled rules, parsed, in order (a stored rule that no longer parses is skipped)."""
    rows = session.scalars(
        select(TransactionRule)
        .where(TransactionRule.workspace_id == workspace_id, TransactionRule.enabled.is_(True))
        .order_by(TransactionRule.position, TransactionRule.id)
    )
    rules = []
    for row in rows:
        try:
            rules.append(parse_rule({**row.definition, "id": row.id, "position": row.position}))
        except RuleError:
            continue
    return rules


def learned_index(session: Session, workspace_id: int) -> LearnedIndex:
    """Votes of the workspace's own categorized history (people's and their rules' choices only)."""
    rows = session.execute(
        select(
            Transaction.id,
            Transaction.bank_account_id,
            Transaction.posted_on,
            Transaction.amount,
            Transaction.description,
            Transaction.merchant,
            Transaction.category_id,
            Transaction.is_transfer,
            Transaction.pending,
        )
        .where(
            Transaction.workspace_id == workspace_id,
            Transaction.category_id.is_not(None),
            Transaction.category_source.in_(TRUSTED_SOURCES),
        )
        .order_by(Transaction.posted_on.desc(), Transaction.id.desc())
        .limit(LEARNED_HISTORY)
    )
    # The columns only (no ORM rows to build and track): the same values _txn reads.
    return LearnedIndex(Txn(*row) for row in rows)


Choice = tuple[int | None, str | None, Decimal | None, int | None]  # category id, source, confidence, rule id
_NOT_YET: Any = object()
_MEMO_LIMIT = 200_000


class _Categorizer:
    """What categorize() needs, read once per call: the workspace's default category ids, its rules compiled into a
    RuleSet, its learned history. Memoized: the learned and keyword guesses per (merchant, description, sign) —
    all they depend on — and the resulting column values per rule outcome and what else they depend on (a
    statement repeats its payees)."""

    def __init__(self, session: Session, workspace_id: int) -> None:
        self.keys = ensure_defaults(session, workspace_id)
        self.rules = RuleSet(load_rules(session, workspace_id))
        self.learned = learned_index(session, workspace_id)
        self._learned: dict[tuple[str, str, int], tuple[int, Decimal] | None] = {}
        self._keyword: dict[tuple[str, str, int], tuple[str, Decimal] | None] = {}
        self._changes: dict[tuple[Any, ...], tuple[Outcome, dict[str, Any]]] = {}

    def decide(
        self,
        description: str,
        merchant: str,
        amount: Decimal,
        account_id: int,
        provider_category: str,
        notes: str,
        is_transfer: bool,
        txn: Callable[[Any, int], Txn],
        row: Any,
        index: int,
    ) -> dict[str, Any]:
        """The columns categorizing a transaction sets, by name (shared between transactions: copy, never change).
        TXN(ROW, INDEX) builds the transaction as a Txn, only when a learned or keyword guess is worked out."""
        outcome = self.rules.outcome_of(description, merchant, amount, account_id)  # shared: read only
        sign = (amount > 0) - (amount < 0)
        if outcome.category_id is not None:
            key: tuple[Any, ...] = (id(outcome), notes, is_transfer)
        else:  # the guesses depend on the texts and the direction, the bank's label on itself
            key = (id(outcome), notes, is_transfer, merchant, description, sign, provider_category)
        found = self._changes.get(key)
        if found is not None and found[0] is outcome:  # (the same object: an id is only unique while it lives)
            return found[1]
        changes: dict[str, Any] = {}
        if outcome.merchant:
            changes["merchant"] = outcome.merchant
        if outcome.notes:
            existing = [n for n in (notes or "").split("\n") if n]
            changes["notes"] = "\n".join(existing + [n for n in outcome.notes if n not in existing])
        if outcome.is_transfer and not is_transfer:
            # A rule said so: no automatic pairing changes it.
            changes["is_transfer"], changes["transfer_locked"] = True, True
        choice: Choice = (None, None, None, None)
        if outcome.category_id is not None:
            choice = (outcome.category_id, "rule", ONE, outcome.rule_id)
        else:
            memo = (merchant, description, sign)
            if (suggested := self._suggest(memo, txn, row, index)) is not None:
                choice = (suggested[0], "learned", suggested[1], None)
            elif (label := provider_category_key(provider_category)) and label in self.keys:
                choice = (self.keys[label], "provider", PROVIDER_CONFIDENCE, None)
            elif (guess := self._guess(memo, txn, row, index)) is not None and guess[0] in self.keys:
                choice = (self.keys[guess[0]], "keyword", guess[1], None)
        changes["category_id"], changes["category_source"] = choice[0], choice[1]
        changes["category_confidence"], changes["category_rule_id"] = choice[2], choice[3]
        if len(self._changes) >= _MEMO_LIMIT:
            self._changes.clear()
        self._changes[key] = (outcome, changes)
        return changes

    def _suggest(
        self, memo: tuple[str, str, int], txn: Callable[[Any, int], Txn], row: Any, index: int
    ) -> tuple[int, Decimal] | None:
        return _remembered(self._learned, memo, lambda: self.learned.suggest(txn(row, index)))

    def _guess(
        self, memo: tuple[str, str, int], txn: Callable[[Any, int], Txn], row: Any, index: int
    ) -> tuple[str, Decimal] | None:
        return _remembered(self._keyword, memo, lambda: keyword_category(txn(row, index)))


def _remembered(cache: dict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
    """CACHE[KEY], made by MAKE the first time; the cache is emptied when full (_MEMO_LIMIT bounds memory)."""
    found = cache.get(key, _NOT_YET)
    if found is _NOT_YET:
        if len(cache) >= _MEMO_LIMIT:
            cache.clear()
        found = cache[key] = make()
    return found


def _row_txn(row: Transaction, index: int) -> Txn:
    return _txn(row, key=row.id if row.id is not None else -(index + 1))


def categorize(
    session: Session, workspace_id: int, rows: Sequence[Transaction], *, keep_sources: Iterable[str] = ("manual",)
) -> int:
    """Set category, source and confidence on ROWS (not those whose source is in KEEP_SOURCES); rules may also
    rename the merchant, add notes and mark a transfer. Returns how many got a category."""
    categorizer = _Categorizer(session, workspace_id)
    keep = set(keep_sources)
    done = 0
    for index, row in enumerate(rows):
        if row.category_source in keep:
            continue
        changes = categorizer.decide(
            row.description,
            row.merchant,
            row.amount,
            row.bank_account_id,
            row.provider_category,
            row.notes,
            row.is_transfer,
            _row_txn,
            row,
            index,
        )
        for name, value in changes.items():
            setattr(row, name, value)
        done += changes["category_id"] is not None
    return done


def _values_txn(values: dict[str, Any], index: int) -> Txn:
    # As _txn builds it from a row (positional: Txn's field order).
    return Txn(
        -(index + 1),
        values["bank_account_id"],
        values["posted_on"],
        values["amount"],
        values["description"],
        values["merchant"],
        values["category_id"],
        values["is_transfer"],
        values["pending"],
    )


def _categorize_new(session: Session, workspace_id: int, rows: Sequence[dict[str, Any]]) -> None:
    """categorize() for the column values of new transactions (store() inserts them without ORM rows)."""
    categorizer = _Categorizer(session, workspace_id)
    decide = categorizer.decide
    for index, values in enumerate(rows):
        if values["category_source"] == "manual":  # carried over from the pending version: a person chose it
            continue
        values.update(
            decide(
                values["description"],
                values["merchant"],
                values["amount"],
                values["bank_account_id"],
                values["provider_category"],
                values["notes"],
                values["is_transfer"],
                _values_txn,
                values,
                index,
            )
        )


def new_values(
    items: Iterable[NewTransaction], *, bank_account: BankAccount, import_id: int | None, now: dt.datetime
) -> list[dict[str, Any]]:
    """The columns of ITEMS as new, not yet categorized transactions of BANK_ACCOUNT, as store() inserts them
    (every column given, so that all rows have one executemany shape)."""
    workspace_id, bank_account_id, currency = bank_account.workspace_id, bank_account.id, bank_account.currency
    return [
        {
            "workspace_id": workspace_id,
            "bank_account_id": bank_account_id,
            "fingerprint": item.fingerprint,
            "external_id": item.external_id,
            "posted_on": item.posted_on,
            "amount": item.amount,
            "currency": item.currency or currency,
            "description": item.description,
            "merchant": item.merchant,
            "pending": item.pending,
            "pending_external_id": item.pending_external_id,
            "provider_category": item.provider_category,
            "category_id": None,
            "category_source": None,
            "category_confidence": None,
            "category_rule_id": None,
            "notes": "",
            "excluded": False,
            "transfer_peer_id": None,
            "is_transfer": False,
            "transfer_locked": False,
            "import_id": import_id,
            "raw": item.raw,
            "created_at": now,
            "updated_at": now,
        }
        for item in items
    ]


def fingerprint_among(fingerprints: Sequence[str], postgres: bool) -> ColumnElement[bool]:
    """Transaction.fingerprint IN FINGERPRINTS; on PostgreSQL as `= ANY(one array parameter)`: thousands of
    separate parameters make a statement psycopg parses anew (in Python) on every execution."""
    if postgres:
        return Transaction.fingerprint == any_(bindparam(None, list(fingerprints), type_=ARRAY(String)))
    return Transaction.fingerprint.in_(fingerprints)


@dataclass
class Prepared:
    """What store() will write, worked out before it writes anything: the new rows' columns (categorized), the
    stored rows a sync refreshes, and the result so far (duplicates, updates)."""

    bank_account: BankAccount
    new_rows: list[dict[str, Any]]
    existing: dict[str, Transaction]
    update_existing: bool
    result: StoreResult
    bound: list[tuple[Any, ...]] | None = None  # new_rows as the driver's values, for a bulk insert


def store(
    session: Session,
    *,
    bank_account: BankAccount,
    items: Sequence[NewTransaction],
    update_existing: bool,
    import_id: int | None = None,
) -> StoreResult:
    """Insert ITEMS not stored yet (by fingerprint); with UPDATE_EXISTING (a sync), stored ones take the new values
    (their category is kept when a person chose it); otherwise (an import) they are counted as duplicates."""
    prepared = prepare(
        session, bank_account=bank_account, items=items, update_existing=update_existing, import_id=import_id
    )
    return write(session, prepared)


def prepare(
    session: Session,
    *,
    bank_account: BankAccount,
    items: Sequence[NewTransaction],
    update_existing: bool,
    import_id: int | None = None,
) -> Prepared:
    """store()'s first half: look up what is stored, build and categorize the new rows. An import (no pending
    versions to replace) only reads here, so all its Python work can run before its write transaction begins."""
    result = StoreResult()
    if not items:
        return Prepared(bank_account, [], {}, update_existing, result)
    workspace_id = bank_account.workspace_id
    unique: dict[str, NewTransaction] = {}
    for item in items:
        unique[item.fingerprint] = item  # one sync may repeat a transaction: the last version wins
    existing: dict[str, Transaction] = {}
    known: set[str] = set()
    fingerprints = list(unique)
    postgres = session.get_bind().dialect.name == "postgresql"
    for chunk in _chunks(fingerprints, LOOKUP_CHUNK):
        where = (Transaction.bank_account_id == bank_account.id, fingerprint_among(chunk, postgres))
        if update_existing:  # a sync refreshes stored rows: load them
            for row in session.scalars(select(Transaction).where(*where)):
                existing[row.fingerprint] = row
        else:  # an import only needs to know which are stored
            known.update(session.scalars(select(Transaction.fingerprint).where(*where)))
    known.update(existing)
    carried = _take_pending(session, bank_account, [i for i in unique.values() if i.pending_external_id], result)
    fresh: list[NewTransaction] = []
    for fingerprint, item in unique.items():
        if fingerprint in known:
            if not update_existing:
                result.duplicates.append(fingerprint)
                continue
            changed = _refresh(existing[fingerprint], item)
            result.updated += changed
            continue
        fresh.append(item)
    new_rows = new_values(fresh, bank_account=bank_account, import_id=import_id, now=utcnow())
    for item, values in zip(fresh, new_rows, strict=True):
        previous = carried.get(item.pending_external_id) if item.pending_external_id else None
        if previous is not None:  # what a person set on the pending version stays on the posted one
            values["category_id"], values["category_source"] = previous["category_id"], previous["category_source"]
            values["category_confidence"], values["notes"] = previous["category_confidence"], previous["notes"]
            values["excluded"] = previous["excluded"]
    if new_rows:
        _categorize_new(session, workspace_id, new_rows)
    else:
        ensure_defaults(session, workspace_id)  # as categorizing does: the workspace has its categories after
    bound = None
    if len(new_rows) >= BULK_INSERT_ROWS:  # converted here, not while write() holds the write lock
        table: Table = Transaction.__table__  # type: ignore[assignment]
        bound = _bind_values(table, session.get_bind().dialect, list(new_rows[0]), new_rows)
    return Prepared(bank_account, new_rows, existing, update_existing, result, bound)


def write(session: Session, prepared: Prepared) -> StoreResult:
    """store()'s second half: insert the prepared rows in bulk, pair transfers in their range, mark the rollups."""
    result, new_rows, existing = prepared.result, prepared.new_rows, prepared.existing
    workspace_id = prepared.bank_account.workspace_id
    result.added = _insert(session, prepared.bank_account.id, new_rows, prepared.bound)
    touched = [r["posted_on"] for r in new_rows] + [existing[f].posted_on for f in existing if prepared.update_existing]
    if touched:
        result.transfers = pair_transfers(session, workspace_id, min(touched), max(touched))
    if new_rows or result.updated or result.replaced_pending:
        alert_marks.mark(session, [workspace_id])
    return result


# From this many new rows on, store() inserts them in bulk below SQLAlchemy's per-row statement handling: a
# driver-level executemany on SQLite, COPY into a staging table on PostgreSQL (smaller batches: one INSERT … RETURNING).
BULK_INSERT_ROWS = 200
_STAGE = "transactions_stage"


def _insert(
    session: Session, bank_account_id: int, rows: list[dict[str, Any]], bound: list[tuple[Any, ...]] | None = None
) -> list[int]:
    """Insert ROWS (every column but id, the same columns in each; fingerprints unique, all of BANK_ACCOUNT_ID) in
    bulk, not one ORM object and INSERT per row (BOUND: their driver values, if made already); returns their ids in
    ROWS' order."""
    if not rows:
        return []
    session.flush()  # anything pending goes first, as add_all + flush would have written it
    table: Table = Transaction.__table__  # type: ignore[assignment]
    if len(rows) < BULK_INSERT_ROWS:
        # One multi-row INSERT … RETURNING. Not sort_by_parameter_order: SQLite would then insert row by row.
        statement = insert(table).returning(table.c.fingerprint, table.c.id)
        ids = {fingerprint: int(row_id) for fingerprint, row_id in session.execute(statement, rows)}
    else:
        connection = session.connection()
        columns = list(rows[0])
        values = bound if bound is not None else _bind_values(table, connection.dialect, columns, rows)
        if connection.dialect.name == "postgresql":
            ids = _insert_postgres(connection, columns, values)
        else:
            # A plain executemany of the driver (sqlite3 loops in C); the column names are the table's own.
            sql = f"INSERT INTO transactions ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"  # noqa: S608
            connection.exec_driver_sql(sql, values)
            consecutive = _sqlite_new_ids(connection, rows)
            if consecutive is not None:
                return consecutive
            ids = {}
            fingerprints = [r["fingerprint"] for r in rows]
            for chunk in _chunks(fingerprints, LOOKUP_CHUNK):
                found = session.execute(
                    select(Transaction.fingerprint, Transaction.id).where(
                        Transaction.bank_account_id == bank_account_id, Transaction.fingerprint.in_(chunk)
                    )
                )
                ids.update({fingerprint: int(row_id) for fingerprint, row_id in found})
    return [ids[r["fingerprint"]] for r in rows]


def _sqlite_new_ids(connection: Connection, rows: list[dict[str, Any]]) -> list[int] | None:
    """The ids SQLite just gave ROWS, without looking each up (seconds for 100,000 rows, with the write lock held).
    Holding the write lock, one INSERT gives rows max(id)+1, +2, … in order (the id is the rowid); the first and
    last row are checked, and None (look them up) when they do not match."""
    last = connection.exec_driver_sql("SELECT max(id) FROM transactions").scalar()
    if last is None:
        return None
    first = int(last) - len(rows) + 1
    found = {
        row_id: (account, fingerprint)
        for row_id, account, fingerprint in connection.exec_driver_sql(
            "SELECT id, bank_account_id, fingerprint FROM transactions WHERE id IN (?, ?)", (first, int(last))
        )
    }
    expected = {first: rows[0], int(last): rows[-1]}
    if any(found.get(i) != (row["bank_account_id"], row["fingerprint"]) for i, row in expected.items()):
        return None
    return list(range(first, int(last) + 1))


def _bind_values(
    table: Table, dialect: Dialect, columns: list[str], rows: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """ROWS as tuples of COLUMNS' values the way SQLAlchemy hands them to the driver (each column type's own bind
    processor: UTC datetimes, JSON text, SQLite's dates and numbers…), a processed value reused for equal ones."""
    processed: list[list[Any]] = []
    for name in columns:
        raw = [r[name] for r in rows]
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            processed.append(raw)
            continue
        memo: dict[tuple[type, Any], Any] = {}
        out = []
        for value in raw:
            try:
                key = (type(value), value)
                found = memo.get(key, _NOT_YET)
            except TypeError:  # unhashable (a JSON document): processed each time
                out.append(process(value))
                continue
            if found is _NOT_YET:
                found = memo[key] = process(value)
            out.append(found)
        processed.append(out)
    return list(zip(*processed, strict=True))


def _insert_postgres(connection: Connection, columns: list[str], values: list[tuple[Any, ...]]) -> dict[str, int]:
    """COPY into a temporary staging table, then one INSERT … SELECT … RETURNING (COPY FROM cannot write to a table
    with row-level security; the INSERT goes through it like any other, and its errors are SQLAlchemy's)."""
    names = ", ".join(columns)
    # Same column types as transactions, so COPY rounds and length-checks as the table would; dropped at commit at
    # the latest, and right after use so that a second store() in the transaction can create it again.
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE {_STAGE} ON COMMIT DROP AS SELECT {names} FROM transactions WITH NO DATA"  # noqa: S608
    )
    driver: Any = connection.connection.driver_connection  # the psycopg connection, in the same transaction
    with driver.cursor() as cursor, cursor.copy(f"COPY {_STAGE} ({names}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)
    inserted = connection.exec_driver_sql(
        f"INSERT INTO transactions ({names}) SELECT {names} FROM {_STAGE} RETURNING fingerprint, id"  # noqa: S608
    )
    ids = {fingerprint: int(row_id) for fingerprint, row_id in inserted}
    connection.exec_driver_sql(f"DROP TABLE {_STAGE}")
    _refresh_statistics(connection, len(ids))
    return ids


# After a bulk insert of at least this many rows that grew the table by more than STALE_SHARE of what the
# planner's statistics say it holds, they are refreshed (ANALYZE) in the same transaction.
ANALYZE_MIN_ROWS = 5000
STALE_SHARE = 0.2


def _refresh_statistics(connection: Connection, inserted: int) -> None:
    """ANALYZE transactions when this insert made the planner's statistics badly stale. Autovacuum would only do
    it up to a minute after the commit; meanwhile PostgreSQL plans fingerprint lookups (the next import's
    duplicates) as if the table were still small, and its cached generic plans scan every row per lookup
    (minutes for a second 100,000-row statement). ANALYZE reads a sample (30,000 rows at most); its lock only
    conflicts with VACUUM, another ANALYZE and schema changes, not with reads or writes. A role that does not
    own the table gets a warning and no statistics, not an error."""
    if inserted < ANALYZE_MIN_ROWS:
        return
    known = connection.exec_driver_sql("SELECT reltuples FROM pg_class WHERE oid = 'transactions'::regclass").scalar()
    if known is None or inserted > STALE_SHARE * max(float(known), 0.0):
        connection.exec_driver_sql("ANALYZE transactions")


def _refresh(row: Transaction, item: NewTransaction) -> bool:
    """A synced transaction the bank changed (Plaid `modified`, SimpleFIN's re-read window): take its values."""
    values = {
        "posted_on": item.posted_on,
        "amount": item.amount,
        "description": item.description,
        "pending": item.pending,
        "provider_category": item.provider_category,
        "raw": item.raw,
    }
    if not row.merchant:  # a merchant a rule or a person set stays
        values["merchant"] = item.merchant
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _take_pending(
    session: Session, bank_account: BankAccount, posted: list[NewTransaction], result: StoreResult
) -> dict[str, dict[str, Any]]:
    """Delete the pending transactions these posted ones replace (Plaid: the pending id may also arrive in
    `removed`); returns what people set on them, by their external id, to carry over."""
    ids = sorted({p.pending_external_id for p in posted})
    carried: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        rows = session.scalars(
            select(Transaction).where(
                Transaction.bank_account_id == bank_account.id, Transaction.external_id.in_(chunk)
            )
        ).all()
        for row in rows:
            if not row.pending:
                continue
            if row.category_source == "manual" or row.notes or row.excluded:
                carried[row.external_id] = {
                    "category_id": row.category_id,
                    "category_source": row.category_source,
                    "category_confidence": row.category_confidence,
                    "notes": row.notes,
                    "excluded": row.excluded,
                }
            _unpair(session, [row])
            session.delete(row)
            result.replaced_pending += 1
    session.flush()
    return carried


def _unpair(session: Session, rows: Sequence[Transaction]) -> None:
    """Before ROWS go away, their transfer peers stop being transfers."""
    peers = [r.transfer_peer_id for r in rows if r.transfer_peer_id is not None]
    if peers:
        session.execute(
            update(Transaction)
            .where(Transaction.id.in_(peers))
            .values(is_transfer=False, transfer_peer_id=None)
            .execution_options(synchronize_session=False)
        )


def remove(session: Session, *, bank_account: BankAccount, external_ids: Sequence[str]) -> int:
    """Delete the transactions the bank says no longer exist; returns how many were stored."""
    removed = 0
    for chunk in _chunks(sorted(set(external_ids))):
        rows = session.scalars(
            select(Transaction).where(
                Transaction.bank_account_id == bank_account.id, Transaction.external_id.in_(chunk)
            )
        ).all()
        _unpair(session, rows)
        for row in rows:
            session.delete(row)
        removed += len(rows)
    if removed:
        session.flush()
        alert_marks.mark(session, [bank_account.workspace_id])
    return removed


def pair_transfers(session: Session, workspace_id: int, start: dt.date, end: dt.date) -> int:
    """Pair opposite amounts between two of the workspace's accounts within TRANSFER_WINDOW_DAYS of [START, END]
    (each transaction in at most one pair; ones a person unpaired stay unpaired). Returns the new pairs."""
    margin = dt.timedelta(days=TRANSFER_WINDOW_DAYS)
    candidates = (
        Transaction.workspace_id == workspace_id,
        Transaction.posted_on >= start - margin,
        Transaction.posted_on <= end + margin,
        Transaction.is_transfer.is_(False),
        Transaction.transfer_locked.is_(False),
        Transaction.pending.is_(False),
    )
    # Only amounts that occur both ways in two accounts of the range can pair (find_transfers pairs an amount out
    # with the same amount in on another account): the database keeps those rows, in one scan of the range (window
    # aggregates, so no plan re-reads it per row), and only the four columns pairing looks at are read — an
    # import's range may hold 100,000 transactions, few of them candidates.
    size = func.abs(Transaction.amount)
    ranged = (
        select(
            Transaction.id,
            Transaction.bank_account_id,
            Transaction.posted_on,
            Transaction.amount,
            func.min(Transaction.amount).over(partition_by=size).label("lowest"),
            func.max(Transaction.amount).over(partition_by=size).label("highest"),
            func.min(Transaction.bank_account_id).over(partition_by=size).label("first_account"),
            func.max(Transaction.bank_account_id).over(partition_by=size).label("last_account"),
        )
        .where(*candidates)
        .subquery()
    )
    rows = session.execute(
        select(ranged.c.id, ranged.c.bank_account_id, ranged.c.posted_on, ranged.c.amount).where(
            ranged.c.lowest < 0, ranged.c.highest > 0, ranged.c.first_account != ranged.c.last_account
        )
    ).all()
    txns = [Txn(id=r[0], account_id=r[1], posted_on=r[2], amount=r[3], description="") for r in rows]
    pairs = find_transfers(txns, window_days=TRANSFER_WINDOW_DAYS)
    peers: dict[int, int] = {}
    for out_id, in_id in pairs:
        peers[out_id], peers[in_id] = in_id, out_id
    # Only the paired rows are loaded, and changed through the ORM (rows the session holds stay in step).
    for chunk in _chunks(sorted(peers)):
        for row in session.scalars(select(Transaction).where(Transaction.id.in_(chunk))):
            row.is_transfer = True
            row.transfer_peer_id = peers[row.id]
    if pairs:
        session.flush()
    return len(pairs)


def upsert_bank_accounts(
    session: Session, account: ProviderAccount, records: Sequence[BankAccountRecord]
) -> dict[str, BankAccount]:
    """The connection's bank accounts by external id, created or updated from RECORDS (balances included)."""
    rows = {
        b.external_id: b for b in session.scalars(select(BankAccount).where(BankAccount.account_id == account.id)).all()
    }
    for record in records:
        row = rows.get(record.external_id)
        if row is None:
            row = BankAccount(
                workspace_id=account.workspace_id, account_id=account.id, external_id=record.external_id, name=""
            )
            session.add(row)
            rows[record.external_id] = row
        row.name = record.name or row.name or record.external_id
        row.institution = record.institution
        row.currency = record.currency or row.currency or "USD"
        if record.balance is not None:
            row.balance, row.available_balance, row.balance_at = (
                record.balance,
                record.available_balance,
                record.balance_at,
            )
    session.flush()
    return rows


@dataclass
class SyncOutcome:
    """What applying one TransactionSync changed."""

    accounts: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    replaced_pending: int = 0
    transfers: int = 0


def apply_sync(
    session: Session, account: ProviderAccount, sync: TransactionSync, *, window: SyncWindow | None = None
) -> SyncOutcome:
    """Apply a whole transaction sync (accounts, upserts, removals) and save its cursor, in the caller's
    transaction: a cursor is never saved without the changes it covers. A window source (SimpleFIN) re-reads
    WINDOW whole: its pending transactions there that it no longer lists have posted (under a new id) or
    vanished, and are removed."""
    outcome = SyncOutcome()
    banks = upsert_bank_accounts(session, account, sync.accounts)
    outcome.accounts = len(sync.accounts)
    by_bank: dict[str, list[NewTransaction]] = {}
    for record in sync.upserted:
        by_bank.setdefault(record.account_external_id, []).append(from_record(record))
    removed: dict[str, list[str]] = {}
    for bank_external_id, external_id in sync.removed:
        removed.setdefault(bank_external_id, []).append(external_id)
    for bank_external_id, ids in removed.items():
        targets = [banks[bank_external_id]] if bank_external_id in banks else list(banks.values())
        for bank in targets:  # a removal without its account id (older Plaid versions): look in every account
            outcome.removed += remove(session, bank_account=bank, external_ids=ids)
    for bank_external_id, items in by_bank.items():
        if bank_external_id not in banks:  # a transaction of an account the source did not list: create it bare
            banks.update(
                upsert_bank_accounts(session, account, [BankAccountRecord(bank_external_id, bank_external_id)])
            )
        stored = store(session, bank_account=banks[bank_external_id], items=items, update_existing=True)
        outcome.added += len(stored.added)
        outcome.updated += stored.updated
        outcome.replaced_pending += stored.replaced_pending
        outcome.transfers += stored.transfers
    if sync.cursor is None and window is not None:
        outcome.removed += _drop_vanished_pending(session, list(banks.values()), sync, window)
    if sync.cursor is not None:
        account.sync_cursor = sync.cursor
    account.notices = list(sync.notices) or None
    return outcome


def _drop_vanished_pending(
    session: Session, banks: Sequence[BankAccount], sync: TransactionSync, window: SyncWindow
) -> int:
    seen = {(r.account_external_id, r.external_id) for r in sync.upserted}
    start = window.start.date()
    removed = 0
    for bank in banks:
        rows = session.scalars(
            select(Transaction).where(
                Transaction.bank_account_id == bank.id,
                Transaction.pending.is_(True),
                Transaction.posted_on >= start,
            )
        ).all()
        gone = [r for r in rows if (bank.external_id, r.external_id) not in seen]
        _unpair(session, gone)
        for row in gone:
            session.delete(row)
        removed += len(gone)
    if removed:
        session.flush()
        alert_marks.mark(session, [banks[0].workspace_id])
    return removed


def delete_import(session: Session, import_id: int) -> int:
    """Delete every transaction an import added (undo); returns how many."""
    rows = session.scalars(select(Transaction).where(Transaction.import_id == import_id)).all()
    _unpair(session, rows)
    session.execute(delete(Transaction).where(Transaction.import_id == import_id))
    if rows:
        alert_marks.mark(session, [rows[0].workspace_id])
    return len(rows)
