"""/api/budgets: CRUD, validation (nothing stored on bad input), roles, figures, and the signed mute link."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.models import AlertRule, Channel, ProviderAccount, Workspace
from backend.services.alert_links import mute_token
from backend.services.ingest import ingest
from integrations.records import UsageRecord
from tests.conftest import Api

SECRET = "test-secret-key-that-is-long-enough-for-hs256"


@pytest.fixture
def ctx(app: Any, api: Api) -> dict[str, Any]:
    owner = api.register("owner@example.com")
    token = owner["access_token"]
    body = {"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-key-for-budget-tests"}}
    account = api.call("POST", "/api/accounts", token, json=body).get_json()["id"]
    db = app.extensions["spendwatch"].db
    with db.system_session() as s:
        channel = Channel(workspace_id=1, name="mail", kind="email", config={"recipients": ["o@example.com"]})
        s.add(channel)
        s.flush()
        channel_id = channel.id
    return {"token": token, "account": account, "channel": channel_id, "db": db}


def _rules(ctx: dict[str, Any]) -> int:
    with ctx["db"].system_session() as s:
        return int(s.scalar(select(func.count()).select_from(AlertRule)) or 0)


def test_create_with_defaults_then_read_patch_delete(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    r = api.call("POST", "/api/budgets", t, json={"name": "AI this month", "amount": "500"})
    assert r.status_code == 201, r.get_json()
    b = r.get_json()
    assert (b["period"], b["week_start"], b["amount"], b["currency"], b["basis"]) == (
        "month",
        "monday",
        "500.00",
        "USD",
        "actual",
    )
    assert b["thresholds"] == [{"type": "percent", "value": v} for v in ("50", "80", "100")]
    assert b["scope"] == {
        "provider": None,
        "account_id": None,
        "model": None,
        "project": None,
        "category_id": None,
        "bank_account_id": None,
    }
    assert [(s["key"], s["level"], s["state"]) for s in b["status"]["thresholds"]] == [
        ("actual:50%", "250.00", "ok"),
        ("actual:80%", "400.00", "ok"),
        ("actual:100%", "500.00", "ok"),
    ]
    assert (b["status"]["spent"], b["status"]["remaining"], b["status"]["percent"]) == ("0.00", "500.00", "0.0")
    body = {
        "scope": {"provider": "demo", "account_id": ctx["account"], "model": "gpt-x"},
        "period": "week",
        "week_start": "sunday",
        "amount": 80.5,
        "currency": "eur",
        "thresholds": [{"type": "absolute", "value": "40"}, {"type": "percent", "value": 150}],
        "basis": "both",
        "channels": [ctx["channel"]],
        "muted": True,
        "snoozed_until": "2030-01-01T00:00:00Z",
        "repeat_minutes": 240,
        "notify_on_resolve": True,
    }
    r = api.call("PATCH", f"/api/budgets/{b['id']}", t, json=body)
    assert r.status_code == 200, r.get_json()
    p = r.get_json()
    assert (p["period"], p["week_start"], p["amount"], p["currency"], p["basis"], p["channels"]) == (
        "week",
        "sunday",
        "80.50",
        "EUR",
        "both",
        [ctx["channel"]],
    )
    assert (p["muted"], p["snoozed_until"], p["repeat_minutes"], p["notify_on_resolve"]) == (
        True,
        "2030-01-01T00:00:00Z",
        240,
        True,
    )
    assert [s["key"] for s in p["status"]["thresholds"]] == [
        "actual:40.00",
        "forecast:40.00",
        "actual:150%",
        "forecast:150%",
    ]
    assert p["status"]["thresholds"][2]["level"] == "120.75"
    # Unmute and end the snooze.
    r = api.call("PATCH", f"/api/budgets/{b['id']}", t, json={"muted": False, "snoozed_until": None})
    assert (r.get_json()["muted"], r.get_json()["snoozed_until"]) == (False, None)
    assert [x["id"] for x in api.call("GET", "/api/budgets", t).get_json()["items"]] == [b["id"]]
    assert api.call("DELETE", f"/api/budgets/{b['id']}", t).status_code == 204
    assert api.call("GET", f"/api/budgets/{b['id']}", t).status_code == 404
    assert _rules(ctx) == 0


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"thresholds": [{"type": "percent", "value": 1001}]}, "thresholds"),
        ({"thresholds": [{"type": "percent", "value": 0}]}, "thresholds"),
        ({"thresholds": [{"type": "absolute", "value": "-1"}]}, "thresholds"),
        ({"thresholds": [{"type": "percent", "value": 80}, {"type": "percent", "value": "80.0"}]}, "thresholds"),
        ({"thresholds": [{"type": "percent", "value": v} for v in range(1, 12)]}, "thresholds"),
        ({"thresholds": [{"type": "ratio", "value": 1}]}, "thresholds"),
        ({"period": "fortnight"}, "period"),
        ({"basis": "vibes"}, "basis"),
        ({"currency": "US"}, "currency"),
        ({"snoozed_until": "2030-01-01T00:00:00"}, "snoozed_until"),
        ({"repeat_minutes": 0}, "repeat_minutes"),
        ({"channels": [999999]}, "channels"),
        ({"scope": {"account_id": 999999}}, "scope"),
        ({"surprise": 1}, "surprise"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_is_a_clear_422_and_nothing_is_stored(
    api: Api, ctx: dict[str, Any], changes: dict[str, Any], where: str
) -> None:
    body = {"name": "B", "amount": "100", **changes}
    r = api.call("POST", "/api/budgets", ctx["token"], json=body)
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert error["message"] and where in str(error["details"])
    assert _rules(ctx) == 0


def test_another_workspaces_account_and_channel_are_refused(api: Api, ctx: dict[str, Any]) -> None:
    with ctx["db"].system_session() as s:
        ws = Workspace(name="Other")
        s.add(ws)
        s.flush()
        s.add(Channel(workspace_id=ws.id, name="theirs", kind="email", config={}))
        s.add(ProviderAccount(workspace_id=ws.id, kind="demo", name="theirs", credentials={"api_key": "x"}))
        s.flush()
        foreign_channel = s.scalar(select(Channel.id).where(Channel.workspace_id == ws.id))
        foreign_account = s.scalar(select(ProviderAccount.id).where(ProviderAccount.workspace_id == ws.id))
    for body in (
        {"name": "x", "amount": 1, "channels": [ctx["channel"], foreign_channel]},
        {"name": "x", "amount": 1, "scope": {"account_id": foreign_account}},
    ):
        r = api.call("POST", "/api/budgets", ctx["token"], json=body)
        assert r.status_code == 422 and r.get_json()["error"]["code"] in {"invalid", "unknown_channel"}
    assert _rules(ctx) == 0
    made = api.call("POST", "/api/budgets", ctx["token"], json={"name": "x", "amount": 1}).get_json()
    r = api.call("PATCH", f"/api/budgets/{made['id']}", ctx["token"], json={"channels": [foreign_channel]})
    assert r.status_code == 422
    assert api.call("GET", f"/api/budgets/{made['id']}", ctx["token"]).get_json()["channels"] == []


def test_figures_of_a_budget(api: Api, ctx: dict[str, Any]) -> None:
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with ctx["db"].system_session() as s:
        account = s.get(ProviderAccount, ctx["account"])
        records = [
            UsageRecord(bucket_start=today, bucket_width="1d", kind="cost", model="m1", cost=Decimal("30.25")),
            UsageRecord(bucket_start=today, bucket_width="1d", kind="cost", model="m2", cost=Decimal("10.00")),
            UsageRecord(
                bucket_start=today, bucket_width="1d", kind="cost", model="m3", cost=Decimal("9"), currency="EUR"
            ),
        ]
        ingest(session=s, account=account, records=records)
    body = {"name": "Day", "period": "day", "amount": "50", "basis": "both"}
    b = api.call("POST", "/api/budgets", ctx["token"], json=body).get_json()
    st = b["status"]
    assert (st["spent"], st["remaining"], st["percent"], st["forecast"]) == ("40.25", "9.75", "80.5", "40.25")
    assert st["period"]["key"] == today.date().isoformat() and st["period"]["timezone"] == "UTC"
    scoped = {"name": "m2 only", "period": "day", "amount": "20", "scope": {"model": "m2"}}
    assert api.call("POST", "/api/budgets", ctx["token"], json=scoped).get_json()["status"]["percent"] == "50.0"


def test_viewers_read_but_do_not_write(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    made = api.call("POST", "/api/budgets", t, json={"name": "x", "amount": 1}).get_json()
    invite = api.call("POST", "/api/workspaces/1/invites", t, json={"email": "v@example.com", "role": "viewer"})
    viewer = api.register("v@example.com", invite_token=invite.get_json()["token"])["access_token"]
    assert api.call("GET", f"/api/budgets/{made['id']}", viewer).status_code == 200
    assert api.call("POST", "/api/budgets", viewer, json={"name": "y", "amount": 1}).status_code == 403
    assert api.call("PATCH", f"/api/budgets/{made['id']}", viewer, json={"muted": True}).status_code == 403
    assert api.call("DELETE", f"/api/budgets/{made['id']}", viewer).status_code == 403


def test_the_signed_mute_link_mutes_without_signing_in(api: Api, client: Any, ctx: dict[str, Any]) -> None:
    made = api.call("POST", "/api/budgets", ctx["token"], json={"name": "Team", "amount": 1}).get_json()
    rule_id = made["id"]
    with ctx["db"].system_session() as s:
        rule = s.get(AlertRule, rule_id)
        good, forged = mute_token(rule, SECRET), mute_token(rule, "some-other-secret-key")
    as_json = {"Accept": "application/json"}
    for token in (forged, "garbage"):
        r = client.post(f"/api/alert-rules/{rule_id}/mute?token={token}", headers=as_json)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "bad_token"
    r = client.post(f"/api/alert-rules/{rule_id + 1}/mute?token={good}", headers=as_json)  # another rule's path
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "bad_token"
    assert api.call("GET", f"/api/budgets/{rule_id}", ctx["token"]).get_json()["muted"] is False
    r = client.post(f"/api/alert-rules/{rule_id}/mute?token={good}", headers=as_json)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["muted"] is True and r.get_json()["rule_id"] == rule_id
    assert api.call("GET", f"/api/budgets/{rule_id}", ctx["token"]).get_json()["muted"] is True
    # A mail client's RFC 8058 one-click POST (a form body, no Accept header) mutes as well.
    one_click = client.post(f"/api/alert-rules/{rule_id}/mute?token={good}", data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and one_click.mimetype == "text/html"
    assert client.get(f"/api/alert-rules/{rule_id}/mute").status_code == 422
