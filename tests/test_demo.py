"""Demo data: POST/GET/DELETE /api/demo and `spendwatch demo`, through the API and the real console script."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from backend.db import utcnow
from backend.models import Base, Channel, DeliveryAttempt, Notification, Workspace
from backend.services import demo
from backend.services.delivery import deliver_due
from backend.services.periods import local_today
from integrations.providers.demo import DemoProvider
from integrations.records import SyncWindow
from tests.conftest import Api
from tests.test_cli import assert_no_traceback, cli, cli_env  # noqa: F401 - fixtures


def db_of(app: Any) -> Any:
    return app.extensions["spendwatch"].db


def table_counts(app: Any) -> dict[str, int]:
    """Rows of every table (all workspaces)."""
    with db_of(app).system_session() as session:
        return {
            t.name: int(session.scalar(text(f"SELECT COUNT(*) FROM {t.name}"))) for t in Base.metadata.sorted_tables
        }


def workspace_counts(app: Any, workspace_id: int) -> dict[str, int]:
    """Rows of every tenant table that belong to WORKSPACE_ID."""
    counts = {}
    with db_of(app).system_session() as session:
        for table in Base.metadata.sorted_tables:
            if "workspace_id" in table.c:
                counts[table.name] = int(
                    session.scalar(select(func.count()).select_from(table).where(table.c.workspace_id == workspace_id))
                )
    return counts


def expected_usage_cost(today: dt.date) -> Decimal:
    """What the demo provider reports for 90 days (first account) and 30 days (second), computed here directly."""
    total = Decimal(0)
    for api_key, days in (("demo-production", 90), ("demo-staging", 30)):
        start = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), tzinfo=dt.UTC)
        window = SyncWindow(start, start + dt.timedelta(days=days))
        for batch in DemoProvider({"api_key": api_key}).fetch_usage(window):
            total += sum((r.cost or Decimal(0) for r in batch.records), Decimal(0))
    return total


def all_transactions(api: Api, token: str, **query: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 200, **query, **({"cursor": cursor} if cursor else {})}
        page = api.call("GET", "/api/transactions", token, query_string=params)
        assert page.status_code == 200, page.get_json()
        body = page.get_json()
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items


def category_keys(api: Api, token: str) -> dict[int, str | None]:
    tree = api.call("GET", "/api/categories", token).get_json()["items"]
    keys = {}
    for node in tree:
        keys[node["id"]] = node["key"]
        for child in node["children"]:
            keys[child["id"]] = child["key"]
    return keys


@pytest.fixture
def token(owner: dict[str, Any]) -> str:
    return str(owner["access_token"])


def other_workspace(api: Api, admin_token: str) -> tuple[str, int]:
    """Bob's workspace, with a bank account and a transaction of its own."""
    opened = api.call("PATCH", "/api/admin/settings", admin_token, json={"registration_mode": "open"})
    assert opened.status_code == 200, opened.get_json()
    bob = api.register("bob@example.com", name="Bob")
    token, ws = bob["access_token"], bob["workspaces"][0]["workspace_id"]
    bank = api.call("POST", "/api/bank-accounts", token, json={"name": "Bob's checking", "currency": "USD"})
    assert bank.status_code == 201
    txn = api.call(
        "POST",
        "/api/transactions",
        token,
        json={
            "bank_account_id": bank.get_json()["id"],
            "posted_on": "2026-01-05",
            "amount": "-12.00",
            "description": "x",
        },
    )
    assert txn.status_code == 201
    return token, ws


