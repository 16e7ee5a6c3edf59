"""The alert state machine shared by every rule kind: observations in, transitions out.

Each rule kind's evaluator (budgets, anomaly, sync health) computes, set-based, what it sees now as a list of
`Observation`s — one per (rule, period, threshold) it checks — and hands them to `apply()`. `apply()` owns the
semantics of docs/alerts.md: state per (rule, period_key, threshold_key); ok → firing notifies, firing → ok
resolves (notifies only when the rule asks for it); a new period starts clean (its keys are new); several
thresholds of one rule and period entering firing together send ONE event naming the highest and record the
others as firing without an event; a higher threshold later escalates (a new event); muted rules and snoozed
rules (until `snoozed_until`) change state but notify nobody (the event is still recorded, marked `silenced`,
so the history shows it); `repeat_minutes` re-notifies while firing.
Events and their notifications (one per enabled channel of the rule, the rows `outbox.enqueue` writes, in one
bulk INSERT for all events) are written in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.models import AlertEvent, AlertRule, AlertState, Channel, Notification, RuleChannel
from backend.models.usage import Money
from backend.services import outbox

T = TypeVar("T")
# Ids per IN (...) list: well under SQLite's 32766 bound parameters and PostgreSQL's 65535.
CHUNK = 5000
FIRING, OK = "firing", "ok"


def _storable(value: Decimal | None) -> Decimal | None:
    # A money budget's spend sums bank amounts (up to 10**14 each): beyond what alert_states.value holds, the
    # figure is kept at the column's limit rather than failing the whole evaluation.
    return None if value is None else Money.clamp(value)


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
    # Or built only if an event is written: most observations of a tick change nothing, and building every
    # payload (figures, contributors, a signed mute link) was most of a steady tick's time.
    payload_factory: Callable[[], dict[str, Any]] | None = field(default=None, compare=False, repr=False)
    # Observations of one rule and period in different groups are independent alerts, never folded into one
    # event nor inhibiting each other (sync health: one group per account).
    group: str = ""


@dataclass
class ApplyResult:
    """What one `apply()` changed."""

    transitions: int = 0
    events: int = 0
    notifications: int = 0
    event_ids: list[int] = field(default_factory=list)


@dataclass
class _State:
    """One alert_states row as apply() reads and changes it."""

    id: int | None
    state: str
    changed_at: dt.datetime | None
    last_notified_at: dt.datetime | None
    value: Decimal | None = None
    dirty: bool = False
    transitioned: bool = False


@dataclass(frozen=True)
class _Rule:
    silenced: str | None  # "muted" | "snoozed" | None
    repeat: dt.timedelta | None
    notify_on_resolve: bool


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load_rules(session: Session, rule_ids: list[int], now: dt.datetime) -> dict[int, _Rule]:
    rules: dict[int, _Rule] = {}
    for chunk in _chunks(rule_ids):
        rows = session.execute(
            select(
                AlertRule.id,
                AlertRule.muted,
                AlertRule.snoozed_until,
                AlertRule.repeat_minutes,
                AlertRule.notify_on_resolve,
            ).where(AlertRule.id.in_(chunk))
        )
        for rule_id, muted, snoozed_until, repeat_minutes, notify_on_resolve in rows:
            silenced = "muted" if muted else "snoozed" if snoozed_until is not None and now < snoozed_until else None
            repeat = dt.timedelta(minutes=repeat_minutes) if repeat_minutes else None
            rules[rule_id] = _Rule(silenced, repeat, bool(notify_on_resolve))
    return rules


def _load_states(session: Session, rule_ids: list[int], period_keys: set[str]) -> dict[tuple[int, str, str], _State]:
    states: dict[tuple[int, str, str], _State] = {}
    for chunk in _chunks(rule_ids):
        rows = session.execute(
            select(
                AlertState.id,
                AlertState.rule_id,
                AlertState.period_key,
                AlertState.threshold_key,
                AlertState.state,
                AlertState.changed_at,
                AlertState.last_notified_at,
                AlertState.value,
            ).where(AlertState.rule_id.in_(chunk), AlertState.period_key.in_(sorted(period_keys)))
        )
        for state_id, rule_id, period_key, threshold_key, state, changed_at, last_notified_at, value in rows:
            states[(rule_id, period_key, threshold_key)] = _State(state_id, state, changed_at, last_notified_at, value)
    return states


def _channels(session: Session, rule_ids: Iterable[int]) -> dict[int, list[int]]:
    """The enabled channels of each rule."""
    ids = sorted(set(rule_ids))
    out: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(ids):
        rows = session.execute(
            select(RuleChannel.rule_id, RuleChannel.channel_id)
            .join(Channel, Channel.id == RuleChannel.channel_id)
            .where(RuleChannel.rule_id.in_(chunk), Channel.enabled.is_(True))
        )
        for rule_id, channel_id in rows:
            out[rule_id].append(channel_id)
    return out


@dataclass
class _PlannedEvent:
    observation: Observation
    type: str
    state: str  # "firing" | "resolved"
    silenced: str | None


def _plan_group(
    group: list[Observation],
    states: dict[tuple[int, str, str], _State],
    rule: _Rule,
    now: dt.datetime,
) -> list[_PlannedEvent]:
    """Transitions of one (rule, period, event type) group, applied to STATES; the events they produce."""
    entering: list[Observation] = []
    leaving: list[Observation] = []
    still_firing: list[Observation] = []
    for obs in group:
        key = (obs.rule_id, obs.period_key, obs.threshold_key)
        current = states.get(key)
        was_firing = current is not None and current.state == FIRING
        if obs.firing and not was_firing:
            entering.append(obs)
        elif not obs.firing and was_firing:
            leaving.append(obs)
        elif obs.firing:
            still_firing.append(obs)
    events: list[_PlannedEvent] = []
    notified = rule.silenced is None
    if entering:
        top = max(entering, key=lambda o: o.rank)
        # Inhibition: a threshold at or below one already firing enters silently (the higher one was told).
        if not still_firing or top.rank > max(o.rank for o in still_firing):
            events.append(_PlannedEvent(top, top.event_type, "firing", rule.silenced))
        for obs in entering:
            key = (obs.rule_id, obs.period_key, obs.threshold_key)
            state = states.setdefault(key, _State(None, OK, None, None))
            state.state, state.changed_at, state.value = FIRING, now, _storable(obs.value)
            state.dirty = state.transitioned = True
            # Every threshold entering with the event counts as told, so none of them repeats early.
            if events and notified:
                state.last_notified_at = now
    elif still_firing and rule.repeat is not None and notified:
        repeat = rule.repeat
        told = [states[(o.rule_id, o.period_key, o.threshold_key)] for o in still_firing]
        # Re-notify when the group's latest message (or its entering firing, if it was silenced) is REPEAT old.
        last = max((s.last_notified_at or s.changed_at or now) for s in told)
        if last + repeat <= now:
            top = max(still_firing, key=lambda o: o.rank)
            events.append(_PlannedEvent(top, top.event_type, "firing", None))
            for obs in still_firing:
                state = states[(obs.rule_id, obs.period_key, obs.threshold_key)]
                state.last_notified_at, state.dirty = now, True
    if leaving:
        for obs in leaving:
            state = states[(obs.rule_id, obs.period_key, obs.threshold_key)]
            state.state, state.changed_at, state.value = OK, now, _storable(obs.value)
            state.dirty = state.transitioned = True
        if rule.notify_on_resolve:
            top = max(leaving, key=lambda o: o.rank)
            events.append(_PlannedEvent(top, top.resolved_type, "resolved", rule.silenced))
    return events


def apply(*, session: Session, observations: list[Observation], now: dt.datetime) -> ApplyResult:
    """Turn observations into state transitions, events and their outbox rows, in the caller's transaction."""
    result = ApplyResult()
    if not observations:
        return result
    rule_ids = sorted({o.rule_id for o in observations})
    rules = _load_rules(session, rule_ids, now)
    states = _load_states(session, rule_ids, {o.period_key for o in observations})
    # Groups: one rule, one period, one kind of event (a budget's actual and forecast thresholds are told apart),
    # one Observation.group (a sync-health rule's accounts are told apart).
    groups: dict[tuple[int, str, str, str], list[Observation]] = defaultdict(list)
    for obs in observations:
        if obs.rule_id in rules:  # a rule deleted since it was read is ignored
            groups[(obs.rule_id, obs.period_key, obs.event_type, obs.group)].append(obs)
    planned: list[_PlannedEvent] = []
    for (rule_id, _period, _type, _group), group in groups.items():
        planned.extend(_plan_group(group, states, rules[rule_id], now))
    _write_states(session, observations, states, now)
    result.transitions = sum(1 for s in states.values() if s.transitioned)
    if not planned:
        return result
    rows = [
        {
            "workspace_id": p.observation.workspace_id,
            "rule_id": p.observation.rule_id,
            "type": p.type,
            "state": p.state,
            "period_key": p.observation.period_key,
            "threshold_key": p.observation.threshold_key,
            "payload": p.observation.payload_factory() if p.observation.payload_factory else p.observation.payload,
            "silenced": p.silenced,
            "created_at": now,
        }
        for p in planned
    ]
    # One batched INSERT … RETURNING. Rows come back in any order: (rule, period, type) names an event uniquely
    # within one apply() (a group yields at most one firing and one resolved event).
    returned = session.execute(
        insert(AlertEvent).returning(
            AlertEvent.id, AlertEvent.rule_id, AlertEvent.period_key, AlertEvent.type, AlertEvent.workspace_id
        ),
        rows,
    ).all()
    ids = {(r.rule_id, r.period_key, r.type): (r.id, r.workspace_id) for r in returned}
    channels = _channels(session, [p.observation.rule_id for p in planned if p.silenced is None])
    outbox_rows: list[dict[str, Any]] = []
    for p in planned:
        event_id, workspace_id = ids[(p.observation.rule_id, p.observation.period_key, p.type)]
        result.events += 1
        result.event_ids.append(event_id)
        if p.silenced is None:
            outbox_rows.extend(_outbox_rows(event_id, workspace_id, channels.get(p.observation.rule_id, [])))
    if outbox_rows:
        session.execute(insert(Notification), outbox_rows)
    result.notifications = len(outbox_rows)
    result.event_ids.sort()
    return result


