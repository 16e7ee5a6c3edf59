"""A workspace's recurring charges and income, detected from its stored transactions, and what they will still
cost in a period (for budget forecasts).

Detection (backend.money.recurring) runs over the non-transfer, non-pending transactions of the last
HISTORY_DAYS, once per currency: a stream never mixes currencies.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.models import Transaction, Workspace
from backend.money import recurring
from backend.money.recurring import Stream
from backend.money.txn import Txn
from backend.services.periods import local_today

# Enough history for a yearly charge to show twice (360-370 days apart) with some slack.
HISTORY_DAYS = 400


@dataclass(frozen=True)
class FoundStream:
    """A stream with the currency of its transactions and the bank account of its latest one."""

    stream: Stream
    currency: str
    bank_account_id: int


def workspace_today(session: Session, workspace_id: int, now: dt.datetime | None = None) -> dt.date:
    """The workspace's local date at NOW (default: the current time), in its timezone."""
    timezone = session.scalar(select(Workspace.timezone).where(Workspace.id == workspace_id)) or "UTC"
    return local_today(now or utcnow(), timezone)


def find_streams(
    session: Session, workspace_id: int, today: dt.date, *, include_excluded: bool = True
) -> list[FoundStream]:
    """The workspace's streams as of TODAY, per currency, sorted by next expected date then merchant key.
    Without INCLUDE_EXCLUDED, transactions left out of budgets are left out here too."""
    stmt = select(
        Transaction.id,
        Transaction.bank_account_id,
        Transaction.posted_on,
        Transaction.amount,
        Transaction.currency,
        Transaction.description,
        Transaction.merchant,
        Transaction.category_id,
    ).where(
        Transaction.workspace_id == workspace_id,
        Transaction.is_transfer.is_(False),
        Transaction.pending.is_(False),
        Transaction.posted_on >= today - dt.timedelta(days=HISTORY_DAYS),
        Transaction.posted_on <= today,
    )
    if not include_excluded:
        stmt = stmt.where(Transaction.excluded.is_(False))
    by_currency: dict[str, list[Txn]] = defaultdict(list)
    accounts: dict[int, int] = {}
    for tid, account_id, posted_on, amount, currency, description, merchant, category_id in session.execute(stmt):
        accounts[tid] = account_id
        by_currency[currency].append(
            Txn(
                id=tid,
                account_id=account_id,
                posted_on=posted_on,
                amount=amount,
                description=description,
                merchant=merchant,
                category_id=category_id,
            )
        )
    found = [
        # transaction_ids are in date order: the last one is the latest charge.
        FoundStream(stream, currency, accounts[stream.transaction_ids[-1]])
        for currency, txns in by_currency.items()
        for stream in recurring.detect_recurring(txns, today)
    ]
    return sorted(found, key=lambda f: (f.stream.next_expected, f.stream.merchant_key, f.stream.kind, f.currency))


def streams(session: Session, workspace_id: int, today: dt.date) -> list[Stream]:
    """The workspace's recurring streams as of TODAY (see find_streams)."""
    return [f.stream for f in find_streams(session, workspace_id, today)]


def upcoming(found: Iterable[FoundStream], today: dt.date, days: int) -> list[tuple[FoundStream, dt.date]]:
    """Expected occurrences of the active streams up to TODAY + DAYS (overdue ones with their own date), by date."""
    by_stream = {id(f.stream): f for f in found}
    pairs = recurring.upcoming([f.stream for f in by_stream.values()], today, days)
    out = [(by_stream[id(stream)], day) for stream, day in pairs]
    return sorted(out, key=lambda p: (p[1], p[0].stream.merchant_key, p[0].stream.kind, p[0].currency))


def due_in_period(
    session: Session,
    workspace_id: int,
    start: dt.date,
    end: dt.date,
    today: dt.date,
    category_ids: set[int] | None,
    bank_account_id: int | None,
    *,
    currency: str | None = None,
) -> Decimal:
    """Expected expense charges still due in [START, END] after TODAY (an overdue one counts as today), as a
    positive spend amount: streams of CATEGORY_IDS (by the stream's category), of BANK_ACCOUNT_ID (the account of
    its latest charge) and of CURRENCY when given. Transactions left out of budgets are not counted."""
    found = find_streams(session, workspace_id, today, include_excluded=False)
    return due_from(found, start, end, today, category_ids, bank_account_id, currency=currency)


def due_from(
    found: Iterable[FoundStream],
    start: dt.date,
    end: dt.date,
    today: dt.date,
    category_ids: set[int] | None,
    bank_account_id: int | None,
    *,
    currency: str | None = None,
) -> Decimal:
    """due_in_period over streams found once (find_streams(..., include_excluded=False)): for many budgets of
    one workspace without detecting again."""
    chosen = [
        f.stream
        for f in found
        if f.stream.kind == "expense"
        and (category_ids is None or f.stream.category_id in category_ids)
        and (bank_account_id is None or f.bank_account_id == bank_account_id)
        and (currency is None or f.currency == currency)
    ]
    # Expense amounts are negative; 0 - x rather than -x so that nothing due is "0.00", not "-0.00".
    return Decimal(0) - recurring.due_in_period(chosen, start, end, today)
