"""/api/analytics: spend per month and category (with parent roll-ups), income and expense per month, and top
merchants; exact Decimal totals computed by hand, currencies kept apart, transfers, excluded and pending left out."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from backend.models import BankAccount, Transaction
from backend.services import money_ingest
from backend.services.categories import ensure_defaults
from tests.conftest import Api

RANGE = {"from": "2024-01-01", "to": "2024-03-31"}


def make_bank(api: Api, token: str, name: str, currency: str) -> int:
    response = api.call("POST", "/api/bank-accounts", token, json={"name": name, "currency": currency})
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def seed(app: Any, bank_account_id: int, rows: list[tuple[Any, ...]], cats: dict[str, int]) -> list[int]:
    """Store ROWS (date, amount, description, merchant, category key or None, extra fields) as statement lines,
    then give each the category a person chose (so keyword guesses play no part)."""
    db = app.extensions["spendwatch"].db
    with db.system_session() as s:
        bank = s.get(BankAccount, bank_account_id)
        assert bank is not None
        items = [
            money_ingest.NewTransaction(
                fingerprint=f"stmt:{uuid.uuid4().hex}",
                posted_on=dt.date.fromisoformat(on),
                amount=Decimal(amount),
                currency=bank.currency,
                description=description,
                merchant=merchant,
                pending=bool(extra.get("pending")),
            )
            for on, amount, description, merchant, _, extra in rows
        ]
        added = money_ingest.store(s, bank_account=bank, items=items, update_existing=False).added
        for txn_id, (_, _, _, _, key, extra) in zip(added, rows, strict=True):
            row = s.get(Transaction, txn_id)
            assert row is not None
            row.category_id = cats[key] if key else None
            row.category_source = "manual"
            row.excluded = bool(extra.get("excluded"))
        return added


@pytest.fixture
def data(app: Any, api: Api, owner: dict[str, Any]) -> dict[str, Any]:
    token = owner["access_token"]
    checking = make_bank(api, token, "Checking", "USD")
    card = make_bank(api, token, "Card", "USD")
    euro = make_bank(api, token, "Euro", "EUR")
    with app.extensions["spendwatch"].db.system_session() as s:
        cats = ensure_defaults(s, 1)
    no: dict[str, Any] = {}
    c = seed(
        app,
        checking,
        [
            ("2024-01-01", "-100.10", "WHOLE FOODS 1", "Whole Foods", "groceries", no),  # 0
            ("2024-01-31", "-12.00", "MARKET STALL", "Market", "food", no),  # 1: the parent itself
            ("2024-01-31", "-1500", "LANDLORD", "", "rent", no),  # 2
            ("2024-01-31", "3000", "PAYROLL ACME", "", "salary", no),  # 3
            ("2024-01-10", "20.00", "WHOLE FOODS REFUND", "Whole Foods", "groceries", no),  # 4: income, not -spend
            ("2024-01-05", "-500", "To card", "", None, no),  # 5: a transfer
            ("2024-01-07", "-99", "Returned later", "Whole Foods", "groceries", {"excluded": True}),  # 6
            ("2024-01-09", "-5.55", "MYSTERY CHARGE", "", None, no),  # 7
            ("2024-02-01", "-60.6667", "WHOLE FOODS 2", "Whole Foods", "groceries", no),  # 8
            ("2024-02-15", "3000", "PAYROLL ACME", "", "salary", no),  # 9
            ("2023-12-31", "-1000", "Before the range", "Whole Foods", "groceries", no),  # 10
            ("2024-04-01", "-1", "After the range", "Whole Foods", "groceries", no),  # 11
        ],
        cats,
    )
    k = seed(
        app,
        card,
        [
            ("2024-01-15", "-45.25", "WHOLE FOODS 3", "Whole Foods", "groceries", no),  # 0
            ("2024-01-20", "-30.3333", "Pizza Place 12", "", "restaurants", no),  # 1: no merchant
            ("2024-01-06", "500", "From checking", "", None, no),  # 2: the transfer's other half
            ("2024-01-08", "-77", "Pending thing", "Whole Foods", "groceries", {"pending": True}),  # 3
            ("2024-02-29", "-40", "PIZZA", "Pizza Place 12", "restaurants", no),  # 4
        ],
        cats,
    )
    e = seed(
        app,
        euro,
        [
            ("2024-01-03", "-19.99", "LIDL 1", "Lidl", "groceries", no),
            ("2024-02-03", "-5.01", "LIDL 2", "Lidl", "groceries", no),
            ("2024-02-04", "100", "Gift", "", None, no),
        ],
        cats,
    )
    return {"token": token, "cats": cats, "checking": c, "card": k, "euro": e}


def get(api: Api, token: str, path: str, **params: Any) -> Any:
    response = api.call("GET", f"/api/analytics/{path}", token, query_string={**RANGE, **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def by_category(body: dict[str, Any]) -> dict[tuple[str, str, int | None], tuple[Any, ...]]:
    return {
        (i["month"], i["currency"], i["category_id"]): (
            i["parent_id"],
            i["spend"],
            i["count"],
            i["total"],
            i["total_count"],
        )
        for i in body["items"]
    }


def test_the_transfer_is_paired(app: Any, data: dict[str, Any]) -> None:
    with app.extensions["spendwatch"].db.system_session() as s:
        out = s.get(Transaction, data["checking"][5])
        assert out is not None and out.is_transfer and out.transfer_peer_id == data["card"][2]
        # Nothing else was paired by accident.
        assert [r.id for r in s.query(Transaction).filter(Transaction.is_transfer.is_(True))] == sorted(
            [data["checking"][5], data["card"][2]]
        )


def test_spending_by_category(api: Api, data: dict[str, Any]) -> None:
    c = data["cats"]
    body = get(api, data["token"], "spending-by-category")
    assert (body["from"], body["to"]) == ("2024-01-01", "2024-03-31")
    # (parent_id, own spend, own count, total with children, total count), computed by hand.
    assert by_category(body) == {
        # January, USD: groceries 100.10 + 45.25 (the refund, the excluded, the pending and the transfer count not).
        ("2024-01", "USD", c["groceries"]): (c["food"], "145.35", 2, "145.35", 2),
        ("2024-01", "USD", c["restaurants"]): (c["food"], "30.3333", 1, "30.3333", 1),
        # Food: 12.00 put there directly, plus 145.35 + 30.3333 from its children.
        ("2024-01", "USD", c["food"]): (None, "12.00", 1, "187.6833", 4),
        ("2024-01", "USD", c["rent"]): (c["housing"], "1500.00", 1, "1500.00", 1),
        ("2024-01", "USD", c["housing"]): (None, "0.00", 0, "1500.00", 1),
        ("2024-01", "USD", None): (None, "5.55", 1, "5.55", 1),
        ("2024-01", "EUR", c["groceries"]): (c["food"], "19.99", 1, "19.99", 1),
        ("2024-01", "EUR", c["food"]): (None, "0.00", 0, "19.99", 1),
        # February (the 29th included), USD and EUR apart.
        ("2024-02", "USD", c["groceries"]): (c["food"], "60.6667", 1, "60.6667", 1),
        ("2024-02", "USD", c["restaurants"]): (c["food"], "40.00", 1, "40.00", 1),
        ("2024-02", "USD", c["food"]): (None, "0.00", 0, "100.6667", 2),
        ("2024-02", "EUR", c["groceries"]): (c["food"], "5.01", 1, "5.01", 1),
        ("2024-02", "EUR", c["food"]): (None, "0.00", 0, "5.01", 1),
    }
    months = [(i["month"], i["currency"]) for i in body["items"]]
    assert months == sorted(months)  # by month, then currency


def test_spending_by_category_per_day(api: Api, data: dict[str, Any]) -> None:
    """interval=day: one row per posting date; the days of a month add up to the month's rows."""
    c = data["cats"]
    body = get(api, data["token"], "spending-by-category", interval="day")
    days = {(i["day"], i["currency"], i["category_id"]): (i["spend"], i["total"]) for i in body["items"]}
    assert days[("2024-01-31", "USD", c["food"])] == ("12.00", "12.00")  # the parent itself that day
    assert days[("2024-01-01", "USD", c["food"])] == ("0.00", "100.10")  # only its child's that day
    assert days[("2024-01-15", "USD", c["groceries"])] == ("45.25", "45.25")
    assert days[("2024-02-29", "USD", c["restaurants"])] == ("40.00", "40.00")
    assert all(i["month"] == i["day"][:7] for i in body["items"])
    monthly = by_category(get(api, data["token"], "spending-by-category"))
    summed: dict[tuple[str, str, int | None], Decimal] = {}
    for i in body["items"]:
        key = (i["month"], i["currency"], i["category_id"])
        summed[key] = summed.get(key, Decimal(0)) + Decimal(i["total"])
    assert summed == {key: Decimal(v[3]) for key, v in monthly.items()}
    keys = [(i["day"], i["currency"]) for i in body["items"]]
    assert keys == sorted(keys)
    assert all(i["day"] is None for i in get(api, data["token"], "spending-by-category")["items"])
    bad = api.call(
        "GET", "/api/analytics/spending-by-category", data["token"], query_string={**RANGE, "interval": "hour"}
    )
    assert bad.status_code == 422 and "interval" in str(bad.get_json())