def _outbox_rows(event_id: int, workspace_id: int, channel_ids: list[int]) -> list[dict[str, Any]]:
    """outbox.enqueue's rows for one event, for a bulk INSERT of every event's notifications at once."""
    created = utcnow()
    return [
        {
            "workspace_id": workspace_id,
            "event_id": event_id,
            "channel_id": channel_id,
            "message_id": outbox.new_message_id(),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": created,  # due now (wall time, as enqueue does): the delivery job picks it up
            "created_at": created,
        }
        for channel_id in sorted(set(channel_ids))
    ]


def _write_states(
    session: Session, observations: list[Observation], states: dict[tuple[int, str, str], _State], now: dt.datetime
) -> None:
    """Bulk insert of new state rows and bulk update of changed ones (nothing is written when nothing changed)."""
    workspace_of = {o.rule_id: o.workspace_id for o in observations}
    inserts = [
        {
            "workspace_id": workspace_of[rule_id],
            "rule_id": rule_id,
            "period_key": period_key,
            "threshold_key": threshold_key,
            "state": s.state,
            "value": s.value,
            "changed_at": s.changed_at or now,
            "last_notified_at": s.last_notified_at,
        }
        for (rule_id, period_key, threshold_key), s in states.items()
        if s.dirty and s.id is None
    ]
    updates = [
        {
            "id": s.id,
            "state": s.state,
            "value": s.value,
            "changed_at": s.changed_at,
            "last_notified_at": s.last_notified_at,
        }
        for s in states.values()
        if s.dirty and s.id is not None
    ]
    if inserts:
        session.execute(insert(AlertState), inserts)
    if updates:
        session.execute(update(AlertState), updates)
