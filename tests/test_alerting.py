"""Evaluation end to end: usage stored by ingest, a budget made through the API, the alerts job → one event with
the real figures and a pending notification per channel; the alert history API; set-based cost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select, update

from backend.models import AlertEvent, AlertRule, Channel, Notification, ProviderAccount, RuleChannel, Workspace
from backend.services.alert_links import read_mute_token
from backend.services.ingest import ingest
from integrations.records import UsageRecord
from jobs.alerts import alerts_job, evaluate_workspace
from tests.conftest import Api


@pytest.fixture
def ctx(app: Any, api: Api, settings: Any) -> dict[str, Any]:
    token = api.register("owner@example.com")["access_token"]
    body = {"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-key-for-alerting"}}
    account = api.call("POST", "/api/accounts", token, json=body).get_json()["id"]
    db = app.extensions["spendwatch"].db
    with db.system_session() as s:
        mail = Channel(workspace_id=1, name="mail", kind="email", config={"recipients": ["o@example.com"]})
        hook = Channel(workspace_id=1, name="hook", kind="webhook", config={"url": "http://127.0.0.1:9/x"})
        s.add_all([mail, hook])
        s.flush()
        channels = [mail.id, hook.id]
    return {"token": token, "account": account, "db": db, "channels": channels, "settings": settings}


def _spend(ctx: dict[str, Any], items: list[tuple[str, str]], day: dt.datetime | None = None) -> None:
    """Store cost records (model, cost) on DAY (today, UTC) through ingest."""
    day = day or dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with ctx["db"].system_session() as s:
        account = s.get(ProviderAccount, ctx["account"])
        records = [
            UsageRecord(bucket_start=day, bucket_width="1d", kind="cost", model=m, cost=Decimal(c)) for m, c in items
        ]
        ingest(session=s, account=account, records=records)


def test_a_sync_crossing_thresholds_fires_one_event_with_the_real_figures(api: Api, ctx: dict[str, Any]) -> None:
    body = {"name": "AI this month", "amount": "500", "channels": ctx["channels"]}
    budget = api.call("POST", "/api/budgets", ctx["token"], json=body).get_json()
    run = alerts_job(ctx["db"], ctx["settings"])
    assert run() == {"transitions": 0, "events": 0, "notifications": 0}
    _spend(ctx, [("gpt-big", "300.00"), ("gpt-small", "112.37"), ("embed", "0.50")])
    assert run() == {"transitions": 2, "events": 1, "notifications": 2}
    assert run() == {"transitions": 0, "events": 0, "notifications": 0}  # nothing new: nothing sent
    today = dt.datetime.now(dt.UTC).date()
    with ctx["db"].system_session() as s:
        [ev] = s.scalars(select(AlertEvent)).all()
        notes = s.scalars(select(Notification).order_by(Notification.channel_id)).all()
    assert (ev.type, ev.state, ev.threshold_key, ev.period_key) == (
        "budget.threshold_crossed",
        "firing",
        "actual:80%",
        f"{today:%Y-%m}",
    )
    p = ev.payload
    assert p["rule"] == {"id": budget["id"], "name": "AI this month", "kind": "budget"}
    assert p["threshold"] == {"type": "percent", "value": "80", "basis": "actual"}
    assert (p["spent"], p["budget"], p["currency"], p["percent"]) == ("412.87", "500.00", "USD", "82.6")
    assert p["period"]["key"] == f"{today:%Y-%m}" and p["period"]["timezone"] == "UTC"
    assert p["period"]["start"] == today.replace(day=1).isoformat()
    assert Decimal(p["forecast"]) == Decimal("412.87")  # no spend in the last 7 complete days: no run-rate
    assert p["top_contributors"] == [
        {"dimension": "model", "name": "gpt-big", "cost": "300.00"},
        {"dimension": "model", "name": "gpt-small", "cost": "112.37"},
        {"dimension": "model", "name": "embed", "cost": "0.50"},
        {"dimension": "account", "name": "Demo", "cost": "412.87"},
    ]
    assert p["links"]["dashboard"] == "http://spendwatch.test/"
    mute = p["links"]["mute"]
    assert mute.startswith(f"http://spendwatch.test/api/alert-rules/{budget['id']}/mute?token=")
    claim = read_mute_token(mute.split("token=")[1], ctx["settings"].secret_key)
    assert claim is not None and (claim.workspace_id, claim.rule_id, len(claim.nonce)) == (1, budget["id"], 32)
    assert [(n.channel_id, n.status, n.event_id) for n in notes] == [(c, "pending", ev.id) for c in ctx["channels"]]
    # The budget's figures and states.
    status = api.call("GET", f"/api/budgets/{budget['id']}", ctx["token"]).get_json()["status"]
    assert (status["spent"], status["remaining"], status["percent"]) == ("412.87", "87.13", "82.6")
    assert [t["state"] for t in status["thresholds"]] == ["firing", "firing", "ok"]

    # More spend escalates to 100 %; the history shows both, newest first, with their notifications.
    _spend(ctx, [("gpt-big", "400.00")])
    assert evaluate_workspace(ctx["db"], ctx["settings"], 1) == {"transitions": 1, "events": 1, "notifications": 2}
    page = api.call("GET", "/api/alerts?limit=1", ctx["token"]).get_json()
    assert [(i["threshold_key"], i["notifications"]) for i in page["items"]] == [("actual:100%", {"pending": 2})]
    older = api.call("GET", f"/api/alerts?limit=1&cursor={page['next_cursor']}", ctx["token"]).get_json()
    assert [i["threshold_key"] for i in older["items"]] == ["actual:80%"] and older["next_cursor"] is None
    detail = api.call("GET", f"/api/alerts/{page['items'][0]['id']}", ctx["token"]).get_json()
    assert detail["payload"]["spent"] == "512.87" and detail["payload"]["percent"] == "102.6"
    assert [(d["channel_id"], d["status"], d["attempts"]) for d in detail["deliveries"]] == [
        (c, "pending", 0) for c in ctx["channels"]
    ]
    filtered = api.call("GET", f"/api/alerts?rule_id={budget['id']}&state=resolved", ctx["token"]).get_json()
    assert filtered["items"] == []
    assert api.call("GET", "/api/alerts?cursor=nope", ctx["token"]).status_code == 422
    assert api.call("GET", "/api/alerts/999999", ctx["token"]).status_code == 404


def test_forecast_basis_and_currency_and_scope(api: Api, ctx: dict[str, Any]) -> None:
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # 7.00 a day over the last 7 complete days: a week budget of 40 on a forecast basis.
    for back in range(1, 8):
        _spend(ctx, [("m", "7.00")], today - dt.timedelta(days=back))
    body = {"name": "Year", "period": "year", "amount": "1000000", "basis": "forecast", "channels": ctx["channels"][:1]}
    api.call("POST", "/api/budgets", ctx["token"], json=body)
    euro = {"name": "EUR", "period": "year", "amount": "1", "currency": "EUR"}
    api.call("POST", "/api/budgets", ctx["token"], json=euro)
    other_model = {"name": "Other model", "period": "year", "amount": "1", "scope": {"model": "nope"}}
    api.call("POST", "/api/budgets", ctx["token"], json=other_model)
    result = alerts_job(ctx["db"], ctx["settings"])()
    assert result["events"] == 0  # USD spend does not count against EUR; model "m" is not "nope"
    with ctx["db"].system_session() as s:
        rule = s.scalar(select(AlertRule).where(AlertRule.name == "Year"))
        rule.amount = Decimal(49)  # spent this year ≥ 49; forecast more than 49 too
    result = alerts_job(ctx["db"], ctx["settings"])()
    assert (result["events"], result["notifications"]) == (1, 1)
    with ctx["db"].system_session() as s:
        [ev] = s.scalars(select(AlertEvent)).all()
    assert (ev.type, ev.threshold_key) == ("budget.forecast_exceeded", "forecast:100%")
    remaining = (dt.date(today.year, 12, 31) - today.date()).days
    assert Decimal(ev.payload["forecast"]) == Decimal("49.00") + 7 * remaining


def test_a_disabled_channel_gets_nothing_and_a_refund_resolves(api: Api, ctx: dict[str, Any]) -> None:
    body = {"name": "Day", "period": "day", "amount": "10", "channels": ctx["channels"], "notify_on_resolve": True}
    budget = api.call("POST", "/api/budgets", ctx["token"], json=body).get_json()
    with ctx["db"].system_session() as s:
        s.get(Channel, ctx["channels"][1]).enabled = False
    _spend(ctx, [("m", "6.00")])
    assert alerts_job(ctx["db"], ctx["settings"])()["notifications"] == 1
    _spend(ctx, [("m", "4.00")])  # re-ingest of the same bucket: a correction downwards
    assert alerts_job(ctx["db"], ctx["settings"])() == {"transitions": 1, "events": 1, "notifications": 1}
    items = api.call("GET", f"/api/alerts?rule_id={budget['id']}", ctx["token"]).get_json()["items"]
    assert [(i["type"], i["state"]) for i in items] == [
        ("budget.resolved", "resolved"),
        ("budget.threshold_crossed", "firing"),
    ]


def test_evaluation_cost_does_not_grow_with_the_number_of_rules(ctx: dict[str, Any]) -> None:
    """200 budgets cost the same number of statements as 2 (one grouped query per period group)."""
    _spend(ctx, [("m", "75.00")])

    def add_rules(n: int) -> None:
        with ctx["db"].system_session() as s:
            for i in range(n):
                rule = AlertRule(
                    workspace_id=1,
                    kind="budget",
                    name=f"r{i}",
                    period=("month", "week")[i % 2],
                    amount=Decimal(100),
                    params={"thresholds": [{"type": "percent", "value": "50"}], "basis": "actual"},
                )
                s.add(rule)
                s.flush()
                s.add(RuleChannel(workspace_id=1, rule_id=rule.id, channel_id=ctx["channels"][0]))

    reads: list[str] = []

    def count_tick() -> tuple[int, dict[str, int]]:
        statements: list[str] = []

        def seen(*args: Any) -> None:
            statements.append(args[2])
            reads.extend([args[2]] if "daily_spend" in args[2] else [])

        engine = ctx["db"].engine
        event.listen(engine, "before_cursor_execute", seen)
        try:
            result = alerts_job(ctx["db"], ctx["settings"])()
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        return len(statements), result

    count_tick()  # the first tick ever looks at everything; the ones measured look at what changed
    add_rules(2)
    few, result = count_tick()
    assert result["events"] == 2
    steady_few, _ = count_tick()
    add_rules(198)
    many, result = count_tick()
    assert result["events"] == 198
    steady_many, result = count_tick()
    assert result["events"] == 0
    assert steady_many == steady_few, (steady_few, steady_many)
    with ctx["db"].system_session() as s:  # as if the rules and the workspace had been edited a while ago
        a_while_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        s.execute(update(AlertRule).values(updated_at=a_while_ago))
        s.execute(update(Workspace).values(updated_at=a_while_ago))
    count_tick()
    reads.clear()
    count_tick()
    assert reads == []  # nothing new: no budget is even looked at
    # A firing tick costs as many statements for 200 rules as for 2: events and outbox rows are bulk INSERTs.
    assert many == few, (few, many)


def test_a_monthly_budget_is_evaluated_whatever_its_week_start(api: Api, ctx: dict[str, Any]) -> None:
    """week_start only matters to weekly budgets: a monthly one saying "friday" is still evaluated and shown."""
    body = {"name": "Month", "amount": "100", "week_start": "friday", "channels": ctx["channels"][:1]}
    created = api.call("POST", "/api/budgets", ctx["token"], json=body)
    assert created.status_code == 201, created.get_json()
    _spend(ctx, [("m", "90.00")])
    assert alerts_job(ctx["db"], ctx["settings"])()["events"] == 1
    assert api.call("GET", f"/api/budgets/{created.get_json()['id']}", ctx["token"]).get_json()["status"]["spent"] == (
        "90.00"
    )
