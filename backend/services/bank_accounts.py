"""A workspace's bank accounts: synced ones (from a connection) and hand-kept ones (filled by statement imports)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.models import BankAccount, Transaction
from backend.services import alert_marks


@dataclass(frozen=True)
class AccountStats:
    """How many transactions an account holds and the date of the newest."""

    count: int = 0
    last_posted_on: dt.date | None = None


@dataclass(frozen=True)
class CurrencyTotal:
    """The known balances of a workspace's accounts in one currency."""

    currency: str
    balance: Decimal
    available_balance: Decimal
    accounts: int


def _date(value: Any) -> dt.date | None:
    # An aggregate can lose the column type on SQLite and come back as ISO text.
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def list_accounts(*, session: Session, workspace_id: int) -> list[BankAccount]:
    """The workspace's bank accounts by name."""
    return list(
        session.scalars(
            select(BankAccount)
            .where(BankAccount.workspace_id == workspace_id)
            .order_by(BankAccount.name, BankAccount.id)
        )
    )


def stats(*, session: Session, workspace_id: int) -> dict[int, AccountStats]:
    """Per bank account: its transaction count and newest posting date (one grouped query)."""
    rows = session.execute(
        select(Transaction.bank_account_id, func.count(), func.max(Transaction.posted_on))
        .where(Transaction.workspace_id == workspace_id)
        .group_by(Transaction.bank_account_id)
    )
    return {int(bank_id): AccountStats(int(count), _date(last)) for bank_id, count, last in rows}


def get_account(*, session: Session, workspace_id: int, bank_account_id: int) -> BankAccount:
    """One bank account of the workspace, or 404."""
    account = session.scalar(
        select(BankAccount).where(BankAccount.id == bank_account_id, BankAccount.workspace_id == workspace_id)
    )
    if account is None:
        raise NotFound("No such bank account in this workspace.")
    return account


def create_account(*, session: Session, workspace_id: int, data: dict[str, Any]) -> BankAccount:
    """A hand-kept account (no connection) for statement imports and manual transactions."""
    balance = data.get("balance")
    account = BankAccount(
        workspace_id=workspace_id,
        account_id=None,
        external_id="",
        name=data["name"],
        institution=data.get("institution") or "",
        currency=data["currency"],
        balance=balance,
        available_balance=None,
        balance_at=utcnow() if balance is not None else None,
    )
    session.add(account)
    session.flush()
    return account


def update_account(*, session: Session, account: BankAccount, changes: dict[str, Any]) -> BankAccount:
    """Rename an account or change its institution; a hand-kept account's balance too (null: unknown)."""
    if "balance" in changes:
        if account.account_id is not None:
            raise Invalid(
                "A synced account's balance comes from the bank.",
                code="synced_balance",
                details=[{"loc": ["balance"], "msg": "only hand-kept accounts take a balance", "type": "synced"}],
            )
        account.balance = changes["balance"]
        account.balance_at = utcnow() if changes["balance"] is not None else None
    for name in ("name", "institution"):
        if name in changes:
            setattr(account, name, changes[name])
    session.flush()
    return account


def delete_account(*, session: Session, account: BankAccount) -> None:
    """Delete a hand-kept account with its transactions; a synced one goes with its connection (409)."""
    if account.account_id is not None:
        raise Conflict(
            "This account is synced from a connection: delete the connection instead.", code="synced_account"
        )
    own = select(Transaction.id).where(Transaction.bank_account_id == account.id).scalar_subquery()
    # Transfer peers in other accounts stop being transfers (the FK would only null their peer id).
    session.execute(
        update(Transaction)
        .where(
            Transaction.workspace_id == account.workspace_id,
            Transaction.bank_account_id != account.id,
            Transaction.transfer_peer_id.in_(own),
        )
        .values(is_transfer=False, transfer_peer_id=None)
        .execution_options(synchronize_session=False)
    )
    had_rows = (
        session.scalar(select(func.count()).select_from(Transaction).where(Transaction.bank_account_id == account.id))
        or 0
    )
    session.delete(account)  # its transactions and import batches go by ON DELETE CASCADE
    session.flush()
    session.expire_all()  # the cascade happened in the database: forget loaded transactions
    if had_rows:
        alert_marks.mark(session, [account.workspace_id])


def totals(accounts: list[BankAccount]) -> list[CurrencyTotal]:
    """Balances added up per currency (never across currencies); unknown balances count as nothing."""
    by_currency: dict[str, list[BankAccount]] = {}
    for account in accounts:
        by_currency.setdefault(account.currency, []).append(account)
    out = []
    for currency in sorted(by_currency):
        group = by_currency[currency]
        out.append(
            CurrencyTotal(
                currency=currency,
                balance=sum((a.balance for a in group if a.balance is not None), Decimal(0)),
                available_balance=sum(
                    (a.available_balance for a in group if a.available_balance is not None), Decimal(0)
                ),
                accounts=len(group),
            )
        )
    return out
