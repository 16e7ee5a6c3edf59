"""One household, two statements, seven months (2026-03-01 … 2026-09-30), end to end through the HTTP API.

tests/data/statements/household/ holds:

- checking.csv — a Bank of America style export: a summary preamble, then "Date,Description,Amount,Running Bal."
  with US dates, signed amounts with thousands separators and a running balance; a "Beginning balance" line
  without an amount (skipped). Salary every other Friday (15 x 2,315.42), rent on the 1st (7 x 1,850.00),
  PG&E once a month with very different amounts, Netflix on the 12th (15.49), Spotify on the 22nd (11.99, 12.99
  from July), a gym every Monday (31 x 14.00), 41 grocery runs at three stores every 2-9 days, five Starbucks
  coffees (two identical ones on 04/14), five ATM withdrawals and a monthly "CREDIT CARD PAYMENT".
- card.csv — a credit card export, newest first: ISO dates, a "Transaction Date" and a "Posted Date", charges
  positive and payments negative (the importer must read it inverted). Restaurants and shopping, two identical
  Blue Bottle coffees on 2026-06-13, an Amazon refund, and the seven "PAYMENT THANK YOU" rows of the card
  payments, 1-3 days after the checking side.

Every expected figure below was added up from the rows of those files outside the code under test, and is written
here as a constant. "Today" for recurring detection and budgets is pinned to 2026-09-30 (the statements' last day) by
replacing the clock those routes read, like tests/test_recurring_api.py does: the routes take no `today`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api

DATA = Path(__file__).parent / "data" / "statements" / "household"
D = Decimal
NOW = dt.datetime(2026, 9, 30, 12, 0, tzinfo=dt.UTC)
MONTHS = ("2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09")

# checking.csv: 132 transactions (+ the "Beginning balance" line, skipped). Credits 15 x 2,315.42 = 34,731.30,
# debits 21,788.91 (the preamble's own summary lines say the same): 4,210.55 -> 17,152.94.
CHECKING_ROWS = 132
CHECKING_TOTAL = "12942.39"
CHECKING_MONTHS = {
    "2026-03": "1416.69",
    "2026-04": "1731.35",
    "2026-05": "3942.41",  # three paydays in May (1st, 15th, 29th)
    "2026-06": "1456.61",
    "2026-07": "1359.72",
    "2026-08": "1527.62",
    "2026-09": "1507.99",
}
# card.csv read inverted: charges are money out, payments and the refund money in.
CARD_ROWS = 44
CARD_TOTAL = "-689.29"
CARD_MONTHS = {
    "2026-03": "-299.21",
    "2026-04": "12.97",
    "2026-05": "15.53",
    "2026-06": "-430.40",
    "2026-07": "144.42",
    "2026-08": "-20.05",
    "2026-09": "-112.55",
}
# (checking date, card date, amount) of every card payment: paired as transfers.
PAYMENTS = [
    ("2026-03-27", "2026-03-29", "412.37"),
    ("2026-04-27", "2026-04-28", "388.10"),
    ("2026-05-27", "2026-05-30", "520.64"),
    ("2026-06-26", "2026-06-29", "297.45"),
    ("2026-07-27", "2026-07-28", "610.02"),
    ("2026-08-27", "2026-08-29", "455.83"),
    ("2026-09-25", "2026-09-27", "348.19"),
]
# Both accounts, transfers left out: (income, expense, net, count) per month. Income is the salary (and the
# 23.99 Amazon refund in July); expense everything else going out of checking and every card charge.
INCOME_EXPENSE = {
    "2026-03": ("4630.84", "3513.36", "1117.48", 25),
    "2026-04": ("4630.84", "2886.52", "1744.32", 23),
    "2026-05": ("6946.26", "2988.32", "3957.94", 22),
    "2026-06": ("4630.84", "3604.63", "1026.21", 27),
    "2026-07": ("4654.83", "3150.69", "1504.14", 22),
    "2026-08": ("4630.84", "3123.27", "1507.57", 22),
    "2026-09": ("4630.84", "3235.40", "1395.44", 21),
}
TRADER_JOES = 15  # grocery runs at Trader Joe's, out of 41
# September's groceries: Safeway 132.19 (09/05), Whole Foods 20.94 (09/11), 119.03 (09/14), Trader Joe's 58.74
# (09/20), Whole Foods 131.39 (09/26), Trader Joe's 146.83 (09/29).
GROCERIES_SEPTEMBER = "609.12"

SALARY = "ACME ROBOTICS INC PAYROLL"
RENT = "OAKWOOD APARTMENTS RENT"
GYM = "ORANGETHEORY FITNESS 0193"
NETFLIX = "NETFLIX.COM 866-579-7172"
SPOTIFY = "SPOTIFY USA 877-778-1161"


# --- helpers ------------------------------------------------------------------------------------------------------


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def upload(api: Api, token: str, bank_account_id: int, name: str) -> dict[str, Any]:
    fields = {"file": (io.BytesIO((DATA / name).read_bytes()), name), "bank_account_id": str(bank_account_id)}
    return dict(ok(api.call("POST", "/api/imports", token, data=fields, content_type="multipart/form-data"), 201))


def commit(api: Api, token: str, import_id: int, body: dict[str, Any] | None = None) -> dict[str, Any]:
    kwargs = {} if body is None else {"json": body}
    return dict(ok(api.call("POST", f"/api/imports/{import_id}/commit", token, **kwargs)))


def listed(api: Api, token: str, **params: Any) -> list[dict[str, Any]]:
    """Every transaction matching PARAMS, oldest first, walking the cursor pages."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {"limit": 200, "sort": "date", **params}
        if cursor is not None:
            query["cursor"] = cursor
        body = ok(api.call("GET", "/api/transactions", token, query_string=query))
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def total(items: list[dict[str, Any]]) -> Decimal:
    return sum((D(i["amount"]) for i in items), D(0))


