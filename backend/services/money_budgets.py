"""Money budgets: budget rules scoped to a category and/or a bank account count bank transactions, set-based like the
AI budgets (one grouped query per period group), plus the recurring charges still due for their forecast.

Spend of a category scope = money out minus refunds in that category and its subcategories (-SUM(amount));
spend of an account-only scope = money out only (its income is not "negative spending"). Transfers between the
workspace's own accounts and transactions excluded from budgets never count; pending ones do (they are money
already committed, and their posted version replaces them). Only transactions in the budget's currency count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from backend.models import AlertRule, Category, Transaction, Workspace
from backend.services import recurring
from backend.services.amounts import money
from backend.services.periods import Period


def is_money(rule: AlertRule) -> bool:
    """Whether RULE counts bank transactions (a category or bank account scope) rather than AI usage."""
    return rule.scope_category_id is not None or rule.scope_bank_account_id is not None


def _money_rule() -> ColumnElement[bool]:
    return or_(AlertRule.scope_category_id.is_not(None), AlertRule.scope_bank_account_id.is_not(None))


def in_scope(lo: dt.date, hi: dt.date) -> ColumnElement[bool]:
    """Transactions of a money rule's scope dated in [LO, HI]."""
    r, t = AlertRule, Transaction
    child = aliased(Category)
    children = select(child.id).where(child.parent_id == r.scope_category_id).correlate(r)
    return and_(
        t.workspace_id == r.workspace_id,
        t.currency == r.currency,
        t.is_transfer.is_(False),
        t.excluded.is_(False),
        or_(r.scope_bank_account_id.is_(None), t.bank_account_id == r.scope_bank_account_id),
        or_(r.scope_category_id.is_(None), t.category_id == r.scope_category_id, t.category_id.in_(children)),
        t.posted_on >= lo,
        t.posted_on <= hi,
    )


def spend_expr() -> ColumnElement[Decimal]:
    """A transaction's contribution to a money rule's spend (see the module docstring)."""
    t, r = Transaction, AlertRule
    outflow = case((t.amount < 0, -t.amount), else_=0)
    return case((r.scope_category_id.is_(None), outflow), else_=-t.amount)


def sums(
    session: Session, conditions: Sequence[ColumnElement[bool]], period: Period, window: tuple[dt.date, dt.date]
) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    """(spent this period, spent in the run-rate WINDOW, recurring charges still due this period) of every money
    rule selected by CONDITIONS: one grouped query, then the recurring charges of each rule's scope."""
    r, t = AlertRule, Transaction
    amount = spend_expr()
    w0, w1 = window
    stmt = (
        select(r.id, r.workspace_id, r.scope_category_id, r.scope_bank_account_id, r.currency)
        .add_columns(
            func.sum(case((t.posted_on >= period.start, amount), else_=0)),
            func.sum(case((and_(t.posted_on >= w0, t.posted_on <= w1), amount), else_=0)),
        )
        .select_from(r)
        .join(Workspace, Workspace.id == r.workspace_id)
        .outerjoin(t, in_scope(min(period.start, w0), period.end))
        .where(*conditions, _money_rule())
        .group_by(r.id, r.workspace_id, r.scope_category_id, r.scope_bank_account_id, r.currency)
    )
    rows = session.execute(stmt).all()
    children = _children(session, {int(row[2]) for row in rows if row[2] is not None})
    out: dict[int, tuple[Decimal, Decimal, Decimal]] = {}
    # Recurring detection reads a workspace's whole year of transactions: once per workspace, not per rule.
    found: dict[int, list[recurring.FoundStream]] = {}
    for rule_id, workspace_id, category_id, bank_account_id, currency, spent, in_window in rows:
        if workspace_id not in found:
            found[workspace_id] = recurring.find_streams(session, workspace_id, period.today, include_excluded=False)
        due = recurring.due_from(
            found[workspace_id],
            period.start,
            period.end,
            period.today,
            category_ids=None if category_id is None else {category_id, *children.get(category_id, ())},
            bank_account_id=bank_account_id,
            currency=currency,
        )
        out[rule_id] = (money(spent), money(in_window), due)
    return out


def _children(session: Session, parents: set[int]) -> dict[int, set[int]]:
    """Subcategory ids of each of PARENTS (nesting is one level deep)."""
    out: dict[int, set[int]] = defaultdict(set)
    if parents:
        rows = session.execute(select(Category.id, Category.parent_id).where(Category.parent_id.in_(sorted(parents))))
        for child, parent in rows:
            if parent is not None:
                out[parent].add(child)
    return out


def top_contributors(
    session: Session, conditions: Sequence[ColumnElement[bool]], period: Period, limit: int
) -> dict[int, list[tuple[str, str, Decimal]]]:
    """The top merchants and categories of each money rule in PERIOD: (dimension, name, spend)."""
    r, t = AlertRule, Transaction
    amount = func.sum(spend_expr())
    merchant = func.coalesce(func.nullif(t.merchant, ""), t.description)
    out: dict[int, list[tuple[str, str, Decimal]]] = defaultdict(list)
    for dimension, label, extra in (
        ("merchant", merchant, None),
        ("category", func.coalesce(Category.name, "Uncategorized"), Category),
    ):
        stmt = (
            select(r.id, label, amount)
            .select_from(r)
            .join(Workspace, Workspace.id == r.workspace_id)
            .join(t, in_scope(period.start, period.end))
            .where(*conditions, _money_rule())
            .group_by(r.id, label)
        )
        if extra is not None:
            stmt = stmt.outerjoin(Category, Category.id == t.category_id)
        per_rule: dict[int, list[tuple[Decimal, str]]] = defaultdict(list)
        for rule_id, name, total in session.execute(stmt):
            if money(total) > 0:
                per_rule[rule_id].append((money(total), str(name or "(none)")))
        for rule_id, items in per_rule.items():
            items.sort(key=lambda item: (-item[0], item[1]))
            out[rule_id].extend((dimension, n, c) for c, n in items[:limit])
    return out
