"""The alert state machine: transitions only, one event naming the highest threshold, escalation, resolve,
new periods, mute/snooze, repeat, and one pending notification per enabled channel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.models import AlertEvent, AlertRule, AlertState, Channel, Notification, RuleChannel
from backend.services.alert_state import Observation, apply

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def db(app: Any, owner: dict[str, Any]) -> Any:
    return app.extensions["spendwatch"].db


@pytest.fixture
def rule_id(db: Any) -> int:
    with db.system_session() as s:
        rule = AlertRule(workspace_id=1, name="Monthly AI", kind="budget", period="month", amount=Decimal(100))
        s.add(rule)
        s.flush()
        on = Channel(workspace_id=1, name="ops mail", kind="email", config={"recipients": ["o@example.com"]})
        hook = Channel(workspace_id=1, name="hook", kind="webhook", config={"url": "http://127.0.0.1/x"})
        off = Channel(workspace_id=1, name="off", kind="email", config={}, enabled=False)
        s.add_all([on, hook, off])
        s.flush()
        s.add_all([RuleChannel(workspace_id=1, rule_id=rule.id, channel_id=c.id) for c in (on, hook, off)])
        return rule.id


def _obs(rule_id: int, pct: int, spent: str, *, period: str = "2026-11", basis: str = "actual") -> Observation:
    level = Decimal(pct)  # budget 100: the level of pct % is pct
    return Observation(
        rule_id=rule_id,
        workspace_id=1,
        period_key=period,
        threshold_key=f"{basis}:{pct}%",
        firing=Decimal(spent) >= level,
        rank=level,
        value=Decimal(spent),
        event_type="budget.threshold_crossed" if basis == "actual" else "budget.forecast_exceeded",
        resolved_type="budget.resolved",
        payload={"spent": spent, "threshold": {"value": str(pct)}},
    )


def _tick(db: Any, rule_id: int, spent: str, now: dt.datetime = NOW, **kw: Any) -> Any:
    with db.system_session() as s:
        return apply(session=s, observations=[_obs(rule_id, p, spent, **kw) for p in (50, 80, 100)], now=now)


def _events(db: Any) -> list[tuple[str, str, str, str | None]]:
    with db.system_session() as s:
        rows = s.execute(
            select(AlertEvent.type, AlertEvent.threshold_key, AlertEvent.period_key, AlertEvent.silenced).order_by(
                AlertEvent.id
            )
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _states(db: Any) -> dict[tuple[str, str], str]:
    with db.system_session() as s:
        rows = s.execute(select(AlertState.period_key, AlertState.threshold_key, AlertState.state))
        return {(p, t): st for p, t, st in rows}


def _notifications(db: Any) -> int:
    with db.system_session() as s:
        return int(s.scalar(select(func.count()).select_from(Notification)) or 0)


def test_a_jump_past_every_threshold_sends_one_event_naming_the_highest(db: Any, rule_id: int) -> None:
    result = _tick(db, rule_id, "120")
    assert (result.transitions, result.events, result.notifications) == (3, 1, 2)
    assert _events(db) == [("budget.threshold_crossed", "actual:100%", "2026-11", None)]
    assert _states(db) == {("2026-11", f"actual:{p}%"): "firing" for p in (50, 80, 100)}
    with db.system_session() as s:
        notes = s.execute(select(Notification.status, Notification.event_id, Notification.message_id)).all()
        assert {n.status for n in notes} == {"pending"} and len({n.message_id for n in notes}) == 2
        assert s.get(AlertEvent, notes[0].event_id).payload == {"spent": "120", "threshold": {"value": "100"}}
    # The same figures again change nothing.
    again = _tick(db, rule_id, "121", NOW + dt.timedelta(minutes=1))
    assert (again.transitions, again.events, again.notifications) == (0, 0, 0)


def test_a_higher_threshold_later_escalates_and_below_one_resolves(db: Any, rule_id: int) -> None:
    assert _tick(db, rule_id, "55").events == 1
    assert _tick(db, rule_id, "60").events == 0
    assert _tick(db, rule_id, "85").events == 1
    assert [e[1] for e in _events(db)] == ["actual:50%", "actual:80%"]
    # A refund: without notify_on_resolve the states go back to ok silently.
    result = _tick(db, rule_id, "10")
    assert (result.transitions, result.events) == (2, 0)
    assert set(_states(db).values()) == {"ok"}
    # Crossing again after resolving fires again (hysteresis: a threshold re-fires only once it resolved).
    assert _tick(db, rule_id, "51").events == 1
    assert [e[1] for e in _events(db)] == ["actual:50%", "actual:80%", "actual:50%"]


def test_resolve_notifies_when_the_rule_asks(db: Any, rule_id: int) -> None:
    with db.system_session() as s:
        s.get(AlertRule, rule_id).notify_on_resolve = True
    _tick(db, rule_id, "90")
    result = _tick(db, rule_id, "70")  # the budget raised or a refund: 80 % resolves, 50 % still fires
    assert (result.transitions, result.events, result.notifications) == (1, 1, 2)
    assert _events(db)[-1] == ("budget.resolved", "actual:80%", "2026-11", None)
    with db.system_session() as s:
        assert s.scalars(select(AlertEvent.state).order_by(AlertEvent.id)).all() == ["firing", "resolved"]


def test_a_new_period_starts_clean(db: Any, rule_id: int) -> None:
    _tick(db, rule_id, "100")
    result = _tick(db, rule_id, "81", NOW + dt.timedelta(days=10), period="2026-12")
    assert result.events == 1
    assert _events(db)[-1] == ("budget.threshold_crossed", "actual:80%", "2026-12", None)
    assert ("2026-12", "actual:100%") not in _states(db)  # never fired in December: no row, ok
    assert _states(db)[("2026-11", "actual:100%")] == "firing"


def test_muted_and_snoozed_rules_record_events_but_notify_nobody(db: Any, rule_id: int) -> None:
    with db.system_session() as s:
        s.get(AlertRule, rule_id).muted = True
    result = _tick(db, rule_id, "60")
    assert (result.transitions, result.events, result.notifications) == (1, 1, 0)
    with db.system_session() as s:
        rule = s.get(AlertRule, rule_id)
        rule.muted, rule.snoozed_until = False, NOW + dt.timedelta(hours=1)
    result = _tick(db, rule_id, "85", NOW + dt.timedelta(minutes=5))
    assert (result.events, result.notifications) == (1, 0)
    # Snooze over: the next escalation is told again.
    result = _tick(db, rule_id, "100", NOW + dt.timedelta(hours=2))
    assert (result.events, result.notifications) == (1, 2)
    assert [e[3] for e in _events(db)] == ["muted", "snoozed", None]
    assert _notifications(db) == 2


def test_repeat_renotifies_while_firing(db: Any, rule_id: int) -> None:
    with db.system_session() as s:
        s.get(AlertRule, rule_id).repeat_minutes = 60
    assert _tick(db, rule_id, "85").events == 1
    assert _tick(db, rule_id, "86", NOW + dt.timedelta(minutes=59)).events == 0
    repeat = _tick(db, rule_id, "87", NOW + dt.timedelta(minutes=60))
    assert (repeat.transitions, repeat.events, repeat.notifications) == (0, 1, 2)
    assert _events(db)[-1][1] == "actual:80%"
    assert _tick(db, rule_id, "88", NOW + dt.timedelta(minutes=90)).events == 0
    assert _tick(db, rule_id, "88", NOW + dt.timedelta(minutes=120)).events == 1


def test_actual_and_forecast_thresholds_are_told_apart(db: Any, rule_id: int) -> None:
    observations = [_obs(rule_id, p, "60") for p in (50, 80, 100)]
    observations += [_obs(rule_id, p, "130", basis="forecast") for p in (50, 80, 100)]
    with db.system_session() as s:
        result = apply(session=s, observations=observations, now=NOW)
    assert result.events == 2
    assert [e[:2] for e in _events(db)] == [
        ("budget.threshold_crossed", "actual:50%"),
        ("budget.forecast_exceeded", "forecast:100%"),
    ]


def test_no_observations_do_nothing(db: Any) -> None:
    with db.system_session() as s:
        assert apply(session=s, observations=[], now=NOW).events == 0