def test_load_show_and_remove_demo_data(api: Api, app: Any, settings: Any, owner: dict[str, Any], token: str) -> None:
    ws = owner["workspaces"][0]["workspace_id"]
    bob_token, bob_ws = other_workspace(api, token)
    before = table_counts(app)
    bob_before = workspace_counts(app, bob_ws)

    status = api.call("GET", "/api/demo", token)
    assert status.status_code == 200
    assert status.get_json()["present"] is False

    created = api.call("POST", "/api/demo", token)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    now = utcnow()
    today = now.date()
    assert body["present"] is True
    assert [a["name"] for a in body["accounts"]] == ["Demo AI — Production", "Demo AI — Staging"]
    assert [b["name"] for b in body["bank_accounts"]] == ["Demo Checking"]
    assert sorted(b["name"] for b in body["budgets"]) == ["Demo AI spend", "Demo Groceries"]
    assert [c["name"] for c in body["channels"]] == ["Demo webhook"]
    assert all(item["name"].startswith("Demo") for key in ("accounts", "budgets", "channels") for item in body[key])

    # AI usage: exactly what the demo provider reports for the seeded windows, already on the dashboard.
    usage_cost = expected_usage_cost(today)
    assert Decimal(body["usage_cost"]) == usage_cost
    assert body["usage_records"] == (90 + 30) * 6  # one record per model and project and day
    summary = api.call(
        "GET",
        "/api/usage/summary",
        token,
        query_string={"from": (today - dt.timedelta(days=89)).isoformat(), "to": today.isoformat()},
    )
    assert summary.status_code == 200
    assert Decimal(summary.get_json()["totals"]["USD"]) == usage_cost
    accounts = api.call("GET", "/api/accounts", token).get_json()["items"]
    assert {a["kind"] for a in accounts} == {"demo"}
    assert all(a["config"] == {"demo": True} or a["config"].get("demo") is True for a in accounts)
    assert {a["status"] for a in accounts} == {"ok"}

    # Money: the seeded transactions, categorized, and the balance they add up to.
    with db_of(app).system_session() as session:
        timezone = session.scalar(select(Workspace.timezone).where(Workspace.id == ws)) or "UTC"
    local = local_today(now, timezone)
    seeded = demo.demo_transactions(local)
    txns = all_transactions(api, token)
    assert len(txns) == len(seeded) == body["transactions"]
    total = sum((Decimal(t["amount"]) for t in txns), Decimal(0))
    assert total == sum((t.amount for t in seeded), Decimal(0)) == Decimal(body["transactions_total"])
    bank = api.call("GET", "/api/bank-accounts", token).get_json()["items"][0]
    assert bank["account_id"] is None
    assert Decimal(bank["balance"]) == Decimal("4200.00") + total == Decimal(body["balance"])
    # Rent on every 1st, salary every other Friday: fixed amounts.
    start = demo._months_back(local, 3)
    firsts = [d for d in demo._days(start, local) if d.day == 1]
    rents = [t for t in txns if t["merchant"] == "Oakwood Property Management"]
    assert sorted(t["posted_on"] for t in rents) == [d.isoformat() for d in firsts]
    assert {Decimal(t["amount"]) for t in rents} == {Decimal("-1850.00")}
    pay = [t for t in txns if t["description"].startswith("ACME CORP PAYROLL")]
    assert pay and {Decimal(t["amount"]) for t in pay} == {Decimal("3245.18")}
    assert {dt.date.fromisoformat(t["posted_on"]).weekday() for t in pay} == {4}
    keys = category_keys(api, token)
    by_merchant = {t["merchant"]: keys.get(t["category_id"]) for t in txns}
    assert by_merchant["Oakwood Property Management"] == "rent"
    assert by_merchant["Acme Corp"] == "salary"
    assert by_merchant["Whole Foods Market"] == "groceries"
    assert by_merchant["Netflix"] == "streaming"
    assert by_merchant["Starbucks"] == "coffee"
    assert [t["pending"] for t in txns].count(True) == 1

    # Budgets: the Groceries one counts this month's groceries and has a threshold firing.
    budgets = {b["name"]: b for b in api.call("GET", "/api/budgets", token).get_json()["items"]}
    groceries = api.call("GET", f"/api/budgets/{budgets['Demo Groceries']['id']}", token).get_json()
    month_start = local.replace(day=1)
    spent = -sum(
        (
            Decimal(t["amount"])
            for t in txns
            if keys.get(t["category_id"]) == "groceries" and t["posted_on"] >= month_start.isoformat()
        ),
        Decimal(0),
    )
    assert Decimal(groceries["status"]["spent"]) == spent.quantize(Decimal("0.01"))
    assert spent >= Decimal("255.00")  # the 1st's big shop: more than half of 500
    firing = [t for t in groceries["status"]["thresholds"] if t["state"] == "firing"]
    assert firing and firing[0]["key"] == "actual:50%"
    alerts = api.call("GET", "/api/alerts", token, query_string={"limit": 50}).get_json()["items"]
    assert any(a["rule_id"] == budgets["Demo Groceries"]["id"] and a["state"] == "firing" for a in alerts)

    # The channel: disabled, never contacted, with a delivery log of history.
    channel_id = body["channels"][0]["id"]
    channel = api.call("GET", f"/api/channels/{channel_id}", token).get_json()
    assert channel["enabled"] is False and channel["kind"] == "webhook"
    assert channel["url"].startswith("https://example.invalid/")
    deliveries = api.call("GET", f"/api/channels/{channel_id}/deliveries", token)
    assert deliveries.status_code == 200
    log = deliveries.get_json()["items"]
    assert len(log) >= 3
    assert {d["notification_status"] for d in log} == {"delivered"}
    assert [d["response_code"] for d in log if not d["ok"]] == [503]
    assert any(d["event_type"] == "budget.threshold_crossed" for d in log)
    with db_of(app).system_session() as session:
        pending = session.scalar(select(func.count()).select_from(Notification).where(Notification.status == "pending"))
        attempts_before = session.scalar(select(func.count()).select_from(DeliveryAttempt))
        assert session.get(Channel, channel_id).last_delivery_at is not None
    assert pending == 0
    run = deliver_due(database=db_of(app), settings=settings, worker="test:demo")
    assert run.claimed == 0
    with db_of(app).system_session() as session:
        assert session.scalar(select(func.count()).select_from(DeliveryAttempt)) == attempts_before

    # Twice: 409, nothing added.
    counts = table_counts(app)
    again = api.call("POST", "/api/demo", token)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "demo_exists"
    assert table_counts(app) == counts

    # Bob's workspace saw nothing of it.
    assert api.call("GET", "/api/demo", bob_token).get_json()["present"] is False
    assert workspace_counts(app, bob_ws) == bob_before
    assert len(all_transactions(api, bob_token)) == 1

    # Removal: exactly the demo rows go; every table is back to its count before.
    shown = api.call("GET", "/api/demo", token).get_json()
    assert shown["present"] is True and shown["bank_accounts"] == body["bank_accounts"]
    removed = api.call("DELETE", "/api/demo", token)
    assert removed.status_code == 204
    assert api.call("GET", "/api/demo", token).get_json()["present"] is False
    assert table_counts(app) == before
    assert workspace_counts(app, bob_ws) == bob_before
    assert api.call("DELETE", "/api/demo", token).status_code == 204  # nothing left: still fine

    # And it can be loaded again.
    assert api.call("POST", "/api/demo", token).status_code == 201


