"""/api/alert-rules: anomaly and sync-health rules. Defaults, validation (422, nothing stored), channels, roles,
other workspaces, and the current states shown by GET."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.models import AlertRule, Channel, DailySpend, ProviderAccount, RuleChannel
from backend.services import alerting
from tests.conftest import Api


@pytest.fixture
def db(app: Any) -> Any:
    return app.extensions["spendwatch"].db


@pytest.fixture
def token(owner: dict[str, Any]) -> str:
    return str(owner["access_token"])


def _channel(db: Any, workspace_id: int = 1, name: str = "ops") -> int:
    with db.system_session() as s:
        channel = Channel(workspace_id=workspace_id, name=name, kind="email", config={"recipients": ["o@example.com"]})
        s.add(channel)
        s.flush()
        return int(channel.id)


def _account(db: Any, workspace_id: int = 1, kind: str = "demo") -> int:
    with db.system_session() as s:
        account = ProviderAccount(
            workspace_id=workspace_id, kind=kind, name=kind, credentials={"api_key": "demo-x"}, config={}
        )
        s.add(account)
        s.flush()
        return int(account.id)


def _counts(db: Any) -> tuple[int, int]:
    with db.system_session() as s:
        rules = s.scalar(select(func.count()).select_from(AlertRule))
        links = s.scalar(select(func.count()).select_from(RuleChannel))
        return int(rules or 0), int(links or 0)


def _create(api: Api, token: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = api.call("POST", "/api/alert-rules", token, json=body)
    assert response.status_code == status, response.get_json()
    return dict(response.get_json())


def test_create_with_defaults(api: Api, token: str, db: Any) -> None:
    channel = _channel(db)
    anomaly = _create(api, token, {"name": "Spikes", "kind": "anomaly", "channels": [channel]})
    assert anomaly["kind"] == "anomaly" and anomaly["workspace_id"] == 1
    assert anomaly["params"] == {"z_threshold": "3.5", "min_amount": "5.00", "baseline_days": 28, "currency": "USD"}
    assert anomaly["scope"] == {"provider": None, "account_id": None, "model": None, "project": None}
    assert anomaly["channels"] == [channel]
    assert (anomaly["muted"], anomaly["snoozed_until"], anomaly["repeat_minutes"]) == (False, None, None)
    assert anomaly["notify_on_resolve"] is False
    assert (anomaly["firing"], anomaly["states"]) == (False, [])
    health = _create(api, token, {"name": "Health", "kind": "sync_health"})
    assert health["params"] == {"failures": 3, "stale_hours": 24}
    assert health["notify_on_resolve"] is True and health["channels"] == []
    assert _counts(db) == (2, 1)


def test_create_with_everything(api: Api, token: str, db: Any) -> None:
    account = _account(db)
    body = {
        "name": "GPT spikes",
        "kind": "anomaly",
        "scope": {"provider": "demo", "account_id": account, "model": "demo-large", "project": "web"},
        "params": {"z_threshold": 5, "min_amount": "20.5", "baseline_days": 14, "currency": "eur"},
        "muted": True,
        "snoozed_until": "2026-12-01T08:00:00+01:00",
        "repeat_minutes": 240,
        "notify_on_resolve": True,
    }
    rule = _create(api, token, body)
    assert rule["scope"] == {"provider": "demo", "account_id": account, "model": "demo-large", "project": "web"}
    assert rule["params"] == {"z_threshold": "5", "min_amount": "20.5", "baseline_days": 14, "currency": "EUR"}
    assert dt.datetime.fromisoformat(rule["snoozed_until"]) == dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)
    assert (rule["muted"], rule["repeat_minutes"], rule["notify_on_resolve"]) == (True, 240, True)
    with db.system_session() as s:
        stored = s.get(AlertRule, rule["id"])
        assert (stored.currency, stored.scope_model, stored.params["min_amount"]) == ("EUR", "demo-large", "20.5")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "kind": "budget"},
        {"name": "x", "kind": "weather"},
        {"name": "", "kind": "anomaly"},
        {"name": "x", "kind": "anomaly", "params": {"z_threshold": "0.5"}},
        {"name": "x", "kind": "anomaly", "params": {"z_threshold": 21}},
        {"name": "x", "kind": "anomaly", "params": {"z_threshold": "NaN"}},
        {"name": "x", "kind": "anomaly", "params": {"min_amount": "-0.01"}},
        {"name": "x", "kind": "anomaly", "params": {"baseline_days": 6}},
        {"name": "x", "kind": "anomaly", "params": {"baseline_days": 91}},
        {"name": "x", "kind": "anomaly", "params": {"currency": "US"}},
        {"name": "x", "kind": "anomaly", "params": {"currency": 12}},
        {"name": "x", "kind": "anomaly", "params": {"failures": 3}},
        {"name": "x", "kind": "sync_health", "params": {"failures": 0}},
        {"name": "x", "kind": "sync_health", "params": {"failures": 101}},
        {"name": "x", "kind": "sync_health", "params": {"stale_hours": 721}},
        {"name": "x", "kind": "sync_health", "params": {"currency": "USD"}},
        {"name": "x", "kind": "sync_health", "scope": {"model": "gpt"}},
        {"name": "x", "kind": "sync_health", "scope": {"provider": "manual"}},
        {"name": "x", "kind": "anomaly", "scope": {"provider": "nope"}},
        {"name": "x", "kind": "anomaly", "scope": {"account_id": 999}},
        {"name": "x", "kind": "anomaly", "scope": {"colour": "red"}},
        {"name": "x", "kind": "anomaly", "channels": [999]},
        {"name": "x", "kind": "anomaly", "channels": [1, 1]},
        {"name": "x", "kind": "anomaly", "snoozed_until": "2026-12-01T08:00:00"},
        {"name": "x", "kind": "anomaly", "repeat_minutes": 0},
        {"name": "x", "kind": "anomaly", "surprise": True},
    ],
)
def test_bad_input_is_422_and_nothing_is_stored(api: Api, token: str, db: Any, body: dict[str, Any]) -> None:
    _channel(db)  # id 1 exists: [1, 1] fails only for repeating
    response = api.call("POST", "/api/alert-rules", token, json=body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] in {"validation_error", "invalid", "bad_scope", "unknown_channel"} and error["message"]
    assert _counts(db) == (0, 0)


def test_a_manual_account_cannot_be_watched_for_sync_health(api: Api, token: str, db: Any) -> None:
    manual = _account(db, kind="manual")
    body = {"name": "x", "kind": "sync_health", "scope": {"account_id": manual}}
    assert _create(api, token, body, 422)["error"]["code"] == "bad_scope"
    demo = _account(db)
    body = {"name": "x", "kind": "sync_health", "scope": {"account_id": demo, "provider": "openai"}}
    assert _create(api, token, body, 422)["error"]["code"] == "bad_scope"
    assert _counts(db) == (0, 0)


def test_another_workspaces_channel_and_account_are_unknown(api: Api, token: str, db: Any) -> None:
    open_signup = api.call("PATCH", "/api/admin/settings", token, json={"registration_mode": "open"})
    assert open_signup.status_code == 200, open_signup.get_json()
    other = api.register("other@example.com", workspace_name="Other")
    other_ws = other["workspaces"][0]["workspace_id"]
    theirs = _channel(db, workspace_id=other_ws, name="theirs")
    their_account = _account(db, workspace_id=other_ws)
    error = _create(api, token, {"name": "x", "kind": "anomaly", "channels": [theirs]}, 422)["error"]
    assert error["code"] == "unknown_channel" and error["details"][0]["loc"] == ["channels"]
    assert str(theirs) in error["details"][0]["msg"]
    body = {"name": "x", "kind": "anomaly", "scope": {"account_id": their_account}}
    assert _create(api, token, body, 422)["error"]["code"] == "bad_scope"
    assert _counts(db) == (0, 0)
    # And their rules are not listed here, nor found by id.
    their_rule = _create(api, other["access_token"], {"name": "theirs", "kind": "sync_health"})
    assert api.call("GET", "/api/alert-rules", token).get_json()["items"] == []
    assert api.call("GET", f"/api/alert-rules/{their_rule['id']}", token).status_code == 404


def test_list_filters_by_kind_and_hides_budgets(api: Api, token: str, db: Any) -> None:
    a = _create(api, token, {"name": "a", "kind": "anomaly"})
    h = _create(api, token, {"name": "h", "kind": "sync_health"})
    with db.system_session() as s:
        budget = AlertRule(workspace_id=1, name="b", kind="budget", period="month", amount=Decimal(100))
        s.add(budget)
        s.flush()
        budget_id = budget.id

    def names(**query: str) -> list[str]:
        response = api.call("GET", "/api/alert-rules", token, query_string=query)
        assert response.status_code == 200, response.get_json()
        return [r["name"] for r in response.get_json()["items"]]

    assert names() == ["a", "h"]
    assert names(kind="anomaly") == ["a"] and names(kind="sync_health") == ["h"]
    assert api.call("GET", "/api/alert-rules", token, query_string={"kind": "budget"}).status_code == 422
    assert api.call("GET", f"/api/alert-rules/{budget_id}", token).status_code == 404
    assert api.call("DELETE", f"/api/alert-rules/{budget_id}", token).status_code == 404
    assert {a["id"], h["id"]} == {r["id"] for r in api.call("GET", "/api/alert-rules", token).get_json()["items"]}


def test_patch_merges_params_replaces_channels_and_validates_first(api: Api, token: str, db: Any) -> None:
    first, second = _channel(db, name="one"), _channel(db, name="two")
    rule = _create(
        api, token, {"name": "a", "kind": "anomaly", "channels": [first], "snoozed_until": "2026-12-01T00:00:00Z"}
    )
    path = f"/api/alert-rules/{rule['id']}"
    response = api.call(
        "PATCH", path, token, json={"params": {"min_amount": "1"}, "channels": [second], "snoozed_until": None}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["params"] == {"z_threshold": "3.5", "min_amount": "1", "baseline_days": 28, "currency": "USD"}
    assert (body["channels"], body["snoozed_until"], body["name"]) == ([second], None, "a")
    before = api.call("GET", path, token).get_json()
    for bad in (
        {"params": {"baseline_days": 100}, "name": "renamed"},
        {"channels": [999], "muted": True},
        {"scope": {"account_id": 999}},
        {"params": {"failures": 2}},
        {"kind": "sync_health"},
    ):
        response = api.call("PATCH", path, token, json=bad)
        assert response.status_code == 422, (bad, response.get_json())
        assert api.call("GET", path, token).get_json() == before, bad
    health = _create(api, token, {"name": "h", "kind": "sync_health"})
    response = api.call("PATCH", f"/api/alert-rules/{health['id']}", token, json={"params": {"stale_hours": 48}})
    assert response.get_json()["params"] == {"failures": 3, "stale_hours": 48}


def test_delete(api: Api, token: str, db: Any) -> None:
    rule = _create(api, token, {"name": "a", "kind": "anomaly", "channels": [_channel(db)]})
    assert api.call("DELETE", f"/api/alert-rules/{rule['id']}", token).status_code == 204
    assert api.call("GET", f"/api/alert-rules/{rule['id']}", token).status_code == 404
    assert _counts(db) == (0, 0)


def test_viewers_read_and_members_write(api: Api, token: str, db: Any) -> None:
    rule = _create(api, token, {"name": "a", "kind": "sync_health"})
    tokens = {}
    for role in ("viewer", "member"):
        invite = api.call(
            "POST", "/api/workspaces/1/invites", token, json={"email": f"{role}@example.com", "role": role}
        ).get_json()
        tokens[role] = api.register(f"{role}@example.com", invite_token=invite["token"])["access_token"]
    viewer, member = tokens["viewer"], tokens["member"]
    assert api.call("GET", "/api/alert-rules", viewer).status_code == 200
    assert api.call("GET", f"/api/alert-rules/{rule['id']}", viewer).status_code == 200
    for method, path, body in (
        ("POST", "/api/alert-rules", {"name": "v", "kind": "anomaly"}),
        ("PATCH", f"/api/alert-rules/{rule['id']}", {"muted": True}),
        ("DELETE", f"/api/alert-rules/{rule['id']}", None),
    ):
        assert api.call(method, path, viewer, json=body).status_code == 403
    assert api.call("PATCH", f"/api/alert-rules/{rule['id']}", member, json={"muted": True}).status_code == 200
    assert _create(api, member, {"name": "m", "kind": "anomaly"})["name"] == "m"


def test_get_shows_the_current_states(api: Api, token: str, db: Any) -> None:
    account = _account(db)
    now = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    yesterday = now.date() - dt.timedelta(days=1)
    with db.system_session() as s:
        s.add_all(
            DailySpend(
                workspace_id=1,
                account_id=account,
                provider="demo",
                day=yesterday - dt.timedelta(days=n),
                model="m",
                project="",
                currency="USD",
                cost=Decimal("30.00" if n == 0 else "10.00"),
                cost_source="provider",
            )
            for n in range(29)
        )
    rule = _create(api, token, {"name": "a", "kind": "anomaly"})
    with db.system_session() as s:
        alerting.evaluate(session=s, now=now)
    body = api.call("GET", f"/api/alert-rules/{rule['id']}", token).get_json()
    assert body["firing"] is True
    states = [(st["period_key"], st["threshold_key"], st["state"], st["firing"]) for st in body["states"]]
    assert states == [("2026-11-21", "anomaly", "firing", True)]
    assert Decimal(body["states"][0]["value"]) == Decimal(30)  # the day's spend
    assert dt.datetime.fromisoformat(body["states"][0]["since"]) == now
