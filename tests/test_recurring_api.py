"""/api/recurring and services.recurring: streams detected per currency in the workspace's local date, upcoming
charges with totals, and what is still due in a budget period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from backend.models import Transaction, Workspace
from backend.services import recurring
from tests.conftest import Api
from tests.test_categories_api import add_viewer, make_bank, seed

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
NETFLIX_DAYS = [dt.date(2025, m, 15) for m in (10, 11, 12)] + [dt.date(2026, m, 15) for m in (1, 2, 3)]
GYM_DAYS = [dt.date(2026, 1, 5) + dt.timedelta(days=7 * i) for i in range(11)]  # Mondays, the last on Mar 16
GROCERY = [
    ("2026-02-01", "-23.10"),
    ("2026-02-03", "-142.75"),
    ("2026-02-12", "-61.00"),
    ("2026-02-15", "-20.40"),
    ("2026-02-22", "-88.15"),
    ("2026-02-24", "-119.99"),
    ("2026-03-04", "-35.50"),
    ("2026-03-06", "-150.00"),
]


@pytest.fixture
def ctx(app: Any, api: Api, owner: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr("backend.services.recurring.utcnow", lambda: NOW)
    db = app.extensions["spendwatch"].db
    token = owner["access_token"]
    tree = api.call("GET", "/api/categories", token).get_json()["items"]
    keys = {c["key"]: c["id"] for node in tree for c in (node, *node["children"])}
    bank = make_bank(db)
    netflix = seed(db, bank, [(d, "-15.49", "NETFLIX.COM") for d in NETFLIX_DAYS])
    gym = seed(db, bank, [(d, "-25.00", "Planet Fitness") for d in GYM_DAYS])
    seed(db, bank, [(dt.date.fromisoformat(d), a, "Whole Foods") for d, a in GROCERY])
    return {"token": token, "db": db, "bank": bank, "keys": keys, "netflix": netflix, "gym": gym}


def test_exactly_the_two_streams(api: Api, ctx: dict[str, Any]) -> None:
    r = api.call("GET", "/api/recurring", ctx["token"])
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["today"] == "2026-03-20"
    assert body["items"] == [
        {
            "merchant": "Planet Fitness",
            "merchant_key": "planet fitness",
            "currency": "USD",
            "cadence": "weekly",
            "kind": "expense",
            "status": "established",
            "average_amount": "-25.00",
            "amount_min": "-25.00",
            "amount_max": "-25.00",
            "last_date": "2026-03-16",
            "next_expected": "2026-03-23",
            "anchor_day": 16,
            "occurrences": 11,
            "category_id": ctx["keys"]["fitness"],
            "bank_account_id": ctx["bank"],
            "transaction_ids": ctx["gym"],
        },
        {
            "merchant": "NETFLIX.COM",
            "merchant_key": "netflix",
            "currency": "USD",
            "cadence": "monthly",
            "kind": "expense",
            "status": "established",
            "average_amount": "-15.49",
            "amount_min": "-15.49",
            "amount_max": "-15.49",
            "last_date": "2026-03-15",
            "next_expected": "2026-04-15",
            "anchor_day": 15,
            "occurrences": 6,
            "category_id": ctx["keys"]["streaming"],
            "bank_account_id": ctx["bank"],
            "transaction_ids": ctx["netflix"],
        },
    ]


def test_transfers_pending_and_old_history_are_left_out(api: Api, ctx: dict[str, Any]) -> None:
    db = ctx["db"]
    with db.system_session() as s:
        for tid in ctx["gym"]:
            row = s.get(Transaction, tid)
            assert row is not None
            row.is_transfer = True
    # Pending charges never make a stream; nor do charges older than 400 days.
    seed(db, ctx["bank"], [(dt.date(2026, 1, 1) + dt.timedelta(days=14 * i), "-9.99", "Pending Co") for i in range(5)])
    with db.system_session() as s:
        for row in s.scalars(select(Transaction).where(Transaction.merchant == "Pending Co")):
            row.pending = True
    seed(db, ctx["bank"], [(dt.date(2024, m, 1), "-50.00", "Old Gym") for m in range(1, 13)])
    items = api.call("GET", "/api/recurring", ctx["token"]).get_json()["items"]
    assert [i["merchant_key"] for i in items] == ["netflix"]


def test_the_workspaces_timezone_decides_today(api: Api, ctx: dict[str, Any]) -> None:
    with ctx["db"].system_session() as s:
        workspace = s.get(Workspace, 1)
        assert workspace is not None
        workspace.timezone = "Pacific/Kiritimati"  # UTC+14: already March 21 at noon UTC
    assert api.call("GET", "/api/recurring", ctx["token"]).get_json()["today"] == "2026-03-21"


def test_streams_never_mix_currencies(api: Api, ctx: dict[str, Any]) -> None:
    euro_bank = make_bank(ctx["db"], currency="EUR")
    # The same merchant key billed in EUR on the 1st: a stream of its own, not a mess of USD and EUR.
    days = [dt.date(2025, m, 1) for m in (10, 11, 12)] + [dt.date(2026, m, 1) for m in (1, 2, 3)]
    seed(ctx["db"], euro_bank, [(d, "-12.99", "NETFLIX.COM") for d in days], currency="EUR")
    items = api.call("GET", "/api/recurring", ctx["token"]).get_json()["items"]
    assert [(i["merchant_key"], i["currency"], i["average_amount"], i["next_expected"]) for i in items] == [
        ("planet fitness", "USD", "-25.00", "2026-03-23"),
        ("netflix", "EUR", "-12.99", "2026-04-01"),
        ("netflix", "USD", "-15.49", "2026-04-15"),
    ]
    up = api.call("GET", "/api/recurring/upcoming?days=30", ctx["token"]).get_json()
    assert up["totals"] == [
        {"currency": "EUR", "expenses": "-12.99", "income": "0.00", "net": "-12.99"},
        {"currency": "USD", "expenses": "-115.49", "income": "0.00", "net": "-115.49"},
    ]


def test_upcoming_within_30_days(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    # A salary every other Friday makes an income stream; its next payday is today.
    seed(
        ctx["db"],
        ctx["bank"],
        [(dt.date(2026, 1, 9) + dt.timedelta(days=14 * i), "2500.00", "ACME PAYROLL") for i in range(5)],
    )
    r = api.call("GET", "/api/recurring/upcoming", t)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["today"], body["days"]) == ("2026-03-20", 30)
    fitness, streaming, salary = ctx["keys"]["fitness"], ctx["keys"]["streaming"], ctx["keys"]["salary"]
    gym = {
        "merchant": "Planet Fitness",
        "merchant_key": "planet fitness",
        "amount": "-25.00",
        "currency": "USD",
        "cadence": "weekly",
        "kind": "expense",
        "category_id": fitness,
    }
    pay = {
        "merchant": "ACME PAYROLL",
        "merchant_key": "acme payroll",
        "amount": "2500.00",
        "currency": "USD",
        "cadence": "biweekly",
        "kind": "income",
        "category_id": salary,
    }
    assert body["items"] == [
        {"date": "2026-03-20", **pay},
        {"date": "2026-03-23", **gym},
        {"date": "2026-03-30", **gym},
        {"date": "2026-04-03", **pay},
        {"date": "2026-04-06", **gym},
        {"date": "2026-04-13", **gym},
        {
            "date": "2026-04-15",
            "merchant": "NETFLIX.COM",
            "merchant_key": "netflix",
            "amount": "-15.49",
            "currency": "USD",
            "cadence": "monthly",
            "kind": "expense",
            "category_id": streaming,
        },
        {"date": "2026-04-17", **pay},
    ]
    assert body["totals"] == [{"currency": "USD", "expenses": "-115.49", "income": "7500.00", "net": "7384.51"}]
    short = api.call("GET", "/api/recurring/upcoming?days=3", t).get_json()
    assert [(i["date"], i["merchant_key"]) for i in short["items"]] == [
        ("2026-03-20", "acme payroll"),
        ("2026-03-23", "planet fitness"),
    ]


@pytest.mark.parametrize("days", ["0", "367", "-1", "abc", "1.5", ""])
def test_bad_upcoming_days_are_a_422(api: Api, ctx: dict[str, Any], days: str) -> None:
    r = api.call("GET", f"/api/recurring/upcoming?days={days}", ctx["token"])
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"]["details"][0]["loc"] == ["days"]


def test_due_in_period(ctx: dict[str, Any]) -> None:
    keys, bank = ctx["keys"], ctx["bank"]
    march, april = (dt.date(2026, 3, 1), dt.date(2026, 3, 31)), (dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    with ctx["db"].system_session() as s:

        def due(
            period: tuple[dt.date, dt.date], categories: set[int] | None = None, account: int | None = None, **kw: Any
        ) -> Decimal:
            return recurring.due_in_period(s, 1, period[0], period[1], TODAY, categories, account, **kw)

        # March after the 20th: the gym on the 23rd and the 30th; Netflix is next due in April.
        assert due(march) == Decimal("50.00")
        # April: the gym on the 6th, 13th, 20th and 27th, plus Netflix on the 15th.
        assert due(april) == Decimal("115.49")
        assert due(april, {keys["streaming"]}) == Decimal("15.49")
        assert due(april, {keys["fitness"], keys["health"]}) == Decimal("100.00")
        assert due(april, {keys["groceries"]}) == Decimal("0.00")
        assert str(due(april, {keys["groceries"]})) == "0.00"  # not "-0.00"
        assert due(april, None, bank) == Decimal("115.49")
        assert due(april, None, bank + 1000) == Decimal("0.00")
        assert due(april, currency="EUR") == Decimal("0")
        assert due((dt.date(2026, 1, 1), dt.date(2026, 3, 19))) == Decimal("0.00")  # all in the past
        # Transactions left out of budgets do not forecast either.
        for tid in ctx["netflix"]:
            row = s.get(Transaction, tid)
            assert row is not None
            row.excluded = True
        s.flush()
        assert due(april) == Decimal("100.00")
        assert [st.merchant_key for st in recurring.streams(s, 1, TODAY)] == ["planet fitness", "netflix"]


def test_an_overdue_charge_counts_as_today(ctx: dict[str, Any]) -> None:
    # On March 25 the gym charge of the 23rd has not posted: still expected (within the 4-day grace), due today.
    with ctx["db"].system_session() as s:
        late = dt.date(2026, 3, 25)
        assert recurring.due_in_period(s, 1, late, late, late, None, None) == Decimal("25.00")


def test_viewers_read_and_other_workspaces_are_invisible(api: Api, ctx: dict[str, Any]) -> None:
    db = ctx["db"]
    with db.system_session() as s:
        ws = Workspace(name="Other")
        s.add(ws)
        s.flush()
        other = ws.id
    their_bank = make_bank(db, workspace_id=other)
    seed(db, their_bank, [(d, "-9.99", "Their Stream") for d in NETFLIX_DAYS])
    viewer = add_viewer(api, ctx["token"])
    for token in (ctx["token"], viewer):
        items = api.call("GET", "/api/recurring", token).get_json()["items"]
        assert [i["merchant_key"] for i in items] == ["planet fitness", "netflix"]
        up = api.call("GET", "/api/recurring/upcoming?days=366", token).get_json()["items"]
        assert "their stream" not in {i["merchant_key"] for i in up}
    with db.system_session() as s:
        assert [st.merchant_key for st in recurring.streams(s, other, TODAY)] == ["their stream"]
