"""GET /api/budgets carries each budget's current status (what a dashboard gauge needs), the same as the detail,
for AI and money budgets alike, computed for all budgets together rather than budget by budget."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from backend.models import BankAccount, ProviderAccount, Transaction
from backend.services import money_ingest
from backend.services.categories import ensure_defaults
from backend.services.ingest import ingest
from backend.services.money_ingest import NewTransaction
from integrations.records import UsageRecord
from jobs.alerts import evaluate_workspace
from tests.conftest import Api

TODAY = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.fixture
def ctx(app: Any, api: Api, owner: dict[str, Any]) -> dict[str, Any]:
    token = owner["access_token"]
    body = {"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-key-for-list-tests"}}
    account = api.call("POST", "/api/accounts", token, json=body).get_json()["id"]
    db = app.extensions["spendwatch"].db
    with db.system_session() as s:
        keys = ensure_defaults(s, 1)
        card = BankAccount(workspace_id=1, name="Card", currency="USD")
        s.add(card)
        s.flush()
        card_id = card.id
        records = [
            UsageRecord(bucket_start=TODAY, bucket_width="1d", kind="cost", model="m1", cost=Decimal("30.25")),
            UsageRecord(bucket_start=TODAY, bucket_width="1d", kind="cost", model="m2", cost=Decimal("10.00")),
        ]
        ingest(session=s, account=s.get(ProviderAccount, account), records=records)
        items = [
            NewTransaction(
                fingerprint=money_ingest.unique_fingerprint(),
                posted_on=TODAY.date(),
                amount=Decimal(amount),
                currency="USD",
                description=text,
            )
            for amount, text in (("-120.00", "Whole Foods"), ("-30.00", "Trader Joe's"))
        ]
        stored = money_ingest.store(s, bank_account=s.get(BankAccount, card_id), items=items, update_existing=False)
        for row_id in stored.added:
            s.get(Transaction, row_id).category_id = keys["groceries"]
    settings = app.extensions["spendwatch"].settings
    return {"token": token, "db": db, "settings": settings, "keys": keys, "card": card_id}


def _create(api: Api, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.call("POST", "/api/budgets", token, json=body)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


@contextmanager
def _statements(db: Any) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_the_list_carries_each_budgets_status_as_the_detail_shows_it(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    day = _create(api, t, {"name": "AI today", "period": "day", "amount": "50", "basis": "both"})
    m2 = _create(api, t, {"name": "m2 this week", "period": "week", "amount": "20", "scope": {"model": "m2"}})
    food = {"name": "Food", "amount": "200", "scope": {"category_id": ctx["keys"]["food"]}}
    money = _create(api, t, food)
    card = _create(
        api, t, {"name": "Card", "period": "day", "amount": "100", "scope": {"bank_account_id": ctx["card"]}}
    )
    evaluate_workspace(ctx["db"], ctx["settings"], 1)  # fires 50 % and 80 % of "AI today", 100 % of "Card"…

    listed = api.call("GET", "/api/budgets", t)
    assert listed.status_code == 200, listed.get_json()
    items = {b["id"]: b for b in listed.get_json()["items"]}
    assert list(items) == [day["id"], m2["id"], money["id"], card["id"]]  # oldest first
    for budget_id, item in items.items():
        detail = api.call("GET", f"/api/budgets/{budget_id}", t).get_json()
        assert item == detail

    st = items[day["id"]]["status"]
    assert (st["spent"], st["remaining"], st["percent"], st["forecast"]) == ("40.25", "9.75", "80.5", "40.25")
    assert st["period"] == {
        "key": TODAY.date().isoformat(),
        "start": TODAY.date().isoformat(),
        "end": TODAY.date().isoformat(),
        "timezone": "UTC",
    }
    states = {s["key"]: (s["level"], s["state"]) for s in st["thresholds"]}
    assert states == {
        "actual:50%": ("25.00", "firing"),
        "actual:80%": ("40.00", "firing"),
        "actual:100%": ("50.00", "ok"),
        "forecast:50%": ("25.00", "firing"),
        "forecast:80%": ("40.00", "firing"),
        "forecast:100%": ("50.00", "ok"),
    }
    assert all(s["since"] for s in st["thresholds"] if s["state"] == "firing")
    assert items[m2["id"]]["status"]["spent"] == "10.00" and items[m2["id"]]["status"]["percent"] == "50.0"
    # Money budgets: bank transactions of the category (with its subcategories) and of the account.
    assert items[money["id"]]["status"]["spent"] == "150.00"
    assert items[money["id"]]["status"]["percent"] == "75.0"
    card_status = items[card["id"]]["status"]
    assert card_status["spent"] == "150.00" and card_status["remaining"] == "0.00"
    assert [(s["key"], s["state"]) for s in card_status["thresholds"]] == [
        ("actual:50%", "firing"),
        ("actual:80%", "firing"),
        ("actual:100%", "firing"),
    ]


def test_the_list_costs_the_same_queries_for_four_budgets_as_for_forty(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]

    def add(count: int) -> None:
        for i in range(count):
            if i % 2:
                _create(api, t, {"name": f"AI {i}", "amount": "100", "scope": {"model": "m1"}})
            else:
                _create(api, t, {"name": f"Food {i}", "amount": "100", "scope": {"category_id": ctx["keys"]["food"]}})

    add(4)
    with _statements(ctx["db"]) as few:
        assert len(api.call("GET", "/api/budgets", t).get_json()["items"]) == 4
    add(36)
    with _statements(ctx["db"]) as many:
        response = api.call("GET", "/api/budgets", t).get_json()
    assert len(response["items"]) == 40 and all(b["status"]["spent"] for b in response["items"])
    assert len(many) == len(few), many


def test_no_budgets_is_an_empty_list(api: Api, ctx: dict[str, Any]) -> None:
    assert api.call("GET", "/api/budgets", ctx["token"]).get_json() == {"items": []}
