"""Storing bank transactions, from a sync, a statement import or a person: deduplicated by fingerprint, categorized
(rules, then the workspace's own history, then the bank's label, then the keyword map), transfers paired, the
workspace's budgets marked for the next alert tick. Everything in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backend.models import BankAccount, ProviderAccount, Transaction, TransactionRule
from backend.money.categories import keyword_category
from backend.money.learned import LearnedIndex
from backend.money.rules import Rule, RuleError, apply_rules, parse_rule
from backend.money.transfers import find_transfers
from backend.money.txn import Txn
from backend.services import alert_marks
from backend.services.categories import ensure_defaults, provider_category_key
from integrations.records import BankAccountRecord, SyncWindow, TransactionRecord, TransactionSync

T = TypeVar("T")
CHUNK = 500
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
    rows = session.scalars(
        select(Transaction)
        .where(
            Transaction.workspace_id == workspace_id,
            Transaction.category_id.is_not(None),
            Transaction.category_source.in_(TRUSTED_SOURCES),
        )
        .order_by(Transaction.posted_on.desc(), Transaction.id.desc())
        .limit(LEARNED_HISTORY)
    )
    return LearnedIndex(_txn(r) for r in rows)


def categorize(
    session: Session, workspace_id: int, rows: Sequence[Transaction], *, keep_sources: Iterable[str] = ("manual",)
) -> int:
    """Set category, source and confidence on ROWS (not those whose source is in KEEP_SOURCES); rules may also
    rename the merchant, add notes and mark a transfer. Returns how many got a category."""
    keys = ensure_defaults(session, workspace_id)
    rules = load_rules(session, workspace_id)
    learned = learned_index(session, workspace_id)
    keep = set(keep_sources)
    done = 0
    for index, row in enumerate(rows):
        if row.category_source in keep:
            continue
        txn = _txn(row, key=row.id if row.id is not None else -(index + 1))
        outcome = apply_rules(rules, txn)
        if outcome.merchant:
            row.merchant = outcome.merchant
        if outcome.notes:
            existing = [n for n in (row.notes or "").split("\n") if n]
            row.notes = "\n".join(existing + [n for n in outcome.notes if n not in existing])
        if outcome.is_transfer and not row.is_transfer:
            row.is_transfer, row.transfer_locked = True, True  # a rule said so: no automatic pairing changes it
        choice: tuple[int | None, str | None, Decimal | None, int | None] = (None, None, None, None)
        if outcome.category_id is not None:
            choice = (outcome.category_id, "rule", ONE, outcome.rule_id)
        elif (suggested := learned.suggest(txn)) is not None:
            choice = (suggested[0], "learned", suggested[1], None)
        elif (key := provider_category_key(row.provider_category)) and key in keys:
            choice = (keys[key], "provider", PROVIDER_CONFIDENCE, None)
        elif (guess := keyword_category(txn)) is not None and guess[0] in keys:
            choice = (keys[guess[0]], "keyword", guess[1], None)
        row.category_id, row.category_source, row.category_confidence, row.category_rule_id = choice
        done += choice[0] is not None
    return done


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
    result = StoreResult()
    if not items:
        return result
    workspace_id = bank_account.workspace_id
    unique: dict[str, NewTransaction] = {}
    for item in items:
        unique[item.fingerprint] = item  # one sync may repeat a transaction: the last version wins
    existing: dict[str, Transaction] = {}
    fingerprints = list(unique)
    for chunk in _chunks(fingerprints):
        for row in session.scalars(
            select(Transaction).where(
                Transaction.bank_account_id == bank_account.id, Transaction.fingerprint.in_(chunk)
            )
        ):
            existing[row.fingerprint] = row
    carried = _take_pending(session, bank_account, [i for i in unique.values() if i.pending_external_id], result)
    new_rows: list[Transaction] = []
    for fingerprint, item in unique.items():
        stored = existing.get(fingerprint)
        if stored is not None:
            if not update_existing:
                result.duplicates.append(fingerprint)
                continue
            changed = _refresh(stored, item)
            result.updated += changed
            continue
        row = Transaction(
            workspace_id=workspace_id,
            bank_account_id=bank_account.id,
            fingerprint=fingerprint,
            external_id=item.external_id,
            posted_on=item.posted_on,
            amount=item.amount,
            currency=item.currency or bank_account.currency,
            description=item.description,
            merchant=item.merchant,
            pending=item.pending,
            pending_external_id=item.pending_external_id,
            provider_category=item.provider_category,
            notes="",
            excluded=False,
            is_transfer=False,
            transfer_locked=False,
            import_id=import_id,
            raw=item.raw,
        )
        previous = carried.get(item.pending_external_id) if item.pending_external_id else None
        if previous is not None:  # what a person set on the pending version stays on the posted one
            row.category_id, row.category_source = previous["category_id"], previous["category_source"]
            row.category_confidence, row.notes = previous["category_confidence"], previous["notes"]
            row.excluded = previous["excluded"]
        new_rows.append(row)
    categorize(session, workspace_id, new_rows)
    session.add_all(new_rows)
    session.flush()
    result.added = [r.id for r in new_rows]
    touched = [r.posted_on for r in new_rows] + [existing[f].posted_on for f in existing if update_existing]
    if touched:
        result.transfers = pair_transfers(session, workspace_id, min(touched), max(touched))
    if new_rows or result.updated or result.replaced_pending:
        alert_marks.mark(session, [workspace_id])
    return result


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
    rows = session.scalars(
        select(Transaction).where(
            Transaction.workspace_id == workspace_id,
            Transaction.posted_on >= start - margin,
            Transaction.posted_on <= end + margin,
            Transaction.is_transfer.is_(False),
            Transaction.transfer_locked.is_(False),
            Transaction.pending.is_(False),
        )
    ).all()
    by_id = {r.id: r for r in rows}
    pairs = find_transfers([_txn(r) for r in rows], window_days=TRANSFER_WINDOW_DAYS)
    for out_id, in_id in pairs:
        out, into = by_id[out_id], by_id[in_id]
        out.is_transfer = into.is_transfer = True
        out.transfer_peer_id, into.transfer_peer_id = in_id, out_id
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
