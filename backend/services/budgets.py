"""Budgets: alert rules of kind "budget" — create, read, update, delete, and their current figures."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.errors import Invalid, NotFound
from backend.models import AlertRule, AlertState, BankAccount, Category, ProviderAccount
from backend.services import rule_channels
from backend.services.alerting import BASES, DEFAULT_THRESHOLDS, threshold_key, threshold_level, threshold_value
from backend.services.budget_spend import BudgetRow, Figures, cents, figures, group_key, load_budgets
from backend.services.periods import WEEKDAYS, Period

KIND = "budget"


# Scope fields that name a row of the workspace: (model, what it is called in messages).
SCOPE_ROWS: dict[str, tuple[type[ProviderAccount] | type[Category] | type[BankAccount], str]] = {
    "account_id": (ProviderAccount, "account"),
    "category_id": (Category, "category"),
    "bank_account_id": (BankAccount, "bank account"),
}


def _check_scope(
    session: Session, workspace_id: int, scope: dict[str, Any] | None, loc: tuple[str, ...] = ("scope",)
) -> None:
    """Every id in SCOPE names a row of this workspace (another workspace's row gets the same answer as none);
    the 422 points at the field (LOC is where the scope's fields sit in the request body)."""
    for field, (model, label) in SCOPE_ROWS.items():
        value = (scope or {}).get(field)
        if value is None:
            continue
        found = session.scalar(select(model.id).where(model.id == value, model.workspace_id == workspace_id))
        if found is None:
            kind = "unknown_" + label.replace(" ", "_")
            raise Invalid(
                f"{'.'.join([*loc, field])} is not a {label} of this workspace.",
                details=[{"loc": [*loc, field], "msg": f"not a {label} of this workspace", "type": kind}],
            )


def _thresholds(items: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """Thresholds as stored: values as strings (JSON keeps no Decimal)."""
    return [{"type": t["type"], "value": f"{Decimal(t['value']).normalize():f}"} for t in items or DEFAULT_THRESHOLDS]


def _apply_changes(rule: AlertRule, data: dict[str, Any]) -> None:
    if "scope" in data:
        scope = data["scope"] or {}
        rule.scope_provider = scope.get("provider")
        rule.scope_account_id = scope.get("account_id")
        rule.scope_model = scope.get("model")
        rule.scope_project = scope.get("project")
        rule.scope_category_id = scope.get("category_id")
        rule.scope_bank_account_id = scope.get("bank_account_id")
    for name in ("name", "period", "amount", "currency", "muted", "notify_on_resolve"):
        if data.get(name) is not None:
            setattr(rule, name, data[name])
    for name in ("snoozed_until", "repeat_minutes"):  # null is a value here: it clears
        if name in data:
            setattr(rule, name, data[name])
    if data.get("week_start") is not None:
        rule.week_start = WEEKDAYS.index(data["week_start"])
    params = dict(rule.params or {})
    if "thresholds" in data and data["thresholds"] is not None:
        params["thresholds"] = _thresholds(data["thresholds"])
    if data.get("basis") is not None:
        params["basis"] = data["basis"]
    params.setdefault("thresholds", _thresholds(None))
    params.setdefault("basis", "actual")
    rule.params = params  # a new dict: JSON columns only notice reassignment


def list_budgets(*, session: Session, workspace_id: int) -> list[AlertRule]:
    """The workspace's budgets, oldest first."""
    stmt = select(AlertRule).where(AlertRule.workspace_id == workspace_id, AlertRule.kind == KIND)
    return list(session.scalars(stmt.order_by(AlertRule.id)))


def get_budget(*, session: Session, workspace_id: int, rule_id: int) -> AlertRule:
    """One budget of the workspace, or 404 (also for another workspace's rule or a rule of another kind)."""
    rule = session.scalar(
        select(AlertRule).where(AlertRule.id == rule_id, AlertRule.workspace_id == workspace_id, AlertRule.kind == KIND)
    )
    if rule is None:
        raise NotFound("No such budget in this workspace.")
    return rule


def create_budget(*, session: Session, workspace_id: int, data: dict[str, Any]) -> AlertRule:
    """Validate the references (account, channels) and store a budget with its channels."""
    _check_scope(session, workspace_id, data.get("scope"))
    rule_channels.check_channels(session, workspace_id, data.get("channels") or [])
    rule = AlertRule(workspace_id=workspace_id, kind=KIND, params={})
    _apply_changes(rule, data)
    session.add(rule)
    session.flush()
    rule_channels.set_channels(session, rule, data.get("channels") or [])
    session.flush()
    return rule


def update_budget(*, session: Session, rule: AlertRule, changes: dict[str, Any]) -> AlertRule:
    """Change a budget; scope, thresholds and channels are replaced when given."""
    if "scope" in changes:
        _check_scope(session, rule.workspace_id, changes["scope"])
    if changes.get("channels") is not None:
        rule_channels.check_channels(session, rule.workspace_id, changes["channels"])
    _apply_changes(rule, changes)
    if changes.get("channels") is not None:
        rule_channels.set_channels(session, rule, changes["channels"])
    session.flush()
    return rule


def delete_budget(*, session: Session, rule: AlertRule) -> None:
    """Delete a budget and its states; the alerts it fired stay in the history (rule_id becomes null)."""
    session.delete(rule)
    session.flush()


def status(*, session: Session, rule: AlertRule, now: dt.datetime) -> dict[str, Any]:
    """The budget's current period, spent, remaining, percent, forecast and each threshold's state."""
    return statuses(session=session, workspace_id=rule.workspace_id, rule_ids=[rule.id], now=now)[rule.id]


def statuses(
    *, session: Session, workspace_id: int, rule_ids: Sequence[int], now: dt.datetime
) -> dict[int, dict[str, Any]]:
    """`status` of each budget of RULE_IDS (of WORKSPACE_ID): one spend query per period group, one state query."""
    session.flush()
    rows = load_budgets(session=session, workspace_ids=[workspace_id], rule_ids=rule_ids) if rule_ids else []
    groups: dict[tuple[str, str, int], list[BudgetRow]] = defaultdict(list)
    for row in rows:
        groups[group_key(row)].append(row)
    periods: dict[int, Period] = {}
    spend: dict[int, Figures] = {}
    for key, members in groups.items():
        # The evaluator's own grouped query (budget_spend.figures), limited to these rules: the same figures.
        ids = [m.id for m in members]
        period, by_rule = figures(session=session, key=key, now=now, workspace_ids=[workspace_id], rule_ids=ids)
        for rule_id in ids:
            periods[rule_id] = period
            spend[rule_id] = by_rule.get(rule_id, Figures(Decimal(0), Decimal(0)))
    states: dict[int, dict[str, AlertState]] = defaultdict(dict)
    if rows:
        found = session.scalars(
            select(AlertState).where(
                AlertState.workspace_id == workspace_id,
                AlertState.rule_id.in_([row.id for row in rows]),
                AlertState.period_key.in_(sorted({p.key for p in periods.values()})),
            )
        )
        for state in found:
            # The IN list holds every group's current key: keep only each rule's own current period.
            if state.period_key == periods[state.rule_id].key:
                states[state.rule_id][state.threshold_key] = state
    return {row.id: _status_of(row, periods[row.id], spend[row.id], states[row.id]) for row in rows}


def _status_of(row: BudgetRow, period: Period, fig: Figures, states: dict[str, AlertState]) -> dict[str, Any]:
    thresholds = []
    for threshold in row.params.get("thresholds") or DEFAULT_THRESHOLDS:
        for basis in BASES[row.params.get("basis", "actual")]:
            key = threshold_key(basis, threshold)
            state = states.get(key)
            thresholds.append(
                {
                    "type": threshold["type"],
                    "value": threshold_value(threshold),
                    "basis": basis,
                    "key": key,
                    "level": Decimal(cents(threshold_level(threshold, row.amount))),
                    "state": state.state if state else "ok",
                    "since": state.changed_at if state else None,
                }
            )
    percent = (fig.spent * 100 / row.amount).quantize(Decimal("0.1")) if row.amount > 0 else Decimal(0)
    return {
        "period": {"key": period.key, "start": period.start, "end": period.end, "timezone": row.timezone},
        "spent": fig.spent,
        "remaining": max(row.amount - fig.spent, Decimal(0)),
        "percent": percent,
        "forecast": fig.forecast,
        "thresholds": thresholds,
    }


def _cents(value: Decimal) -> Decimal:
    return Decimal(cents(value))


def covering(
    *, session: Session, workspace_id: int, category_id: int | None, bank_account_id: int | None, currency: str
) -> list[AlertRule]:
    """The money budgets a purchase in CATEGORY_ID (from BANK_ACCOUNT_ID) would count against."""
    # /api/budgets/check takes these fields at the top level of its body: errors point there.
    _check_scope(session, workspace_id, {"category_id": category_id, "bank_account_id": bank_account_id}, loc=())
    categories: set[int | None] = {None}
    if category_id is not None:
        parent = session.scalar(select(Category.parent_id).where(Category.id == category_id))
        categories |= {category_id, parent}
    rules = session.scalars(
        select(AlertRule)
        .where(
            AlertRule.workspace_id == workspace_id,
            AlertRule.kind == KIND,
            AlertRule.currency == currency,
            or_(AlertRule.scope_category_id.is_not(None), AlertRule.scope_bank_account_id.is_not(None)),
        )
        .order_by(AlertRule.id)
    ).all()
    return [
        r
        for r in rules
        # A budget on a category covers it and its subcategories; on an account, what is paid from it.
        if r.scope_category_id in categories
        and (r.scope_bank_account_id is None or r.scope_bank_account_id == bank_account_id)
        and (r.scope_category_id is not None or bank_account_id is not None)
    ]


def afford(
    *,
    session: Session,
    workspace_id: int,
    category_id: int | None,
    bank_account_id: int | None,
    amount: Decimal,
    currency: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """Whether spending AMOUNT fits every budget covering it: remaining before and after, and the thresholds it
    would make fire (actual spend, and forecast for budgets with a forecast basis)."""
    results = []
    for rule in covering(
        session=session,
        workspace_id=workspace_id,
        category_id=category_id,
        bank_account_id=bank_account_id,
        currency=currency,
    ):
        figures_now = status(session=session, rule=rule, now=now)
        spent, forecast, budget = figures_now["spent"], figures_now["forecast"], Decimal(rule.amount or 0)
        before = {"actual": spent, "forecast": forecast}
        after = {"actual": spent + amount, "forecast": forecast + amount}
        # Crossed by this purchase: below the level now (whatever the last evaluation recorded), at or above after.
        crossing = [
            {k: t[k] for k in ("key", "type", "value", "basis", "level")}
            for t in figures_now["thresholds"]
            if before[t["basis"]] < t["level"] <= after[t["basis"]]
        ]
        results.append(
            {
                "id": rule.id,
                "name": rule.name,
                "period": figures_now["period"],
                "amount": _cents(budget),
                "spent": _cents(spent),
                "remaining": _cents(figures_now["remaining"]),
                "remaining_after": _cents(budget - after["actual"]),
                "percent_after": (after["actual"] * 100 / budget).quantize(Decimal("0.1"))
                if budget > 0
                else Decimal(0),
                "fits": after["actual"] <= budget,
                "would_cross": crossing,
            }
        )
    fits = all(r["fits"] for r in results)
    if not results:
        message = "No budget covers this; nothing to break."
    elif fits:
        message = "It fits every budget that covers it."
    else:
        over = [r["name"] for r in results if not r["fits"]]
        message = f"It would go over: {', '.join(over)}."
    return {"fits": fits, "amount": amount, "currency": currency, "budgets": results, "message": message}
