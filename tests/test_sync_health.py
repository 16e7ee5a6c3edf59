"""Sync-health rules: failing N syncs in a row, stale data, never-synced accounts, recovery, scopes, and what is
never watched (manual and disabled accounts); then the whole path through alerting.evaluate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from backend.models import AlertEvent, AlertRule, Channel, Notification, ProviderAccount, RuleChannel
from backend.services import alerting
from backend.services.sync_health import evaluate_sync_health

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def db(app: Any, owner: dict[str, Any]) -> Any:
    return app.extensions["spendwatch"].db


def _account(db: Any, name: str, *, kind: str = "demo", **state: Any) -> int:
    state.setdefault("created_at", NOW - 100 * HOUR)
    with db.system_session() as s:
        account = ProviderAccount(
            workspace_id=1, kind=kind, name=name, credentials={"api_key": "demo-x"}, config={}, **state
        )
        s.add(account)
        s.flush()
        return int(account.id)


def _update(db: Any, account_id: int, **state: Any) -> None:
    with db.system_session() as s:
        account = s.get(ProviderAccount, account_id)
        for key, value in state.items():
            setattr(account, key, value)


def _rule(db: Any, **kw: Any) -> int:
    with db.system_session() as s:
        rule = AlertRule(workspace_id=1, name=kw.pop("name", "Health"), kind="sync_health", **kw)
        s.add(rule)
        s.flush()
        return int(rule.id)


def _seen(db: Any, now: dt.datetime = NOW) -> dict[tuple[int, str], Any]:
    with db.system_session() as s:
        return {(o.rule_id, o.threshold_key): o for o in evaluate_sync_health(session=s, now=now)}


def test_failing_stale_and_healthy_accounts(db: Any) -> None:
    healthy = _account(db, "healthy", last_success_at=NOW - HOUR, consecutive_failures=2)
    failing = _account(db, "failing", last_success_at=NOW - HOUR, consecutive_failures=3, last_error="HTTP 503")
    stale = _account(db, "stale", last_success_at=NOW - 25 * HOUR)
    never = _account(db, "never synced", created_at=NOW - 30 * HOUR)
    young = _account(db, "just added", created_at=NOW - 2 * HOUR)
    rule = _rule(db)
    seen = _seen(db)
    assert sorted(seen) == sorted((rule, f"account:{a}") for a in (healthy, failing, stale, never, young))
    reasons = {key: (o.firing, o.payload["reason"]) for key, o in seen.items()}
    assert reasons == {
        (rule, f"account:{healthy}"): (False, "ok"),
        (rule, f"account:{failing}"): (True, "failing"),
        (rule, f"account:{stale}"): (True, "stale"),
        (rule, f"account:{never}"): (True, "stale"),  # counted from its creation
        (rule, f"account:{young}"): (False, "ok"),
    }
    o = seen[(rule, f"account:{failing}")]
    assert (o.period_key, o.event_type, o.resolved_type, o.value) == (
        "-",
        "account.sync_failing",
        "account.recovered",
        Decimal(3),
    )
    assert o.payload["account"] == {"id": failing, "name": "failing", "kind": "demo"}
    assert o.payload["rule"] == {"id": rule, "name": "Health", "kind": "sync_health"}
    assert (o.payload["consecutive_failures"], o.payload["last_error"]) == (3, "HTTP 503")
    assert o.payload["last_success_at"] == (NOW - HOUR).isoformat()
    assert seen[(rule, f"account:{never}")].payload["last_success_at"] is None


def test_params_failures_and_stale_hours(db: Any) -> None:
    account = _account(db, "a", last_success_at=NOW - 5 * HOUR, consecutive_failures=1)
    strict = _rule(db, name="strict", params={"failures": 1, "stale_hours": 24})
    stale_4h = _rule(db, name="4h", params={"failures": 10, "stale_hours": 4})
    lenient = _rule(db, name="lenient", params={"failures": 10, "stale_hours": 6})
    seen = _seen(db)
    key = f"account:{account}"
    assert seen[(strict, key)].payload["reason"] == "failing"
    assert seen[(stale_4h, key)].payload["reason"] == "stale"
    assert not seen[(lenient, key)].firing
    # Exactly stale_hours old is not yet stale ("older than").
    assert not _seen(db, now=NOW + HOUR)[(lenient, key)].firing
    assert _seen(db, now=NOW + HOUR + dt.timedelta(seconds=1))[(lenient, key)].firing


def test_manual_disabled_and_out_of_scope_accounts_are_not_watched(db: Any) -> None:
    watched = _account(db, "watched", last_success_at=NOW - HOUR)
    _account(db, "manual", kind="manual")  # never syncs: never stale
    _account(db, "off", enabled=False, consecutive_failures=9)
    other = _account(db, "other", last_success_at=NOW - HOUR)
    everything = _rule(db, name="all")
    one = _rule(db, name="one", scope_account_id=other)
    by_provider = _rule(db, name="demo", scope_provider="demo")
    by_other_provider = _rule(db, name="openai", scope_provider="openai")
    seen = _seen(db)
    assert sorted(seen) == sorted(
        [
            (everything, f"account:{watched}"),
            (everything, f"account:{other}"),
            (one, f"account:{other}"),
            (by_provider, f"account:{watched}"),
            (by_provider, f"account:{other}"),
        ]
    )
    assert not any(o.rule_id == by_other_provider for o in seen.values())


def test_failing_then_recovered_through_evaluate(db: Any) -> None:
    """End to end: each account failing sends its own event and notification; a recovery resolves it."""
    first = _account(db, "first", last_success_at=NOW - HOUR, consecutive_failures=3)
    second = _account(db, "second", last_success_at=NOW - HOUR, consecutive_failures=0)
    rule = _rule(db, notify_on_resolve=True)
    with db.system_session() as s:
        channel = Channel(workspace_id=1, name="mail", kind="email", config={"recipients": ["o@example.com"]})
        s.add(channel)
        s.flush()
        s.add(RuleChannel(workspace_id=1, rule_id=rule, channel_id=channel.id))

    def tick(now: dt.datetime) -> Any:
        with db.system_session() as s:
            return alerting.evaluate(session=s, now=now)

    assert (tick(NOW).events, tick(NOW + HOUR).events) == (1, 0)  # firing once, then steady
    _update(db, second, consecutive_failures=5, last_error="timeout")
    later = tick(NOW + 2 * HOUR)
    assert (later.transitions, later.events, later.notifications) == (1, 1, 1)  # the second account on its own
    _update(db, first, consecutive_failures=0, last_success_at=NOW + 3 * HOUR, last_error=None)
    recovered = tick(NOW + 3 * HOUR)
    assert (recovered.transitions, recovered.events, recovered.notifications) == (1, 1, 1)
    with db.system_session() as s:
        events = [
            (e.type, e.state, e.threshold_key, e.payload["account"]["name"], e.payload["reason"])
            for e in s.scalars(select(AlertEvent).order_by(AlertEvent.id))
        ]
        pending = s.scalars(select(Notification.status)).all()
    assert events == [
        ("account.sync_failing", "firing", f"account:{first}", "first", "failing"),
        ("account.sync_failing", "firing", f"account:{second}", "second", "failing"),
        ("account.recovered", "resolved", f"account:{first}", "first", "ok"),
    ]
    assert pending == ["pending"] * 3
