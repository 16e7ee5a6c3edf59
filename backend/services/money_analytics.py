"""Money analytics over bank transactions: spend per month and category, income and expense per month, and the
merchants money goes to. Grouped in SQL; amounts are never added across currencies.

Definitions: transfers between the workspace's accounts (is_transfer), excluded and pending transactions count in
none of them. Spend is money out, -sum(negative amounts); income is money in, sum(positive amounts); a refund is
income, it does not lower the spend. Months are calendar months of the posting date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal_column, select
from sqlalchemy.orm import Session

from backend.models import Category, Transaction
from backend.services.budget_spend import money
from backend.services.transactions import shown


@dataclass
class CategoryRow:
    """Spend of one category in one month and currency: its own, and with its children (a parent's roll-up)."""

    month: str
    currency: str
    category_id: int | None
    parent_id: int | None
    day: dt.date | None = None  # by_day only
    spend: Decimal = Decimal(0)
    count: int = 0
    total: Decimal = Decimal(0)
    total_count: int = 0


def month_expr(session: Session) -> ColumnElement[str]:
    """YYYY-MM of posted_on, in the dialect at hand (calendar dates: no time zone involved)."""
    # Literal formats, not bound parameters: PostgreSQL matches a GROUP BY expression to the selected one only when
    # they are the same text, and two renderings of one bound value are two different parameters.
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(Transaction.posted_on, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), Transaction.posted_on)


def counted(workspace_id: int, start: dt.date, end: dt.date) -> list[ColumnElement[bool]]:
    """The transactions analytics count: the workspace's, in [START, END], neither transfer, excluded nor pending."""
    return [
        Transaction.workspace_id == workspace_id,
        Transaction.posted_on >= start,
        Transaction.posted_on <= end,
        Transaction.is_transfer.is_(False),
        Transaction.excluded.is_(False),
        Transaction.pending.is_(False),
    ]


def spending_by_category(
    *, session: Session, workspace_id: int, start: dt.date, end: dt.date, by_day: bool = False
) -> list[CategoryRow]:
    """Spend per month (BY_DAY: per posting date), currency and category (uncategorized: None); parents also get their
    children's spend in `total`, with a row of their own even when nothing was put in the parent directly."""
    month = month_expr(session).label("month")
    days = [Transaction.posted_on] if by_day else []
    stmt = (
        select(month, *days, Transaction.currency, Transaction.category_id, func.sum(Transaction.amount), func.count())
        .where(*counted(workspace_id, start, end), Transaction.amount < 0)
        .group_by(month, *days, Transaction.currency, Transaction.category_id)
    )
    family = select(Category.id, Category.parent_id).where(Category.workspace_id == workspace_id)
    parents = {cid: parent for cid, parent in session.execute(family)}
    rows: dict[tuple[str, dt.date | None, str, int | None], CategoryRow] = {}

    def row_for(key: tuple[str, dt.date | None, str, int | None]) -> CategoryRow:
        if key not in rows:
            parent = parents.get(key[3]) if key[3] is not None else None
            rows[key] = CategoryRow(month=key[0], day=key[1], currency=key[2], category_id=key[3], parent_id=parent)
        return rows[key]

    for found in session.execute(stmt):
        values: tuple[Any, ...] = tuple(found)  # with or without the day column
        month_value, day = values[0], (values[1] if by_day else None)
        currency, category_id, amount, count = values[-4:]
        spend = -money(amount)
        own = row_for((str(month_value), day, str(currency), category_id))
        own.spend += spend
        own.count += int(count)
        own.total += spend
        own.total_count += int(count)
        if own.parent_id is not None:  # one level of nesting: the parent's roll-up
            parent = row_for((own.month, own.day, own.currency, own.parent_id))
            parent.total += spend
            parent.total_count += int(count)
    out = sorted(rows.values(), key=lambda r: (r.month, r.day or dt.date.min, r.currency, -r.total, r.category_id or 0))
    for item in out:
        item.spend, item.total = shown(item.spend), shown(item.total)
    return out


def _months(start: dt.date, end: dt.date) -> list[str]:
    out = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def income_expense(*, session: Session, workspace_id: int, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Per month and currency: income, expense (spend) and net; every month of the range for each currency seen."""
    month = month_expr(session).label("month")
    stmt = (
        select(
            month,
            Transaction.currency,
            func.sum(case((Transaction.amount > 0, Transaction.amount), else_=0)),
            func.sum(case((Transaction.amount < 0, Transaction.amount), else_=0)),
            func.count(),
        )
        .where(*counted(workspace_id, start, end))
        .group_by(month, Transaction.currency)
    )
    found: dict[tuple[str, str], tuple[Decimal, Decimal, int]] = {}
    for month_value, currency, income, outflow, count in session.execute(stmt):
        found[(str(month_value), str(currency))] = (money(income), -money(outflow), int(count))
    currencies = sorted({currency for _, currency in found})
    items = []
    for month_key in _months(start, end):
        for currency in currencies:
            income, expense, count = found.get((month_key, currency), (Decimal(0), Decimal(0), 0))
            items.append(
                {
                    "month": month_key,
                    "currency": currency,
                    "income": shown(income),
                    "expense": shown(expense),
                    "net": shown(income - expense),
                    "count": count,
                }
            )
    return items


def top_merchants(
    *, session: Session, workspace_id: int, start: dt.date, end: dt.date, limit: int
) -> list[dict[str, Any]]:
    """The LIMIT merchants (else descriptions) with the most spend, per currency, biggest first."""
    label = func.coalesce(func.nullif(Transaction.merchant, literal_column("''")), Transaction.description).label(
        "merchant"
    )
    where = [*counted(workspace_id, start, end), Transaction.amount < 0]
    currencies = session.scalars(select(Transaction.currency).where(*where).distinct().order_by(Transaction.currency))
    items: list[dict[str, Any]] = []
    for currency in list(currencies):
        total = func.sum(Transaction.amount)
        stmt = (
            select(label, func.sum(Transaction.amount), func.count())
            .where(*where, Transaction.currency == currency)
            .group_by(label)
            # Most money out first: the most negative sum; ties by name for a stable order.
            .order_by(total.asc(), label.asc())
            .limit(limit)
        )
        for merchant, amount, count in session.execute(stmt):
            items.append(
                {"merchant": str(merchant), "currency": currency, "spend": shown(-money(amount)), "count": int(count)}
            )
    return items
