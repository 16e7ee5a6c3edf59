"""The alert state machine shared by every rule kind: observations in, transitions out.

Each rule kind's evaluator (budgets, anomaly, sync health) computes, set-based, what it sees now as a list of
`Observation`s — one per (rule, period, threshold) it checks — and hands them to `apply()`. `apply()` owns the
semantics of docs/alerts.md: state per (rule, period_key, threshold_key); ok → firing notifies, firing → ok
resolves (notifies only when the rule asks for it); a new period starts clean (its keys are new); several
thresholds of one rule and period entering firing together send ONE event naming the highest and record the
others as firing without an event; a higher threshold later escalates (a new event); muted rules and snoozed
rules (until `snoozed_until`) change state but notify nobody; `repeat_minutes` re-notifies while firing.
Events and their notifications (one per enabled channel of the rule, through `outbox.enqueue`) are written in
the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Observation:
    """What one evaluator sees for one (rule, period, threshold) right now."""

    rule_id: int
    workspace_id: int
    period_key: str  # "2026-11" etc.; "-" for rules without periods (sync health)
    threshold_key: str  # stable within the rule, e.g. "actual:80%"; "" when the rule has one condition
    firing: bool
    # Orders thresholds of one rule and period: the highest `rank` among those entering firing together is the
    # one named in the event (e.g. the percentage, or the absolute amount).
    rank: Decimal
    value: Decimal | None  # the figure compared (spent, forecast, z-score…), stored on the state
    event_type: str  # type when it enters firing, e.g. "budget.threshold_crossed"
    resolved_type: str  # type when it resolves, e.g. "budget.resolved"
    payload: dict[str, Any] = field(default_factory=dict)  # figures for the message (JSON-ready: str for Decimal)


@dataclass
class ApplyResult:
    """What one `apply()` changed."""

    transitions: int = 0
    events: int = 0
    notifications: int = 0
    event_ids: list[int] = field(default_factory=list)


def apply(*args: Any, **kwargs: Any) -> ApplyResult:  # pragma: no cover - replaced by the implementation
    """apply(*, session, observations: list[Observation], now: dt.datetime) -> ApplyResult — implemented next."""
    raise NotImplementedError