def test_income_expense(api: Api, data: dict[str, Any]) -> None:
    body = get(api, data["token"], "income-expense")
    flows = {(i["month"], i["currency"]): (i["income"], i["expense"], i["net"], i["count"]) for i in body["items"]}
    assert flows == {
        # 3000 + 20 in; 100.10 + 45.25 + 30.3333 + 12 + 1500 + 5.55 out.
        ("2024-01", "USD"): ("3020.00", "1693.2333", "1326.7667", 8),
        ("2024-02", "USD"): ("3000.00", "100.6667", "2899.3333", 3),
        ("2024-03", "USD"): ("0.00", "0.00", "0.00", 0),
        ("2024-01", "EUR"): ("0.00", "19.99", "-19.99", 1),
        ("2024-02", "EUR"): ("100.00", "5.01", "94.99", 2),
        ("2024-03", "EUR"): ("0.00", "0.00", "0.00", 0),
    }
    assert [(i["month"], i["currency"]) for i in body["items"]] == [
        ("2024-01", "EUR"),
        ("2024-01", "USD"),
        ("2024-02", "EUR"),
        ("2024-02", "USD"),
        ("2024-03", "EUR"),
        ("2024-03", "USD"),
    ]
    # Both ends of the range are inclusive, in calendar dates.
    narrow = get(api, data["token"], "income-expense", **{"from": "2024-01-15", "to": "2024-02-01"})
    flows = {(i["month"], i["currency"]): (i["income"], i["expense"], i["count"]) for i in narrow["items"]}
    assert flows == {
        ("2024-01", "USD"): ("3000.00", "1587.5833", 5),
        ("2024-02", "USD"): ("0.00", "60.6667", 1),
    }


