"""Set-based spend figures of budget rules: one grouped query per (period, timezone, week start), not per rule."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from backend.models import AlertRule, DailySpend, ProviderAccount, Workspace
from backend.services import money_budgets
from backend.services.amounts import cents, money
from backend.services.forecast import project, run_rate_window
from backend.services.periods import Period, current_period

TOP_N = 3


@dataclass(frozen=True)
class BudgetRow:
    """A budget rule as evaluation reads it (with its workspace's timezone)."""

    id: int
    workspace_id: int
    name: str
    period: str
    week_start: int
    timezone: str
    amount: Decimal
    currency: str
    params: dict[str, Any]
    repeat_minutes: int | None
    link_nonce: str  # for the mute link (backend.services.alert_links)


@dataclass(frozen=True)
class Figures:
    spent: Decimal
    forecast: Decimal


def _scope_join(lo: dt.date, hi: dt.date, r: Any = AlertRule) -> ColumnElement[bool]:
    """daily_spend rows of a rule's scope (a NULL scope column matches anything) in [LO, HI]; R: the rules' columns
    (AlertRule, or a subquery's `.c` with the same names)."""
    d = DailySpend
    return and_(
        d.workspace_id == r.workspace_id,
        d.currency == r.currency,
        r.scope_category_id.is_(None),  # money budgets count transactions, not AI usage
        r.scope_bank_account_id.is_(None),
        or_(r.scope_provider.is_(None), d.provider == r.scope_provider),
        or_(r.scope_account_id.is_(None), d.account_id == r.scope_account_id),
        or_(r.scope_model.is_(None), d.model == r.scope_model),
        or_(r.scope_project.is_(None), d.project == r.scope_project),
        d.day >= lo,
        d.day <= hi,
    )


SCOPE_COLUMNS = (
    AlertRule.scope_category_id,
    AlertRule.scope_bank_account_id,
    AlertRule.scope_provider,
    AlertRule.scope_account_id,
    AlertRule.scope_model,
    AlertRule.scope_project,
)


def group_filter(
    period: str, timezone: str, week_start: int, workspace_ids: Collection[int] | None, rule_ids: Sequence[int] | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        AlertRule.kind == "budget",
        AlertRule.period == period,
        Workspace.timezone == timezone,
    ]
    if period == "week":  # other periods ignore week_start (group_key puts them all in one group)
        conditions.append(AlertRule.week_start == week_start)
    if workspace_ids is not None:
        conditions.append(AlertRule.workspace_id.in_(sorted(workspace_ids)))
    if rule_ids is not None:
        conditions.append(AlertRule.id.in_(list(rule_ids)))
    return conditions


def load_budgets(
    *, session: Session, workspace_ids: Collection[int] | None = None, rule_ids: Sequence[int] | None = None
) -> list[BudgetRow]:
    """Every budget rule (of WORKSPACE_IDS, or the given RULE_IDS), in one query."""
    stmt = (
        select(
            AlertRule.id,
            AlertRule.workspace_id,
            AlertRule.name,
            AlertRule.period,
            AlertRule.week_start,
            Workspace.timezone,
            AlertRule.amount,
            AlertRule.currency,
            AlertRule.params,
            AlertRule.repeat_minutes,
            AlertRule.link_nonce,
        )
        .join(Workspace, Workspace.id == AlertRule.workspace_id)
        .where(AlertRule.kind == "budget", AlertRule.period.is_not(None), AlertRule.amount.is_not(None))
        .order_by(AlertRule.id)
    )
    if workspace_ids is not None:
        stmt = stmt.where(AlertRule.workspace_id.in_(sorted(workspace_ids)))
    if rule_ids is not None:
        stmt = stmt.where(AlertRule.id.in_(list(rule_ids)))
    return [
        BudgetRow(id, ws, name, period, week_start or 0, tz, money(amount), currency, params or {}, repeat, nonce)
        for id, ws, name, period, week_start, tz, amount, currency, params, repeat, nonce in session.execute(stmt)
    ]


def group_key(row: BudgetRow) -> tuple[str, str, int]:
    """Rules sharing a period, timezone and week start share their period's dates: one query serves them all."""
    return (row.period, row.timezone, row.week_start if row.period == "week" else 0)


def figures(
    *,
    session: Session,
    key: tuple[str, str, int],
    now: dt.datetime,
    workspace_ids: Collection[int] | None = None,
    rule_ids: Sequence[int] | None = None,
) -> tuple[Period, dict[int, Figures]]:
    """Spent and forecast of every budget rule of group KEY, from one grouped query over daily_spend."""
    period_name, timezone, week_start = key
    period = current_period(period_name, timezone=timezone, now=now, week_start=week_start)
    w0, w1 = run_rate_window(period.today)
    r, d = AlertRule, DailySpend
    # A period's local dates are read as UTC days (daily_spend is per UTC day); see docs/alerts.md.
    spent = func.sum(case((d.day >= period.start, d.cost), else_=0))
    window = func.sum(case((and_(d.day >= w0, d.day <= w1), d.cost), else_=0))
    # The group's rules are picked (with their workspace's timezone) before daily_spend is joined: joined in one
    # FROM, PostgreSQL expected one daily_spend row per rule and re-read the workspace for every one of them
    # (184,832 lookups for a year-long budget over 10M usage rows: 0.3 to 0.8 s instead of 0.15 to 0.2 s).
    picked = (
        select(r.id, r.workspace_id, r.currency, *SCOPE_COLUMNS)
        .join(Workspace, Workspace.id == r.workspace_id)
        .where(*group_filter(period_name, timezone, week_start, workspace_ids, rule_ids))
        .cte("picked")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    stmt = (
        select(picked.c.id, spent, window)
        .select_from(picked)
        .outerjoin(d, _scope_join(min(period.start, w0), period.end, picked.c))
        .group_by(picked.c.id)
    )
    out: dict[int, Figures] = {}
    for rule_id, spent_sum, window_sum in session.execute(stmt):
        s = money(spent_sum)
        out[rule_id] = Figures(s, project(spent=s, window_spend=money(window_sum), period=period))
    conditions = group_filter(period_name, timezone, week_start, workspace_ids, rule_ids)
    for rule_id, (spent_sum, window_sum, due) in money_budgets.sums(session, conditions, period, (w0, w1)).items():
        out[rule_id] = Figures(spent_sum, project(spent=spent_sum, window_spend=window_sum, period=period) + due)
    return period, out


def top_contributors(
    *, session: Session, key: tuple[str, str, int], period: Period, rule_ids: Sequence[int]
) -> dict[int, list[dict[str, str]]]:
    """The TOP_N models and TOP_N accounts of each rule's scope in PERIOD (two grouped queries for all RULE_IDS);
    for money budgets, the top merchants and categories."""
    out: dict[int, list[dict[str, str]]] = defaultdict(list)
    if not rule_ids:
        return out
    period_name, timezone, week_start = key
    conditions = group_filter(period_name, timezone, week_start, None, rule_ids)
    for rule_id, found in money_budgets.top_contributors(session, conditions, period, TOP_N).items():
        out[rule_id].extend({"dimension": dim, "name": name, "cost": cents(total)} for dim, name, total in found)
    period_name, timezone, week_start = key
    r, d = AlertRule, DailySpend
    base = group_filter(period_name, timezone, week_start, None, rule_ids)
    cost = func.sum(d.cost)
    for dimension, column, label in (
        ("model", d.model, d.model),
        ("account", d.account_id, ProviderAccount.name),
    ):
        stmt = (
            select(r.id, label, cost)
            .select_from(r)
            .join(Workspace, Workspace.id == r.workspace_id)
            .join(d, _scope_join(period.start, period.end))
            .where(*base)
            .group_by(r.id, column, label)
        )
        if dimension == "account":
            stmt = stmt.join(ProviderAccount, ProviderAccount.id == d.account_id)
        per_rule: dict[int, list[tuple[Decimal, str]]] = defaultdict(list)
        for rule_id, name, total in session.execute(stmt):
            per_rule[rule_id].append((money(total), str(name or "(none)")))
        for rule_id, items in per_rule.items():
            items.sort(key=lambda item: (-item[0], item[1]))
            out[rule_id].extend({"dimension": dimension, "name": n, "cost": cents(c)} for c, n in items[:TOP_N])
    return out
