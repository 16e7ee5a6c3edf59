"""Anomaly rules: the median/MAD score and its fallbacks on fixed figures, min_amount, scopes, and the whole path
through alerting.evaluate to an event and a pending notification."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from backend.models import (
    AlertEvent,
    AlertRule,
    AlertState,
    Channel,
    DailySpend,
    Notification,
    ProviderAccount,
    RuleChannel,
)
from backend.services import alerting
from backend.services.alert_rules import AnomalyParams
from backend.services.anomaly import evaluate_anomalies, median, score_day

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
YESTERDAY = TODAY - dt.timedelta(days=1)
DEFAULTS = AnomalyParams()


def _d(values: list[Any]) -> list[Decimal]:
    return [Decimal(str(v)) for v in values]


# --- the score, on fixed figures --------------------------------------------------------------------------------


def test_median_of_odd_and_even_lengths() -> None:
    assert median(_d([3, 1, 2])) == Decimal(2)
    assert median(_d([4, 1, 3, 2])) == Decimal("2.5")


def test_modified_z_score_on_a_spread_baseline() -> None:
    baseline = _d(range(1, 29))  # 1..28: median 14.5, |deviations| 0.5..13.5 twice each -> MAD 7
    spike = score_day(Decimal(60), baseline, DEFAULTS)
    assert (spike.median, spike.mad, spike.method) == (Decimal("14.5"), Decimal(7), "mad")
    assert spike.score == Decimal("4.38425")  # 0.6745 * 45.5 / 7
    assert spike.firing
    high_but_normal = score_day(Decimal(40), baseline, DEFAULTS)  # 0.6745 * 25.5 / 7 = 2.457…
    assert high_but_normal.score is not None and high_but_normal.score.quantize(Decimal("0.01")) == Decimal("2.46")
    assert not high_but_normal.firing


def test_mad_zero_falls_back_to_the_mean_absolute_deviation() -> None:
    # A flat subscription: 20 days at 10.00 and 8 at 12.00. More than half the days equal the median, so MAD = 0;
    # the mean absolute deviation is 16/28 and the score (x - median) / (1.2533 * 16/28).
    baseline = _d([10] * 20 + [12] * 8)
    spike = score_day(Decimal(40), baseline, DEFAULTS)
    assert (spike.median, spike.mad, spike.method) == (Decimal(10), Decimal(0), "mean_ad")
    assert spike.mean_ad.quantize(Decimal("0.000001")) == Decimal("0.571429")
    assert spike.score is not None and spike.score.quantize(Decimal("0.01")) == Decimal("41.89")
    assert spike.firing
    usual = score_day(Decimal(12), baseline, DEFAULTS)  # a day like 8 of the last 28
    assert usual.score is not None and usual.score.quantize(Decimal("0.01")) == Decimal("2.79")
    assert not usual.firing


def test_all_equal_baseline_fires_on_an_excess_of_at_least_min_amount() -> None:
    baseline = _d([20] * 28)
    at_min = score_day(Decimal("25.00"), baseline, DEFAULTS)
    assert (at_min.method, at_min.score, at_min.firing) == ("flat", None, True)
    below = score_day(Decimal("24.99"), baseline, DEFAULTS)
    assert (below.method, below.firing) == ("flat", False)
    same = score_day(Decimal(20), baseline, AnomalyParams(min_amount=Decimal(0)))
    assert not same.firing  # equal to the median is no excess, even with min_amount 0


def test_min_amount_keeps_cents_from_paging_anyone() -> None:
    baseline = _d([n / 100 for n in range(1, 29)])  # 0.01..0.28: median 0.145, MAD 0.07
    cents = score_day(Decimal("1.00"), baseline, DEFAULTS)
    assert cents.score is not None and cents.score.quantize(Decimal("0.01")) == Decimal("8.24")  # far above 3.5
    assert not cents.firing  # but 0.855 over the median is below min_amount 5.00
    assert score_day(Decimal("1.00"), baseline, AnomalyParams(min_amount=Decimal("0.50"))).firing
    # Flat 10/12 baseline: a score of 6.28 with an excess of 4.50 stays quiet; 15.00 (excess 5.00) fires.
    flat = _d([10] * 20 + [12] * 8)
    assert not score_day(Decimal("14.50"), flat, DEFAULTS).firing
    assert score_day(Decimal("15.00"), flat, DEFAULTS).firing


def test_z_threshold_is_compared_strictly() -> None:
    baseline = _d(range(1, 29))
    assert not score_day(Decimal(60), baseline, AnomalyParams(z_threshold=Decimal("4.39"))).firing
    assert score_day(Decimal(60), baseline, AnomalyParams(z_threshold=Decimal("4.38"))).firing


# --- the evaluator, on rows in the database ---------------------------------------------------------------------


@pytest.fixture
def db(app: Any, owner: dict[str, Any]) -> Any:
    return app.extensions["spendwatch"].db


def _account(db: Any, kind: str = "demo", name: str = "Demo") -> int:
    with db.system_session() as s:
        account = ProviderAccount(workspace_id=1, kind=kind, name=name, credentials={"api_key": "demo-x"}, config={})
        s.add(account)
        s.flush()
        return int(account.id)


def _spend(db: Any, account_id: int, days: dict[dt.date, Any], *, model: str = "m", currency: str = "USD") -> None:
    with db.system_session() as s:
        s.add_all(
            DailySpend(
                workspace_id=1,
                account_id=account_id,
                provider="demo",
                day=day,
                model=model,
                project="",
                currency=currency,
                cost=Decimal(str(cost)),
                cost_source="provider",
            )
            for day, cost in days.items()
        )


def _rule(db: Any, **kw: Any) -> int:
    with db.system_session() as s:
        rule = AlertRule(workspace_id=1, name=kw.pop("name", "Spikes"), kind="anomaly", **kw)
        s.add(rule)
        s.flush()
        return int(rule.id)


def _flat_month(last: dt.date, first_value: Any = 10, second_value: Any = 12) -> dict[dt.date, Any]:
    """The 28 days before LAST (exclusive): 20 days at 10 then 8 at 12 (a subscription plus a little)."""
    days = [last - dt.timedelta(days=n) for n in range(28, 0, -1)]
    return {day: (first_value if i < 20 else second_value) for i, day in enumerate(days)}


def _by_day(observations: list[Any]) -> dict[str, Any]:
    return {o.period_key: o for o in observations}


def test_a_spike_after_a_flat_subscription_baseline_fires(db: Any) -> None:
    account = _account(db)
    _spend(db, account, _flat_month(YESTERDAY) | {YESTERDAY: "40.00", TODAY: "3.00"})
    rule_id = _rule(db)
    with db.system_session() as s:
        observations = evaluate_anomalies(session=s, now=NOW)
    seen = _by_day(observations)
    assert set(seen) == {"2026-11-21", "2026-11-22"}
    spike = seen["2026-11-21"]
    assert (spike.rule_id, spike.threshold_key, spike.event_type, spike.resolved_type) == (
        rule_id,
        "anomaly",
        "usage.anomaly",
        "usage.anomaly_resolved",
    )
    assert spike.firing and spike.value == Decimal(40)
    payload = spike.payload
    assert payload["rule"] == {"id": rule_id, "name": "Spikes", "kind": "anomaly"}
    assert (payload["day"], payload["spent"], payload["baseline_median"], payload["mad"], payload["score"]) == (
        "2026-11-21",
        "40.00",
        "10.00",
        "0.00",
        "41.89",
    )
    assert payload["currency"] == "USD" and payload["method"] == "mean_ad"
    assert payload["scope"] == {"provider": None, "account_id": None, "model": None, "project": None}
    assert payload["links"]["dashboard"].endswith("/")
    # Today so far (3.00) is well below the median: not firing.
    assert not seen["2026-11-22"].firing


def test_a_normal_day_does_not_fire_and_missing_days_count_as_zero(db: Any) -> None:
    account = _account(db)
    # Spend only on the last 10 days before yesterday (5.00 each): the 18 days without rows are zeros, so the
    # median is 0 and MAD 0; mean |deviation| = 50/28. Yesterday at 5.00: excess 5.00, score 5/(1.2533*50/28).
    days = {YESTERDAY - dt.timedelta(days=n): "5.00" for n in range(1, 11)}
    _spend(db, account, days | {YESTERDAY: "5.00"})
    _rule(db)
    with db.system_session() as s:
        day = _by_day(evaluate_anomalies(session=s, now=NOW))["2026-11-21"]
    assert (day.payload["baseline_median"], day.payload["mad"], day.payload["score"]) == ("0.00", "0.00", "2.23")
    assert not day.firing


def test_scope_and_currency_are_respected(db: Any) -> None:
    account = _account(db)
    other = _account(db, name="Other")
    _spend(db, account, _flat_month(YESTERDAY) | {YESTERDAY: "10.00"}, model="gpt-small")
    _spend(db, account, {YESTERDAY: "500.00"}, model="gpt-large")  # the spike is on another model
    _spend(db, other, {YESTERDAY: "900.00"}, model="gpt-small")  # … and on another account
    _spend(db, account, {YESTERDAY: "700.00"}, model="gpt-small", currency="EUR")  # … and in another currency
    scoped = _rule(db, name="small", scope_account_id=account, scope_model="gpt-small")
    whole = _rule(db, name="whole")
    with db.system_session() as s:
        observations = evaluate_anomalies(session=s, now=NOW)
    yesterday = {o.rule_id: o for o in observations if o.period_key == "2026-11-21"}
    assert yesterday[scoped].payload["spent"] == "10.00" and not yesterday[scoped].firing
    assert yesterday[whole].payload["spent"] == "1410.00" and yesterday[whole].firing  # USD only: 10+500+900
    assert yesterday[scoped].payload["scope"] == {
        "provider": None,
        "account_id": account,
        "model": "gpt-small",
        "project": None,
    }


def test_today_fires_once_its_spend_alone_is_anomalous(db: Any) -> None:
    account = _account(db)
    # Today's baseline is the 28 days before today: yesterday is one of them.
    _spend(db, account, _flat_month(TODAY) | {TODAY: "60.00"})
    _rule(db, params={"baseline_days": 28, "z_threshold": "3.5", "min_amount": "5.00"})
    with db.system_session() as s:
        seen = _by_day(evaluate_anomalies(session=s, now=NOW))
    assert seen["2026-11-22"].firing and seen["2026-11-22"].payload["spent"] == "60.00"
    assert not seen["2026-11-21"].firing  # yesterday was 12.00, one of the usual days


def test_baseline_days_is_per_rule(db: Any) -> None:
    account = _account(db)
    # 7 quiet days at 1.00 right before yesterday, and 21 days at 100.00 before those.
    days = {YESTERDAY - dt.timedelta(days=n): ("1.00" if n <= 7 else "100.00") for n in range(1, 29)}
    _spend(db, account, days | {YESTERDAY: "50.00"})
    week = _rule(db, name="week", params={"baseline_days": 7})
    month = _rule(db, name="month", params={"baseline_days": 28})
    with db.system_session() as s:
        yesterday = {o.rule_id: o for o in evaluate_anomalies(session=s, now=NOW) if o.period_key == "2026-11-21"}
    assert yesterday[week].firing and yesterday[week].payload["baseline_median"] == "1.00"
    assert not yesterday[month].firing and yesterday[month].payload["baseline_median"] == "100.00"


def test_only_the_given_workspaces_are_evaluated(db: Any) -> None:
    _rule(db)
    with db.system_session() as s:
        assert len(evaluate_anomalies(session=s, now=NOW, workspace_ids=[1])) == 2
        assert evaluate_anomalies(session=s, now=NOW, workspace_ids=[999]) == []


# --- end to end through alerting.evaluate -----------------------------------------------------------------------


def test_evaluate_writes_the_event_and_a_pending_notification(db: Any) -> None:
    account = _account(db)
    _spend(db, account, _flat_month(YESTERDAY) | {YESTERDAY: "40.00"})
    rule_id = _rule(db)
    with db.system_session() as s:
        channel = Channel(workspace_id=1, name="hook", kind="webhook", config={"url": "http://127.0.0.1/x"})
        s.add(channel)
        s.flush()
        s.add(RuleChannel(workspace_id=1, rule_id=rule_id, channel_id=channel.id))
        channel_id = channel.id
    with db.system_session() as s:
        result = alerting.evaluate(session=s, now=NOW)
    assert (result.transitions, result.events, result.notifications) == (1, 1, 1)
    with db.system_session() as s:
        event = s.scalars(select(AlertEvent)).one()
        assert (event.rule_id, event.type, event.state, event.period_key, event.threshold_key) == (
            rule_id,
            "usage.anomaly",
            "firing",
            "2026-11-21",
            "anomaly",
        )
        assert event.payload["spent"] == "40.00" and event.payload["score"] == "41.89"
        notification = s.scalars(select(Notification)).one()
        assert (notification.event_id, notification.channel_id, notification.status) == (
            event.id,
            channel_id,
            "pending",
        )
        state = s.scalars(select(AlertState)).one()
        assert (state.state, state.value) == ("firing", Decimal(40))
    # The next tick sees the same day: no new event.
    with db.system_session() as s:
        again = alerting.evaluate(session=s, now=NOW + dt.timedelta(minutes=1))
    assert (again.transitions, again.events) == (0, 0)