def test_top_merchants(api: Api, data: dict[str, Any]) -> None:
    body = get(api, data["token"], "top-merchants")
    assert [(i["currency"], i["merchant"], i["spend"], i["count"]) for i in body["items"]] == [
        ("EUR", "Lidl", "25.00", 2),
        ("USD", "LANDLORD", "1500.00", 1),  # no merchant: the description
        ("USD", "Whole Foods", "206.0167", 3),  # 100.10 + 45.25 + 60.6667
        ("USD", "Pizza Place 12", "70.3333", 2),  # one by description, one by merchant
        ("USD", "Market", "12.00", 1),
        ("USD", "MYSTERY CHARGE", "5.55", 1),
    ]
    top = get(api, data["token"], "top-merchants", limit=2)
    assert [(i["currency"], i["merchant"]) for i in top["items"]] == [
        ("EUR", "Lidl"),
        ("USD", "LANDLORD"),
        ("USD", "Whole Foods"),
    ]


def test_unpaired_transfers_and_excluding_change_the_figures(api: Api, data: dict[str, Any]) -> None:
    t = data["token"]
    assert api.call("POST", f"/api/transactions/{data['checking'][5]}/unpair", t).status_code == 200
    flows = {(i["month"], i["currency"]): i for i in get(api, t, "income-expense")["items"]}
    assert (flows["2024-01", "USD"]["income"], flows["2024-01", "USD"]["expense"]) == ("3520.00", "2193.2333")
    spend = by_category(get(api, t, "spending-by-category"))
    assert spend["2024-01", "USD", None][1] == "505.55"
    assert ("USD", "To card", "500.00", 1) in [
        (i["currency"], i["merchant"], i["spend"], i["count"]) for i in get(api, t, "top-merchants")["items"]
    ]
    # Excluding a transaction takes it out of every figure.
    assert api.call("PATCH", f"/api/transactions/{data['checking'][0]}", t, json={"excluded": True}).status_code == 200
    spend = by_category(get(api, t, "spending-by-category"))
    assert spend["2024-01", "USD", data["cats"]["groceries"]][1:3] == ("45.25", 1)
    assert spend["2024-01", "USD", data["cats"]["food"]][3] == "87.5833"


