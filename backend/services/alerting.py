"""Alert evaluation: every rule kind's evaluator turns the data into observations, `alert_state.apply` turns
those into transitions, events and outbox rows — in the caller's transaction.

Evaluators take `(*, session, now, workspace_ids=None)` and return observations. They build message links with
backend.services.alert_links (not from here: this module imports the evaluators).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Collection
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from backend.models import AlertState
from backend.services import alert_links
from backend.services.alert_links import LinkSettings, mute_token, read_mute_token
from backend.services.alert_state import ApplyResult, Observation, apply
from backend.services.anomaly import evaluate_anomalies
from backend.services.budget_spend import BudgetRow, Figures, cents, figures, group_key, load_budgets, top_contributors
from backend.services.periods import Period
from backend.services.sync_health import evaluate_sync_health

__all__ = ["EVALUATORS", "evaluate", "evaluate_budgets", "mute_token", "read_mute_token"]

Evaluator = Callable[..., list[Observation]]
DEFAULT_THRESHOLDS: list[dict[str, Any]] = [{"type": "percent", "value": v} for v in ("50", "80", "100")]
BASES = {"actual": ("actual",), "forecast": ("forecast",), "both": ("actual", "forecast")}
EVENT_TYPES = {"actual": "budget.threshold_crossed", "forecast": "budget.forecast_exceeded"}
RESOLVED_TYPE = "budget.resolved"
# Serializes evaluations on PostgreSQL (the minute job and a post-sync run): two would race on new state rows.
ADVISORY_LOCK_KEY = 0x5350_414C  # "SPAL"


def threshold_level(threshold: dict[str, Any], amount: Decimal) -> Decimal:
    """The spend at which THRESHOLD fires: a percentage of AMOUNT, or an absolute amount."""
    value = Decimal(str(threshold["value"]))
    return amount * value / 100 if threshold["type"] == "percent" else value


def threshold_key(basis: str, threshold: dict[str, Any]) -> str:
    """Stable within a rule: 'actual:80%', 'forecast:400.00'."""
    value = Decimal(str(threshold["value"]))
    if threshold["type"] == "percent":
        return f"{basis}:{value.normalize():f}%"
    return f"{basis}:{value.quantize(Decimal('0.01')):f}"


def threshold_value(threshold: dict[str, Any]) -> str:
    value = Decimal(str(threshold["value"]))
    return f"{value.normalize():f}" if threshold["type"] == "percent" else cents(value)


def percent_of(spent: Decimal, amount: Decimal) -> str:
    """SPENT as a percentage of AMOUNT, one decimal."""
    if amount <= 0:
        return "0.0"
    return str((spent * 100 / amount).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def budget_payload(
    rule: BudgetRow,
    period: Period,
    figures_: Figures,
    threshold: dict[str, Any],
    basis: str,
    contributors: list[dict[str, str]],
    links: dict[str, str | None],
) -> dict[str, Any]:
    """The message figures of a budget event (the contract the email and webhook renderers read)."""
    return {
        "rule": {"id": rule.id, "name": rule.name, "kind": "budget"},
        "period": {
            "key": period.key,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "timezone": rule.timezone,
        },
        "threshold": {"type": threshold["type"], "value": threshold_value(threshold), "basis": basis},
        "spent": cents(figures_.spent),
        "budget": cents(rule.amount),
        "currency": rule.currency,
        "percent": percent_of(figures_.spent, rule.amount),
        "forecast": cents(figures_.forecast),
        "top_contributors": contributors,
        "links": links,
    }


def _firing_states(session: Session, rule_ids: list[int], period_keys: set[str]) -> set[tuple[int, str, str]]:
    """(rule, period, threshold) keys firing now, to find the rules whose state is about to change."""
    rows = session.execute(
        select(AlertState.rule_id, AlertState.period_key, AlertState.threshold_key).where(
            AlertState.state == "firing",
            AlertState.period_key.in_(sorted(period_keys)),
            AlertState.rule_id.in_(rule_ids),
        )
    )
    return {(r, p, t) for r, p, t in rows}


def evaluate_budgets(
    *, session: Session, now: dt.datetime, workspace_ids: Collection[int] | None = None
) -> list[Observation]:
    """One observation per (budget, threshold, basis), from one grouped spend query per period group."""
    rules = load_budgets(session=session, workspace_ids=workspace_ids)
    if not rules:
        return []
    links = alert_links.links(session)
    groups: dict[tuple[str, str, int], list[BudgetRow]] = defaultdict(list)
    for rule in rules:
        groups[group_key(rule)].append(rule)
    # Per rule: (period, figures, [(threshold, basis, key, level, firing)]).
    checks: list[tuple[tuple[str, str, int], BudgetRow, Period, Figures, list[tuple[Any, ...]]]] = []
    for key, members in groups.items():
        period, by_rule = figures(session=session, key=key, now=now, workspace_ids=workspace_ids)
        for rule in members:
            fig = by_rule.get(rule.id, Figures(Decimal(0), Decimal(0)))
            items = []
            for threshold in rule.params.get("thresholds") or DEFAULT_THRESHOLDS:
                level = threshold_level(threshold, rule.amount)
                for basis in BASES[rule.params.get("basis", "actual")]:
                    seen = fig.spent if basis == "actual" else fig.forecast
                    items.append((threshold, basis, threshold_key(basis, threshold), level, seen >= level, seen))
            checks.append((key, rule, period, fig, items))
    # Top contributors only for the rules whose state may change (or repeat): not for the steady majority.
    firing_now: dict[tuple[int, str], set[tuple[int, str, str]]] = defaultdict(set)
    for state in _firing_states(session, [r.id for r in rules], {c[2].key for c in checks}) if checks else ():
        firing_now[state[:2]].add(state)  # by (rule, period): one lookup per rule, not a scan of every state
    wanted: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    for key, rule, period, _fig, items in checks:
        observed = {(rule.id, period.key, item[2]) for item in items if item[4]}
        stored = firing_now.get((rule.id, period.key), set())
        if observed != stored or (rule.repeat_minutes and observed):
            wanted[key].append(rule.id)
    contributors: dict[int, list[dict[str, str]]] = {}
    for key, rule_ids in wanted.items():
        period = next(c[2] for c in checks if c[0] == key)
        contributors.update(top_contributors(session=session, key=key, period=period, rule_ids=rule_ids))
    observations = []
    for _key, rule, period, fig, items in checks:
        for threshold, basis, tkey, level, firing, seen in items:
            observations.append(
                Observation(
                    rule_id=rule.id,
                    workspace_id=rule.workspace_id,
                    period_key=period.key,
                    threshold_key=tkey,
                    firing=firing,
                    rank=level,
                    value=seen,
                    event_type=EVENT_TYPES[basis],
                    resolved_type=RESOLVED_TYPE,
                    payload_factory=functools.partial(
                        _payload, links, rule, period, fig, threshold, basis, contributors.get(rule.id, [])
                    ),
                )
            )
    return observations


def _payload(
    links: alert_links.Links,
    rule: BudgetRow,
    period: Period,
    fig: Figures,
    threshold: dict[str, Any],
    basis: str,
    contributors: list[dict[str, str]],
) -> dict[str, Any]:
    return budget_payload(rule, period, fig, threshold, basis, contributors, links.for_rule(rule))


EVALUATORS: dict[str, Evaluator] = {
    "budget": evaluate_budgets,
    "anomaly": evaluate_anomalies,
    "sync_health": evaluate_sync_health,
}


# Evaluators that depend on the clock (sync health: data older than H hours) run on every tick; the others only
# see a change when the data, the rules or the local date change (backend.services.alert_marks).
CLOCK_DRIVEN = frozenset({"sync_health"})


def lock(session: Session) -> None:
    """Serialize evaluations on PostgreSQL until SESSION's transaction ends (re-entrant within it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def evaluate(
    *,
    session: Session,
    now: dt.datetime,
    workspace_ids: Collection[int] | None = None,
    changed: Collection[int] | None = None,
    link_settings: LinkSettings | None = None,
) -> ApplyResult:
    """Run every evaluator over WORKSPACE_IDS (None = all) and apply their observations (in SESSION's
    transaction; the caller commits). CHANGED, when given, limits the data-driven evaluators to those workspaces."""
    lock(session)
    with alert_links.using(link_settings or LinkSettings()):
        observations: list[Observation] = []
        for name, evaluator in EVALUATORS.items():
            scope = workspace_ids
            if changed is not None and name not in CLOCK_DRIVEN:
                scope = set(changed) if workspace_ids is None else set(changed) & set(workspace_ids)
                if not scope:
                    continue
            observations.extend(evaluator(session=session, now=now, workspace_ids=scope))
        return apply(session=session, observations=observations, now=now)