def test_removal_keeps_what_people_added(api: Api, app: Any, token: str) -> None:
    """Categories the workspace used before stay; a user's own bank account and budget stay."""
    api.call("GET", "/api/categories", token)  # the defaults exist before the demo
    own = api.call("POST", "/api/bank-accounts", token, json={"name": "My savings", "currency": "USD"}).get_json()
    budget = api.call(
        "POST", "/api/budgets", token, json={"name": "Demo of my own", "amount": "100", "scope": {}}
    ).get_json()
    before = table_counts(app)
    assert api.call("POST", "/api/demo", token).status_code == 201
    assert api.call("DELETE", "/api/demo", token).status_code == 204
    after = table_counts(app)
    # The user's AI budget was evaluated with the demo's usage (an alert state may remain); everything else is back.
    assert {k: v for k, v in after.items() if k not in ("alert_states", "alert_events")} == {
        k: v for k, v in before.items() if k not in ("alert_states", "alert_events")
    }
    assert api.call("GET", f"/api/bank-accounts/{own['id']}", token).status_code == 200
    assert api.call("GET", f"/api/budgets/{budget['id']}", token).status_code == 200
    assert len(api.call("GET", "/api/categories", token).get_json()["items"]) > 0


def test_viewers_see_members_load(api: Api, owner: dict[str, Any], token: str) -> None:
    ws = owner["workspaces"][0]["workspace_id"]
    invite = api.call("POST", f"/api/workspaces/{ws}/invites", token, json={"email": "v@example.com", "role": "viewer"})
    viewer = api.register("v@example.com", invite_token=invite.get_json()["token"])["access_token"]
    assert api.call("GET", "/api/demo", viewer, workspace_id=ws).status_code == 200
    assert api.call("POST", "/api/demo", viewer, workspace_id=ws).status_code == 403
    assert api.call("DELETE", "/api/demo", viewer, workspace_id=ws).status_code == 403
    assert api.call("GET", "/api/demo", viewer, workspace_id=ws).get_json()["present"] is False


def test_the_data_is_deterministic() -> None:
    """Same day, same data; a later day keeps the earlier days' transactions (dates relative to today)."""
    today = dt.date(2026, 3, 17)
    first = demo.demo_transactions(today)
    assert first == demo.demo_transactions(today)
    later = demo.demo_transactions(today + dt.timedelta(days=1))
    settled = [t for t in first if not t.pending]
    assert [t for t in later if t.posted_on <= today] == settled
    assert len({t.fingerprint for t in first}) == len(first)
    assert first[0].posted_on == dt.date(2025, 12, 1)
    assert sum((t.amount for t in first), Decimal(0)) == sum((t.amount for t in first), Decimal(0))


def test_cli_loads_refuses_twice_and_removes(api: Api, app: Any, owner: dict[str, Any], cli: Any) -> None:  # noqa: F811
    ws = owner["workspaces"][0]["workspace_id"]
    token = owner["access_token"]
    before = table_counts(app)

    loaded = cli("demo")
    assert loaded.returncode == 0, loaded.stderr
    assert_no_traceback(loaded)
    assert f"loaded demo data into workspace {ws}" in loaded.stdout
    status = api.call("GET", "/api/demo", token).get_json()
    assert status["present"] is True and len(status["accounts"]) == 2
    assert Decimal(api.call("GET", "/api/bank-accounts", token).get_json()["items"][0]["balance"]) > 0

    twice = cli("demo", "--workspace", str(ws))
    assert twice.returncode != 0
    assert_no_traceback(twice)
    assert "already has the demo data" in twice.stderr

    removed = cli("demo", "--remove")
    assert removed.returncode == 0, removed.stderr
    assert "removed the demo data" in removed.stdout
    assert api.call("GET", "/api/demo", token).get_json()["present"] is False
    assert table_counts(app) == before

    unknown = cli("demo", "--workspace", "999")
    assert unknown.returncode != 0 and "no workspace with id 999" in unknown.stderr
