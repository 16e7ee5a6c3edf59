"""Budgets: alert rules of kind "budget" — create, read, update, delete, and their current figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db import rls_bypass
from backend.errors import Invalid, NotFound
from backend.models import AlertRule, AlertState, ProviderAccount, Workspace
from backend.services import rule_channels
from backend.services.alerting import BASES, DEFAULT_THRESHOLDS, threshold_key, threshold_level, threshold_value
from backend.services.budget_spend import cents, figures, group_key, load_budgets
from backend.services.periods import WEEKDAYS

KIND = "budget"


def _check_account(session: Session, workspace_id: int, account_id: int | None) -> None:
    if account_id is None:
        return
    found = session.scalar(
        select(ProviderAccount.id).where(ProviderAccount.id == account_id, ProviderAccount.workspace_id == workspace_id)
    )
    if found is None:
        # The same answer for another workspace's account as for one that never existed.
        raise Invalid(
            "scope.account_id is not an account of this workspace.",
            details=[{"loc": ["scope", "account_id"], "msg": "unknown account", "type": "unknown_account"}],
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
    _check_account(session, workspace_id, (data.get("scope") or {}).get("account_id"))
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
        _check_account(session, rule.workspace_id, (changes["scope"] or {}).get("account_id"))
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


def mute_by_link(*, session: Session, rule_id: int) -> AlertRule | None:
    """Mute RULE_ID for the holder of a verified mute token (any workspace: the token is the authority)."""
    with rls_bypass(session):
        rule = session.get(AlertRule, rule_id)
        if rule is not None:
            rule.muted = True
            session.flush()
    return rule


def status(*, session: Session, rule: AlertRule, now: dt.datetime) -> dict[str, Any]:
    """The budget's current period, spent, remaining, percent, forecast and each threshold's state."""
    session.flush()
    [row] = load_budgets(session=session, rule_ids=[rule.id])
    period, by_rule = figures(session=session, key=group_key(row), now=now, rule_ids=[rule.id])
    fig = by_rule[rule.id]
    states = {
        s.threshold_key: s
        for s in session.scalars(
            select(AlertState).where(AlertState.rule_id == rule.id, AlertState.period_key == period.key)
        )
    }
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
    timezone = session.scalar(select(Workspace.timezone).where(Workspace.id == rule.workspace_id)) or "UTC"
    percent = (fig.spent * 100 / row.amount).quantize(Decimal("0.1")) if row.amount > 0 else Decimal(0)
    return {
        "period": {"key": period.key, "start": period.start, "end": period.end, "timezone": timezone},
        "spent": fig.spent,
        "remaining": max(row.amount - fig.spent, Decimal(0)),
        "percent": percent,
        "forecast": fig.forecast,
        "thresholds": thresholds,
    }