def month_range(month: str) -> dict[str, str]:
    year, number = map(int, month.split("-"))
    last = calendar.monthrange(year, number)[1]
    return {"from": f"{month}-01", "to": f"{month}-{last:02d}"}


def ids_of(items: list[dict[str, Any]], description: str) -> list[int]:
    return [i["id"] for i in items if i["description"] == description]


@pytest.fixture
def household(app: Any, api: Api, owner: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Two hand-kept accounts, nothing imported yet, the clock of the recurring and budget routes on NOW."""
    monkeypatch.setattr("backend.services.recurring.utcnow", lambda: NOW)
    monkeypatch.setattr("backend.api.budgets.utcnow", lambda: NOW)
    token = owner["access_token"]
    checking = ok(
        api.call(
            "POST",
            "/api/bank-accounts",
            token,
            json={"name": "Everyday Checking", "currency": "usd", "institution": "Bank of America"},
        ),
        201,
    )
    card = ok(
        api.call(
            "POST", "/api/bank-accounts", token, json={"name": "Double Cash", "currency": "USD", "institution": "Citi"}
        ),
        201,
    )
    assert (checking["currency"], checking["account_id"], card["account_id"]) == ("USD", None, None)
    tree = ok(api.call("GET", "/api/categories", token))["items"]
    keys = {c["key"]: c["id"] for node in tree for c in (node, *node["children"]) if c["key"]}
    return {"token": token, "checking": checking["id"], "card": card["id"], "keys": keys}


@pytest.fixture
def imported(api: Api, household: dict[str, Any]) -> dict[str, Any]:
    """Both statements imported (detected layouts, committed as previewed)."""
    t = household["token"]
    for account, name in (("checking", "checking.csv"), ("card", "card.csv")):
        preview = upload(api, t, household[account], name)
        commit(api, t, preview["batch"]["id"])
    return household


# --- imports and totals -------------------------------------------------------------------------------------------


def test_both_statements_import_with_exact_totals(api: Api, household: dict[str, Any]) -> None:
    t, checking, card = household["token"], household["checking"], household["card"]

    preview = upload(api, t, checking, "checking.csv")
    mapping = preview["mapping"]
    assert {k: mapping[k] for k in ("header_row", "date_column", "date_format", "amount_column", "sign")} == {
        "header_row": 6,  # the summary preamble is skipped
        "date_column": "Date",
        "date_format": "%m/%d/%Y",
        "amount_column": "Amount",
        "sign": "signed",
    }
    assert (mapping["balance_column"], mapping["description_columns"]) == ("Running Bal.", ["Description"])
    assert preview["counts"] == {"rows": CHECKING_ROWS, "new": CHECKING_ROWS, "duplicates": 0, "skipped": 1}
    assert preview["totals"] == {"total": CHECKING_TOTAL, "by_month": CHECKING_MONTHS}
    assert preview["statement_totals"] == preview["totals"]
    [skipped] = preview["skipped"]
    assert (skipped["line"], skipped["reason"]) == (8, "missing amount")
    assert skipped["raw"]["Description"] == "Beginning balance as of 03/01/2026"
    first = preview["rows"][0]
    assert (first["date"], first["amount"], first["balance"], first["description"]) == (
        "2026-03-01",
        "-1850.00",
        "2360.55",
        RENT,
    )
    done = commit(api, t, preview["batch"]["id"])
    assert (done["status"], done["rows_added"], done["rows_duplicate"], done["rows_skipped"]) == (
        "committed",
        CHECKING_ROWS,
        0,
        1,
    )

    preview = upload(api, t, card, "card.csv")
    mapping = preview["mapping"]
    assert (mapping["date_column"], mapping["date_format"], mapping["amount_column"], mapping["sign"]) == (
        "Transaction Date",
        "%Y-%m-%d",
        "Amount",
        "inverted",
    )
    assert any("card statement" in w for w in preview["warnings"])
    assert preview["counts"] == {"rows": CARD_ROWS, "new": CARD_ROWS, "duplicates": 0, "skipped": 0}
    assert preview["totals"] == {"total": CARD_TOTAL, "by_month": CARD_MONTHS}
    newest = preview["rows"][0]  # the file is newest first
    assert (newest["date"], newest["amount"], newest["description"]) == (
        "2026-09-27",
        "348.19",
        "PAYMENT THANK YOU - WEB",
    )
    assert commit(api, t, preview["batch"]["id"])["rows_added"] == CARD_ROWS

    # What is stored, read back through the API: per file and per month.
    for account, rows, whole, months in (
        (checking, CHECKING_ROWS, CHECKING_TOTAL, CHECKING_MONTHS),
        (card, CARD_ROWS, CARD_TOTAL, CARD_MONTHS),
    ):
        items = listed(api, t, bank_account_id=account)
        assert (len(items), total(items)) == (rows, D(whole))
        assert {i["currency"] for i in items} == {"USD"}
        by_month = {m: total(listed(api, t, bank_account_id=account, **month_range(m))) for m in MONTHS}
        assert by_month == {m: D(v) for m, v in months.items()}
    accounts = {a["id"]: a for a in ok(api.call("GET", "/api/bank-accounts", t))["items"]}
    assert (accounts[checking]["transaction_count"], accounts[checking]["last_transaction_on"]) == (
        CHECKING_ROWS,
        "2026-09-29",
    )
    assert (accounts[card]["transaction_count"], accounts[card]["last_transaction_on"]) == (CARD_ROWS, "2026-09-27")

    # Income and expense per month, both accounts, card payments left out.
    flows = ok(
        api.call("GET", "/api/analytics/income-expense", t, query_string={"from": "2026-03-01", "to": "2026-09-30"})
    )
    assert [(i["month"], i["currency"]) for i in flows["items"]] == [(m, "USD") for m in MONTHS]
    assert {i["month"]: (i["income"], i["expense"], i["net"], i["count"]) for i in flows["items"]} == INCOME_EXPENSE


def test_identical_coffees_are_kept_and_reimports_add_nothing(api: Api, imported: dict[str, Any]) -> None:
    t, checking, card = imported["token"], imported["checking"], imported["card"]
    # Two Starbucks coffees of 5.75 on 04/14 in checking (their running balances differ)…
    starbucks = listed(api, t, bank_account_id=checking, q="starbucks", **{"from": "2026-04-14", "to": "2026-04-14"})
    assert [(i["posted_on"], i["amount"], i["description"]) for i in starbucks] == [
        ("2026-04-14", "-5.75", "STARBUCKS STORE 05521")
    ] * 2
    assert starbucks[0]["id"] != starbucks[1]["id"]
    # …and two Blue Bottle rows on the card that are identical to the last character: occurrences #0 and #1.
    blue = listed(api, t, bank_account_id=card, q="blue bottle")
    assert [(i["posted_on"], i["amount"]) for i in blue] == [("2026-06-13", "-6.50")] * 2
    assert blue[0]["id"] != blue[1]["id"]

    for account, name, rows, skipped in (
        (checking, "checking.csv", CHECKING_ROWS, 1),
        (card, "card.csv", CARD_ROWS, 0),
    ):
        again = upload(api, t, account, name)
        assert again["counts"] == {"rows": rows, "new": 0, "duplicates": rows, "skipped": skipped}
        assert again["totals"] == {"total": "0", "by_month": {}}
        assert all(r["duplicate"] and r["duplicate"].startswith("already imported on ") for r in again["rows"])
        assert any(w.startswith("this file was already imported on ") for w in again["warnings"])
        if name == "card.csv":
            prints = [r["fingerprint"] for r in again["rows"] if r["description"].startswith("BLUE BOTTLE")]
            assert len(prints) == 2 and prints[0][:-2] == prints[1][:-2]
            assert (prints[0][-2:], prints[1][-2:]) == ("#0", "#1")
        done = commit(api, t, again["batch"]["id"])
        assert (done["rows_added"], done["rows_duplicate"], done["rows_skipped"]) == (0, rows, skipped)

    assert (len(listed(api, t, bank_account_id=checking)), len(listed(api, t, bank_account_id=card))) == (
        CHECKING_ROWS,
        CARD_ROWS,
    )
    assert total(listed(api, t)) == D(CHECKING_TOTAL) + D(CARD_TOTAL)


def test_every_card_payment_is_a_transfer_paired_with_its_card_row(api: Api, imported: dict[str, Any]) -> None:
    t, checking, card = imported["token"], imported["checking"], imported["card"]
    transfers = listed(api, t, is_transfer="true")
    assert len(transfers) == 2 * len(PAYMENTS)
    out = [i for i in transfers if i["bank_account_id"] == checking]
    into = {i["id"]: i for i in transfers if i["bank_account_id"] == card}
    assert [(i["posted_on"], i["amount"], i["description"]) for i in out] == [
        (day, f"-{amount}", "CREDIT CARD PAYMENT CITI AUTOPAY") for day, _, amount in PAYMENTS
    ]
    pairs = []
    for row in out:
        peer = into[row["transfer_peer_id"]]
        assert peer["transfer_peer_id"] == row["id"] and peer["is_transfer"] and row["is_transfer"]
        pairs.append((row["posted_on"], peer["posted_on"], peer["amount"], peer["description"]))
    assert pairs == [(a, b, amount, "PAYMENT THANK YOU - WEB") for a, b, amount in PAYMENTS]
    # Nothing else was taken for a transfer.
    assert len(listed(api, t, is_transfer="false")) == CHECKING_ROWS + CARD_ROWS - 2 * len(PAYMENTS)
    # Left out of income and expense: counted, March would show 412.37 more of each and 27 transactions.
    march = ok(api.call("GET", "/api/analytics/income-expense", t, query_string=month_range("2026-03")))["items"]
    assert [(i["income"], i["expense"], i["count"]) for i in march] == [("4630.84", "3513.36", 25)]


def test_recurring_finds_exactly_the_household_streams(api: Api, imported: dict[str, Any]) -> None:
    t, checking, keys = imported["token"], imported["checking"], imported["keys"]
    items = listed(api, t, bank_account_id=checking)
    body = ok(api.call("GET", "/api/recurring", t))
    assert body["today"] == "2026-09-30"

    def stream(
        description: str, key: str, cadence: str, kind: str, amounts: tuple[str, str, str], last: str, nxt: str
    ) -> dict[str, Any]:
        ids = ids_of(items, description)
        return {
            "merchant": description,
            "merchant_key": key,
            "currency": "USD",
            "cadence": cadence,
            "kind": kind,
            "status": "established",
            "average_amount": amounts[0],
            "amount_min": amounts[1],
            "amount_max": amounts[2],
            "last_date": last,
            "next_expected": nxt,
            "anchor_day": int(last[-2:]),
            "occurrences": len(ids),
            "bank_account_id": checking,
            "transaction_ids": ids,
        }

    expected = [
        # Sorted by next expected date.
        (
            stream(
                RENT, "oakwood apartments rent", "monthly", "expense", ("-1850.00",) * 3, "2026-09-01", "2026-10-01"
            ),
            "rent",
        ),
        (
            stream(
                SALARY, "acme robotics inc payroll", "biweekly", "income", ("2315.42",) * 3, "2026-09-18", "2026-10-02"
            ),
            "salary",
        ),
        (
            stream(GYM, "orangetheory fitness", "weekly", "expense", ("-14.00",) * 3, "2026-09-28", "2026-10-05"),
            "fitness",
        ),
        (stream(NETFLIX, "netflix", "monthly", "expense", ("-15.49",) * 3, "2026-09-12", "2026-10-12"), "streaming"),
        # 4 x 11.99 + 3 x 12.99 = 86.93; / 7 = 12.4186 -> 12.42.
        (
            stream(
                SPOTIFY, "spotify usa", "monthly", "expense", ("-12.42", "-12.99", "-11.99"), "2026-09-22", "2026-10-22"
            ),
            "streaming",
        ),
    ]
    got = body["items"]
    assert [i["merchant_key"] for i in got] == [e["merchant_key"] for e, _ in expected]
    for item, (want, category) in zip(got, expected, strict=True):
        assert item == {**want, "category_id": keys[category]}
    # 15 paydays, 7 rents, 31 Mondays at the gym, 7 of each subscription.
    assert [i["occurrences"] for i in got] == [7, 15, 31, 7, 7]
    # Not groceries, coffee, utilities, ATM withdrawals, restaurants, nor the card payments (transfers).
    assert not any(
        word in i["merchant_key"]
        for i in got
        for word in ("trader", "safeway", "whole foods", "starbucks", "blue bottle", "pg&e", "atm", "payment")
    )


def test_a_rule_categorizes_trader_joes_and_leaves_a_manual_choice_alone(api: Api, imported: dict[str, Any]) -> None:
    t, checking, keys = imported["token"], imported["checking"], imported["keys"]

    def trader_joes() -> list[dict[str, Any]]:
        rows = [i for i in listed(api, t, bank_account_id=checking) if "TRADER JOE" in i["description"]]
        assert len(rows) == TRADER_JOES
        return rows

    # Imported rows were guessed from the keyword map.
    assert {(i["category_id"], i["category_source"]) for i in trader_joes()} == {(keys["groceries"], "keyword")}
    rule = ok(
        api.call(
            "POST",
            "/api/rules",
            t,
            json={
                "name": "Trader Joe's is groceries",
                "conditions": [{"field": "description", "op": "contains", "value": "TRADER JOE"}],
                "actions": [{"type": "set_category", "category_id": keys["groceries"]}],
            },
        ),
        201,
    )
    # The category stays Groceries (so nothing "changed"), but the rule now owns it.
    assert ok(api.call("POST", "/api/rules/apply", t, json={"rule_ids": [rule["id"]]})) == {
        "scanned": TRADER_JOES,
        "changed": 0,
    }
    assert {(i["category_id"], i["category_source"], i["category_rule_id"]) for i in trader_joes()} == {
        (keys["groceries"], "rule", rule["id"])
    }
    # Other grocery stores keep their keyword guess.
    safeway = listed(api, t, bank_account_id=checking, q="safeway")
    assert len(safeway) == 11
    assert {(i["category_id"], i["category_source"]) for i in safeway} == {(keys["groceries"], "keyword")}

    # A person moves the first Trader Joe's run (03/07, 122.62) to Restaurants; re-applying leaves it there.
    first = trader_joes()[0]
    assert (first["posted_on"], first["amount"]) == ("2026-03-07", "-122.62")
    patched = ok(api.call("PATCH", f"/api/transactions/{first['id']}", t, json={"category_id": keys["restaurants"]}))
    assert (patched["category_id"], patched["category_source"]) == (keys["restaurants"], "manual")
    assert ok(api.call("POST", "/api/rules/apply", t, json={"rule_ids": [rule["id"]]})) == {
        "scanned": TRADER_JOES - 1,
        "changed": 0,
    }
    assert ok(api.call("POST", "/api/rules/apply", t, json={})) == {
        "scanned": CHECKING_ROWS + CARD_ROWS - 1,
        "changed": 0,
    }
    after = {i["id"]: i for i in trader_joes()}
    assert (after[first["id"]]["category_id"], after[first["id"]]["category_source"]) == (keys["restaurants"], "manual")
    assert after[first["id"]]["category_rule_id"] is None
    others = [i for i in after.values() if i["id"] != first["id"]]
    assert {(i["category_id"], i["category_source"]) for i in others} == {(keys["groceries"], "rule")}


def test_a_groceries_budget_shows_septembers_exact_spend(api: Api, imported: dict[str, Any]) -> None:
    t, keys = imported["token"], imported["keys"]
    body = {"name": "Groceries", "amount": "700", "period": "month", "scope": {"category_id": keys["groceries"]}}
    budget = ok(api.call("POST", "/api/budgets", t, json=body), 201)
    status = budget["status"]
    assert (status["period"]["key"], status["period"]["start"], status["period"]["end"]) == (
        "2026-09",
        "2026-09-01",
        "2026-09-30",
    )
    # 609.12 of 700: 87.0 %; today is the period's last day and groceries are no recurring charge, so the
    # forecast is what was spent.
    assert (status["spent"], status["remaining"], status["percent"], status["forecast"]) == (
        GROCERIES_SEPTEMBER,
        "90.88",
        "87.0",
        GROCERIES_SEPTEMBER,
    )
    assert ok(api.call("GET", f"/api/budgets/{budget['id']}", t))["status"]["spent"] == GROCERIES_SEPTEMBER
    # The same figure through the transactions list.
    september = listed(api, t, category_id=keys["groceries"], **month_range("2026-09"))
    assert (len(september), -total(september)) == (6, D(GROCERIES_SEPTEMBER))
