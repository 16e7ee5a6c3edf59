"""Budgets on categories and bank accounts: bank spending crosses thresholds through the same rules, states and
channels as AI spend; "can I afford X in category Y?"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from backend.models import AlertEvent, BankAccount, Channel, Transaction
from backend.services import money_ingest, recurring
from backend.services.categories import ensure_defaults
from backend.services.money_ingest import NewTransaction
from jobs.alerts import evaluate_workspace
from tests.conftest import Api

TODAY = dt.datetime.now(dt.UTC).date()


@pytest.fixture
def ctx(app: Any, api: Api, owner: dict[str, Any]) -> dict[str, Any]:
    db = app.extensions["spendwatch"].db
    with db.system_session() as s:
        keys = ensure_defaults(s, 1)
        checking = BankAccount(workspace_id=1, name="Checking", currency="USD")
        card = BankAccount(workspace_id=1, name="Card", currency="USD")
        mail = Channel(workspace_id=1, name="mail", kind="email", config={"recipients": ["o@example.com"]})
        s.add_all([checking, card, mail])
        s.flush()
        ids = {"checking": checking.id, "card": card.id, "mail": mail.id}
    settings = app.extensions["spendwatch"].settings
    return {"db": db, "settings": settings, "token": owner["access_token"], "keys": keys, **ids}


def _store(ctx: dict[str, Any], bank: str, rows: list[tuple[str, str, str, str]], day: dt.date = TODAY) -> list[int]:
    """Store (amount, description, category key or "", currency) rows on DAY; returns their ids."""
    items = [
        NewTransaction(
            fingerprint=money_ingest.unique_fingerprint(),
            posted_on=day,
            amount=Decimal(amount),
            currency=currency,
            description=text,
        )
        for amount, text, _key, currency in rows
    ]
    with ctx["db"].system_session() as s:
        stored = money_ingest.store(s, bank_account=s.get(BankAccount, ctx[bank]), items=items, update_existing=False)
        for row_id, (_a, _t, key, _c) in zip(stored.added, rows, strict=True):
            row = s.get(Transaction, row_id)
            row.category_id = ctx["keys"][key] if key else None
            row.category_source = "manual" if key else None
        return stored.added


def _seed(ctx: dict[str, Any]) -> None:
    _store(
        ctx,
        "card",
        [
            ("-300.00", "Whole Foods Market", "groceries", "USD"),
            ("-250.00", "Trader Joe's", "groceries", "USD"),
            ("20.00", "Whole Foods refund", "groceries", "USD"),
            ("-40.00", "Pasta place", "restaurants", "USD"),
            ("-500.00", "Lidl Berlin", "groceries", "EUR"),  # another currency: not in a USD budget
        ],
    )
    excluded = _store(ctx, "card", [("-100.00", "Costco for the office", "groceries", "USD")])
    with ctx["db"].system_session() as s:
        s.get(Transaction, excluded[0]).excluded = True
    # A card payment from checking: a transfer between own accounts, counted nowhere.
    _store(ctx, "checking", [("-700.00", "Card payment", "", "USD")])
    _store(ctx, "card", [("700.00", "Payment received", "", "USD")])


def test_a_category_budget_counts_its_subcategories_refunds_and_nothing_else(api: Api, ctx: dict[str, Any]) -> None:
    _seed(ctx)
    with ctx["db"].system_session() as s:
        assert s.scalar(select(Transaction.is_transfer).where(Transaction.description == "Card payment")) is True
    body = {"name": "Food", "amount": "600", "scope": {"category_id": ctx["keys"]["food"]}, "channels": [ctx["mail"]]}
    created = api.call("POST", "/api/budgets", ctx["token"], json=body)
    assert created.status_code == 201, created.get_json()
    budget = created.get_json()
    # -300 - 250 + 20 (refund) - 40 (restaurants: a subcategory of food) = 570 spent of 600.
    assert (budget["status"]["spent"], budget["status"]["percent"]) == ("570.00", "95.0")
    assert budget["scope"]["category_id"] == ctx["keys"]["food"]
    assert evaluate_workspace(ctx["db"], ctx["settings"], 1)["notifications"] == 1
    with ctx["db"].system_session() as s:
        [event] = s.scalars(select(AlertEvent)).all()
    assert (event.type, event.threshold_key) == ("budget.threshold_crossed", "actual:80%")
    assert (event.payload["spent"], event.payload["budget"]) == ("570.00", "600.00")
    assert event.payload["top_contributors"][:2] == [
        {"dimension": "merchant", "name": "Whole Foods Market", "cost": "300.00"},
        {"dimension": "merchant", "name": "Trader Joe's", "cost": "250.00"},
    ]
    assert {"dimension": "category", "name": "Groceries", "cost": "530.00"} in event.payload["top_contributors"]


def test_an_account_budget_counts_money_out_only(api: Api, ctx: dict[str, Any]) -> None:
    _seed(ctx)
    body = {"name": "Card", "amount": "1000", "scope": {"bank_account_id": ctx["card"]}}
    status = api.call("POST", "/api/budgets", ctx["token"], json=body).get_json()["status"]
    # Out of the card: 300 + 250 + 40 (the refund and the payment received are money in; EUR and excluded: no).
    assert status["spent"] == "590.00"


def test_can_i_afford_it(api: Api, ctx: dict[str, Any]) -> None:
    _seed(ctx)
    food = {"name": "Food", "amount": "600", "scope": {"category_id": ctx["keys"]["food"]}}
    api.call("POST", "/api/budgets", ctx["token"], json=food)
    groceries_id = ctx["keys"]["groceries"]
    small = api.call("POST", "/api/budgets/check", ctx["token"], json={"category_id": groceries_id, "amount": "20"})
    assert small.status_code == 200, small.get_json()
    answer = small.get_json()
    assert answer["fits"] is True and [b["name"] for b in answer["budgets"]] == ["Food"]
    [budget] = answer["budgets"]
    assert (budget["remaining"], budget["remaining_after"], budget["percent_after"]) == ("30.00", "10.00", "98.3")
    assert budget["would_cross"] == []  # 50 % and 80 % fire already; 100 % is not reached
    big = api.call("POST", "/api/budgets/check", ctx["token"], json={"category_id": groceries_id, "amount": "45"})
    [budget] = big.get_json()["budgets"]
    assert big.get_json()["fits"] is False and budget["remaining_after"] == "-15.00"
    assert [c["key"] for c in budget["would_cross"]] == ["actual:100%"]
    assert "Food" in big.get_json()["message"]
    other = {"category_id": ctx["keys"]["travel"], "amount": "9999"}
    none = api.call("POST", "/api/budgets/check", ctx["token"], json=other).get_json()
    assert none == {"fits": True, "amount": "9999", "currency": "USD", "budgets": [], "message": none["message"]}


def test_the_forecast_of_a_money_budget_includes_recurring_charges_still_due(api: Api, ctx: dict[str, Any]) -> None:
    # A monthly streaming charge for the last six months.
    for months_back in range(6, 0, -1):
        day = TODAY - dt.timedelta(days=30 * months_back)
        _store(ctx, "card", [("-15.99", "NETFLIX.COM", "streaming", "USD")], day=day)
    body = {"name": "Subs", "amount": "500", "period": "year", "scope": {"category_id": ctx["keys"]["subscriptions"]}}
    status = api.call("POST", "/api/budgets", ctx["token"], json=body).get_json()["status"]
    with ctx["db"].system_session() as s:
        year_end = dt.date(TODAY.year, 12, 31)
        due = recurring.due_in_period(
            s,
            1,
            dt.date(TODAY.year, 1, 1),
            year_end,
            TODAY,
            {ctx["keys"]["subscriptions"], ctx["keys"]["streaming"]},
            None,
        )
    assert due > 0 or (TODAY.month == 12 and TODAY.day > 25)
    spent = Decimal(status["spent"])
    # Run-rate of the last 7 days is 0 here (no charge in the last week), so forecast = spent + what is still due.
    assert Decimal(status["forecast"]) == (spent + due).quantize(Decimal("0.01"))


def test_bad_money_scopes_are_refused(api: Api, ctx: dict[str, Any]) -> None:
    mixed = {"name": "x", "amount": "1", "scope": {"category_id": ctx["keys"]["food"], "provider": "openai"}}
    assert api.call("POST", "/api/budgets", ctx["token"], json=mixed).status_code == 422
    unknown = {"name": "x", "amount": "1", "scope": {"category_id": 999999}}
    response = api.call("POST", "/api/budgets", ctx["token"], json=unknown)
    assert response.status_code == 422 and response.get_json()["error"]["details"][0]["loc"] == ["scope", "category_id"]
    nothing = api.call("POST", "/api/budgets/check", ctx["token"], json={"amount": "5"})
    assert nothing.status_code == 422
    assert api.call("GET", "/api/budgets", ctx["token"]).get_json()["items"] == []