def test_an_empty_range_and_another_workspace(api: Api, data: dict[str, Any]) -> None:
    t = data["token"]
    empty = {"from": "2030-01-01", "to": "2030-02-01"}
    for path in ("spending-by-category", "income-expense", "top-merchants"):
        assert get(api, t, path, **empty)["items"] == []
    api.call("PATCH", "/api/admin/settings", t, json={"registration_mode": "open"})
    other = api.register("other@example.com")["access_token"]
    for path in ("spending-by-category", "income-expense", "top-merchants"):
        assert get(api, other, path)["items"] == []
        response = api.call("GET", f"/api/analytics/{path}", other, 1, query_string=RANGE)
        assert response.status_code == 404


@pytest.mark.parametrize("path", ["spending-by-category", "income-expense", "top-merchants"])
@pytest.mark.parametrize(
    "params",
    [
        {"from": "2024-02-01", "to": "2024-01-01"},
        {"from": "2024-01-01"},
        {"to": "2024-01-01"},
        {"from": "2000-01-01", "to": "2024-01-01"},
        {"from": "January", "to": "2024-01-01"},
        {"from": "2024-01-01", "to": "2024-02-30"},
    ],
)
def test_bad_ranges_are_422(api: Api, owner: dict[str, Any], path: str, params: dict[str, Any]) -> None:
    response = api.call("GET", f"/api/analytics/{path}", owner["access_token"], query_string=params)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("limit", [0, 101, "ten"])
def test_bad_merchant_limits_are_422(api: Api, owner: dict[str, Any], limit: Any) -> None:
    params = {**RANGE, "limit": limit}
    response = api.call("GET", "/api/analytics/top-merchants", owner["access_token"], query_string=params)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"


def test_viewers_read_analytics(api: Api, data: dict[str, Any]) -> None:
    t = data["token"]
    invite = api.call("POST", "/api/workspaces/1/invites", t, json={"email": "v@example.com", "role": "viewer"})
    viewer = api.register("v@example.com", invite_token=invite.get_json()["token"])["access_token"]
    assert get(api, viewer, "income-expense")["items"] == get(api, t, "income-expense")["items"]
