"""Anomaly rules: a day's spend in a scope far above its own baseline (modified z-score on median/MAD).

The score of a day with spend x against the previous `baseline_days` complete UTC days (days without spend count
as 0) is, in the first case that applies:

1. MAD > 0: the modified z-score 0.6745·(x - median)/MAD (Iglewicz and Hoaglin);
2. MAD = 0 but the mean absolute deviation (around the median) is not: (x - median)/(1.2533·meanAD) — more than
   half of the baseline days are equal (a flat subscription), so the MAD says nothing about the spread of the
   others;
3. every baseline day equal: there is no spread at all, no score; any excess over the median counts.

A day fires when its excess over the median is at least `min_amount` (so cents never page anyone) AND, in cases
1-2, its score is above `z_threshold`, in case 3, its excess is above zero. Evaluated days: the most recent
complete UTC day, and today (its spend so far, against the same kind of baseline: the days before it), so a
runaway day alerts before it ends.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from backend.models import AlertRule, DailySpend
from backend.services import alert_links
from backend.services.alert_rules import AnomalyParams, rule_ref
from backend.services.alert_state import Observation

KIND = "anomaly"
EVENT_TYPE = "usage.anomaly"
RESOLVED_TYPE = "usage.anomaly_resolved"
THRESHOLD_KEY = "anomaly"

# 0.6745 = the 0.75 quantile of the standard normal: makes the MAD comparable to a standard deviation.
MAD_SCALE = Decimal("0.6745")
# 1.2533 = sqrt(pi/2): the mean absolute deviation times this estimates the standard deviation of normal data.
MEAN_AD_SCALE = Decimal("1.2533")
CENT = Decimal("0.01")


def median(values: Sequence[Decimal]) -> Decimal:
    """The median of a non-empty sequence (the mean of the two middle values when its length is even)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


@dataclass(frozen=True)
class Score:
    """How far one day is above its baseline, and whether that fires."""

    spent: Decimal
    median: Decimal
    mad: Decimal
    mean_ad: Decimal
    score: Decimal | None  # None when every baseline day is equal (no spread to measure against)
    method: str  # "mad" | "mean_ad" | "flat"
    firing: bool


def score_day(spent: Decimal, baseline: Sequence[Decimal], params: AnomalyParams) -> Score:
    """Score SPENT against BASELINE (one figure per day, zeros included); see the module docstring."""
    centre = median(baseline)
    deviations = [abs(v - centre) for v in baseline]
    mad = median(deviations)
    mean_ad = sum(deviations, Decimal(0)) / len(deviations)
    excess = spent - centre
    big_enough = excess > 0 and excess >= params.min_amount
    score: Decimal | None
    if mad > 0:
        score, method = MAD_SCALE * excess / mad, "mad"
        firing = big_enough and score > params.z_threshold
    elif mean_ad > 0:
        score, method = excess / (MEAN_AD_SCALE * mean_ad), "mean_ad"
        firing = big_enough and score > params.z_threshold
    else:
        score, method = None, "flat"
        firing = big_enough
    return Score(spent, centre, mad, mean_ad, score, method, firing)


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _daily_totals(
    session: Session, *, first: dt.date, last: dt.date, workspace_ids: Iterable[int] | None
) -> dict[int, dict[dt.date, Decimal]]:
    """Spend per (anomaly rule, day) in [FIRST, LAST] in each rule's scope and currency: ONE query for all rules."""
    rule, spend = AlertRule, DailySpend
    stmt = (
        select(rule.id, spend.day, func.sum(spend.cost))
        .select_from(rule)
        .join(
            spend,
            and_(
                spend.workspace_id == rule.workspace_id,
                spend.currency == rule.currency,
                or_(rule.scope_provider.is_(None), spend.provider == rule.scope_provider),
                or_(rule.scope_account_id.is_(None), spend.account_id == rule.scope_account_id),
                or_(rule.scope_model.is_(None), spend.model == rule.scope_model),
                or_(rule.scope_project.is_(None), spend.project == rule.scope_project),
            ),
        )
        .where(rule.kind == KIND, spend.day >= first, spend.day <= last)
        .group_by(rule.id, spend.day)
    )
    if workspace_ids is not None:
        stmt = stmt.where(rule.workspace_id.in_(list(workspace_ids)))
    totals: dict[int, dict[dt.date, Decimal]] = defaultdict(dict)
    for rule_id, day, cost in session.execute(stmt):
        # SQLite may hand back a date string from an aggregate query; PostgreSQL a date.
        key = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        # SQLite sums NUMERIC as a float: through its repr, so 10.1 stays 10.1 rather than its binary expansion.
        totals[rule_id][key] = Decimal(repr(cost)) if isinstance(cost, float) else Decimal(cost or 0)
    return totals


def evaluate_anomalies(
    *, session: Session, now: dt.datetime, workspace_ids: Iterable[int] | None = None
) -> list[Observation]:
    """Observations of every anomaly rule (of WORKSPACE_IDS, else all) for yesterday and today (UTC)."""
    stmt = select(AlertRule).where(AlertRule.kind == KIND).order_by(AlertRule.id)
    ids = list(workspace_ids) if workspace_ids is not None else None
    if ids is not None:
        stmt = stmt.where(AlertRule.workspace_id.in_(ids))
    rules = list(session.scalars(stmt))
    if not rules:
        return []
    today = now.astimezone(dt.UTC).date()
    params = {r.id: AnomalyParams.stored(r.params) for r in rules}
    longest = max(p.baseline_days for p in params.values())
    # Yesterday's baseline starts one day before today's: fetch the longest window any rule needs, once.
    totals = _daily_totals(session, first=today - dt.timedelta(days=longest + 1), last=today, workspace_ids=ids)
    links = alert_links.links(session)
    observations: list[Observation] = []
    for rule in rules:
        p = params[rule.id]
        spend = totals.get(rule.id, {})
        for day in (today - dt.timedelta(days=1), today):
            baseline = [spend.get(day - dt.timedelta(days=n), Decimal(0)) for n in range(1, p.baseline_days + 1)]
            result = score_day(spend.get(day, Decimal(0)), baseline, p)
            observations.append(
                Observation(
                    rule_id=rule.id,
                    workspace_id=rule.workspace_id,
                    period_key=day.isoformat(),
                    threshold_key=THRESHOLD_KEY,
                    firing=result.firing,
                    rank=Decimal(1),
                    value=result.spent,
                    event_type=EVENT_TYPE,
                    resolved_type=RESOLVED_TYPE,
                    payload={
                        "rule": rule_ref(rule),
                        "day": day.isoformat(),
                        "spent": _money(result.spent),
                        "baseline_median": _money(result.median),
                        "mad": _money(result.mad),
                        "score": None if result.score is None else str(result.score.quantize(CENT, ROUND_HALF_UP)),
                        "method": result.method,
                        "z_threshold": str(p.z_threshold),
                        "min_amount": _money(p.min_amount),
                        "baseline_days": p.baseline_days,
                        "currency": rule.currency,
                        "scope": {
                            "provider": rule.scope_provider,
                            "account_id": rule.scope_account_id,
                            "model": rule.scope_model,
                            "project": rule.scope_project,
                        },
                        "links": links.for_rule(rule),
                    },
                )
            )
    return observations
