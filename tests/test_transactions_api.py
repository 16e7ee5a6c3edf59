"""/api/bank-accounts and /api/transactions: accounts, filters, sorting and cursors, edits with rules, manual entries,
transfers by hand, the CSV export, roles and workspace isolation, and bad input as a 422 (never a 500)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.models import BankAccount, Transaction, TransactionRule
from backend.services import money_ingest
from backend.services.categories import ensure_defaults
from tests.conftest import Api

DEMO = {"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-key-for-transactions"}}


def seed(app: Any, bank_account_id: int, rows: list[dict[str, Any]]) -> list[int]:
    """Store ROWS as statement lines of the bank account through money_ingest.store; their ids, in order."""
    db = app.extensions["spendwatch"].db
    with db.system_session() as s:
        bank = s.get(BankAccount, bank_account_id)
        assert bank is not None
        items = [
            money_ingest.NewTransaction(
                fingerprint=f"stmt:{uuid.uuid4().hex}",
                posted_on=dt.date.fromisoformat(r["on"]),
                amount=Decimal(r["amount"]),
                currency=bank.currency,
                description=r.get("description", ""),
                merchant=r.get("merchant", ""),
                pending=r.get("pending", False),
                raw={"line": i, "text": r.get("description", "")},
            )
            for i, r in enumerate(rows)
        ]
        return money_ingest.store(s, bank_account=bank, items=items, update_existing=False).added


def set_fields(app: Any, values: dict[int, dict[str, Any]]) -> None:
    """Set columns on stored transactions directly (notes, excluded, categories a person chose…)."""
    with app.extensions["spendwatch"].db.system_session() as s:
        for txn_id, fields in values.items():
            row = s.get(Transaction, txn_id)
            assert row is not None
            for name, value in fields.items():
                setattr(row, name, value)


def category_ids(app: Any, workspace_id: int = 1) -> dict[str, int]:
    with app.extensions["spendwatch"].db.system_session() as s:
        return ensure_defaults(s, workspace_id)


def txn(app: Any, txn_id: int) -> Transaction:
    with app.extensions["spendwatch"].db.system_session() as s:
        row = s.get(Transaction, txn_id)
        assert row is not None
        s.expunge(row)
        return row


def make_bank(api: Api, token: str, name: str, currency: str = "USD", **extra: Any) -> int:
    response = api.call("POST", "/api/bank-accounts", token, json={"name": name, "currency": currency, **extra})
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"}
    return dict(body["error"])


def locs(err: dict[str, Any]) -> list[list[str]]:
    return [d["loc"] for d in err["details"] or []]


@pytest.fixture
def ctx(app: Any, api: Api, owner: dict[str, Any]) -> dict[str, Any]:
    token = owner["access_token"]
    checking = make_bank(api, token, "Checking", "USD")
    savings = make_bank(api, token, "Savings", "usd")
    return {"token": token, "checking": checking, "savings": savings, "cats": category_ids(app)}


def all_items(api: Api, token: str, **params: Any) -> list[dict[str, Any]]:
    response = api.call("GET", "/api/transactions", token, query_string={"limit": 200, **params})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["next_cursor"] is None
    return list(body["items"])


def ids(api: Api, token: str, **params: Any) -> set[int]:
    return {i["id"] for i in all_items(api, token, **params)}


# --- bank accounts -------------------------------------------------------------------------------------------------


def test_bank_accounts_list_create_patch_balances(app: Any, api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    made = api.call(
        "POST",
        "/api/bank-accounts",
        t,
        json={"name": " Euro card ", "currency": "eur", "institution": "N26", "balance": "-20.5"},
    )
    assert made.status_code == 201, made.get_json()
    card = made.get_json()
    assert (card["name"], card["currency"], card["institution"], card["balance"], card["account_id"]) == (
        "Euro card",
        "EUR",
        "N26",
        "-20.50",
        None,
    )
    assert card["balance_at"] is not None and card["transaction_count"] == 0 and card["last_transaction_on"] is None
    seed(app, ctx["checking"], [{"on": "2024-03-01", "amount": "-1.5"}, {"on": "2024-03-09", "amount": "-2.25"}])

    listed = {a["name"]: a for a in api.call("GET", "/api/bank-accounts", t).get_json()["items"]}
    assert list(listed) == ["Checking", "Euro card", "Savings"]
    assert (listed["Checking"]["transaction_count"], listed["Checking"]["last_transaction_on"]) == (2, "2024-03-09")
    assert listed["Savings"]["transaction_count"] == 0

    patched = api.call(
        "PATCH",
        f"/api/bank-accounts/{ctx['checking']}",
        t,
        json={"name": "Main", "institution": "Chase", "balance": "1000"},
    )
    assert patched.status_code == 200, patched.get_json()
    assert (patched.get_json()["name"], patched.get_json()["institution"], patched.get_json()["balance"]) == (
        "Main",
        "Chase",
        "1000.00",
    )
    api.call("PATCH", f"/api/bank-accounts/{ctx['savings']}", t, json={"balance": "250.1234"})
    balances = api.call("GET", "/api/bank-accounts/balances", t).get_json()
    assert {a["name"]: a["balance"] for a in balances["accounts"]} == {
        "Main": "1000.00",
        "Euro card": "-20.50",
        "Savings": "250.1234",
    }
    # Per currency, never across currencies.
    assert balances["totals"] == [
        {"currency": "EUR", "balance": "-20.50", "available_balance": "0.00", "accounts": 1},
        {"currency": "USD", "balance": "1250.1234", "available_balance": "0.00", "accounts": 2},
    ]
    # null clears a hand-kept balance.
    cleared = api.call("PATCH", f"/api/bank-accounts/{card['id']}", t, json={"balance": None}).get_json()
    assert (cleared["balance"], cleared["balance_at"]) == (None, None)


def test_synced_accounts_keep_the_banks_balance_and_go_with_their_connection(
    app: Any, api: Api, ctx: dict[str, Any]
) -> None:
    t = ctx["token"]
    connection = api.call("POST", "/api/accounts", t, json=DEMO).get_json()["id"]
    with app.extensions["spendwatch"].db.system_session() as s:
        synced = BankAccount(
            workspace_id=1,
            account_id=connection,
            external_id="acc-1",
            name="Synced checking",
            currency="USD",
            balance=Decimal("10"),
            available_balance=Decimal("8"),
        )
        s.add(synced)
        s.flush()
        synced_id = synced.id
    listed = {a["id"]: a for a in api.call("GET", "/api/bank-accounts", t).get_json()["items"]}
    assert listed[synced_id]["account_id"] == connection
    assert listed[synced_id]["available_balance"] == "8.00"
    err = error(api.call("PATCH", f"/api/bank-accounts/{synced_id}", t, json={"balance": "5"}), 422)
    assert ["balance"] in locs(err)
    renamed = api.call("PATCH", f"/api/bank-accounts/{synced_id}", t, json={"name": "Joint"})
    assert renamed.get_json()["name"] == "Joint" and renamed.get_json()["balance"] == "10.00"
    err = error(api.call("DELETE", f"/api/bank-accounts/{synced_id}", t), 409)
    assert "delete the connection instead" in err["message"]
    assert synced_id in {a["id"] for a in api.call("GET", "/api/bank-accounts", t).get_json()["items"]}


def test_deleting_a_hand_kept_account_deletes_its_transactions_and_frees_transfer_peers(
    app: Any, api: Api, ctx: dict[str, Any]
) -> None:
    t = ctx["token"]
    out_id, keep_id = seed(
        app, ctx["checking"], [{"on": "2024-05-01", "amount": "-70"}, {"on": "2024-05-02", "amount": "-3"}]
    )
    (in_id,) = seed(app, ctx["savings"], [{"on": "2024-05-02", "amount": "70"}])
    assert txn(app, out_id).transfer_peer_id == in_id
    assert api.call("DELETE", f"/api/bank-accounts/{ctx['savings']}", t).status_code == 204
    assert api.call("GET", f"/api/transactions/{in_id}", t).status_code == 404
    freed = api.call("GET", f"/api/transactions/{out_id}", t).get_json()
    assert (freed["is_transfer"], freed["transfer_peer_id"]) == (False, None)
    assert ids(api, t) == {out_id, keep_id}
    assert api.call("GET", f"/api/bank-accounts/{ctx['savings']}", t).status_code == 404


# --- listing: filters, sorting, cursors ----------------------------------------------------------------------------


@pytest.fixture
def listed(app: Any, ctx: dict[str, Any]) -> dict[str, Any]:
    cats = ctx["cats"]
    c = seed(
        app,
        ctx["checking"],
        [
            {"on": "2024-01-01", "amount": "-10.00", "description": "Corner shop", "merchant": "Corner"},  # 0
            {"on": "2024-01-15", "amount": "-42.10", "description": "FRESH MARKET 0042", "merchant": ""},  # 1
            {"on": "2024-01-15", "amount": "-10.00", "description": "Bakery", "merchant": "Le Pain"},  # 2
            {"on": "2024-01-31", "amount": "2000", "description": "Payroll", "merchant": ""},  # 3
            {"on": "2024-02-01", "amount": "-5.5", "description": "Tea 100%_pure", "merchant": ""},  # 4
            {"on": "2024-02-03", "amount": "-300", "description": "To savings", "merchant": ""},  # 5
            {"on": "2024-02-10", "amount": "-8.25", "description": "Pending cafe", "pending": True},  # 6
        ],
    )
    s = seed(app, ctx["savings"], [{"on": "2024-02-04", "amount": "300", "description": "From checking"}])  # 7
    every = c + s
    set_fields(
        app,
        {
            every[0]: {"category_id": cats["food"], "category_source": "manual"},
            every[1]: {"category_id": cats["groceries"], "category_source": "manual", "notes": "weekly SHOP"},
            every[2]: {"category_id": cats["restaurants"], "category_source": "manual"},
            every[3]: {"category_id": cats["salary"], "category_source": "manual"},
            every[4]: {"category_id": None, "category_source": None, "excluded": True},
            every[5]: {"category_id": None, "category_source": None},
            every[6]: {"category_id": None, "category_source": None},
            every[7]: {"category_id": None, "category_source": None},
        },
    )
    return {"ids": every}


def test_every_filter(api: Api, ctx: dict[str, Any], listed: dict[str, Any]) -> None:
    t, i, cats = ctx["token"], listed["ids"], ctx["cats"]
    assert ids(api, t) == set(i)
    assert ids(api, t, bank_account_id=ctx["savings"]) == {i[7]}
    # A parent category takes in its children; a child only itself.
    assert ids(api, t, category_id=cats["food"]) == {i[0], i[1], i[2]}
    assert ids(api, t, category_id=cats["groceries"]) == {i[1]}
    assert ids(api, t, uncategorized="true") == {i[4], i[5], i[6], i[7]}
    assert ids(api, t, uncategorized="false") == {i[0], i[1], i[2], i[3]}
    # Inclusive dates.
    assert ids(api, t, **{"from": "2024-01-15", "to": "2024-01-31"}) == {i[1], i[2], i[3]}
    assert ids(api, t, **{"from": "2024-02-04"}) == {i[6], i[7]}
    assert ids(api, t, to="2024-01-01") == {i[0]}
    # Signed, inclusive amounts.
    assert ids(api, t, min_amount="-10", max_amount="-5.5") == {i[0], i[2], i[4], i[6]}
    assert ids(api, t, min_amount="0") == {i[3], i[7]}
    assert ids(api, t, max_amount="-300") == {i[5]}
    # Text: description, merchant and notes, any case; % and _ are literal.
    assert ids(api, t, q="fresh market") == {i[1]}
    assert ids(api, t, q="le pain") == {i[2]}
    assert ids(api, t, q="weekly shop") == {i[1]}
    assert ids(api, t, q="100%_") == {i[4]}
    assert ids(api, t, q="%") == {i[4]}
    assert ids(api, t, q="nothing like this") == set()
    assert ids(api, t, pending="true") == {i[6]}
    assert ids(api, t, pending="false") == set(i) - {i[6]}
    assert ids(api, t, is_transfer="true") == {i[5], i[7]}
    assert ids(api, t, is_transfer="false") == set(i) - {i[5], i[7]}
    assert ids(api, t, excluded="true") == {i[4]}
    assert ids(api, t, excluded="false") == set(i) - {i[4]}
    # Filters combine.
    assert ids(api, t, bank_account_id=ctx["checking"], max_amount="-10", **{"from": "2024-01-10"}) == {
        i[1],
        i[2],
        i[5],
    }
    item = next(x for x in all_items(api, t) if x["id"] == i[1])
    assert item["amount"] == "-42.10" and item["currency"] == "USD" and item["category_source"] == "manual"
    assert "raw" not in item


SORT_KEYS = {
    "-date": lambda x: (-dt.date.fromisoformat(x["posted_on"]).toordinal(), -x["id"]),
    "date": lambda x: (dt.date.fromisoformat(x["posted_on"]).toordinal(), x["id"]),
    "-amount": lambda x: (-Decimal(x["amount"]), -x["id"]),
    "amount": lambda x: (Decimal(x["amount"]), x["id"]),
}


@pytest.mark.parametrize("sort", list(SORT_KEYS))
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_cursor_pages_concatenate_to_the_sorted_list(
    api: Api, ctx: dict[str, Any], listed: dict[str, Any], sort: str, limit: int
) -> None:
    t = ctx["token"]
    expected = sorted(all_items(api, t), key=SORT_KEYS[sort])
    assert len(expected) == 8  # with ties on date (2024-01-15) and amount (-10.00)
    seen: list[int] = []
    cursor = None
    for _ in range(20):
        params: dict[str, Any] = {"sort": sort, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        body = api.call("GET", "/api/transactions", t, query_string=params).get_json()
        assert len(body["items"]) <= limit
        seen.extend(x["id"] for x in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [x["id"] for x in expected]
    assert len(set(seen)) == len(seen)
    # The default is newest first.
    if sort == "-date":
        assert [x["id"] for x in all_items(api, t)] == seen


def test_cursor_with_filters_and_bad_cursors(api: Api, ctx: dict[str, Any], listed: dict[str, Any]) -> None:
    t = ctx["token"]
    params = {"bank_account_id": ctx["checking"], "max_amount": "0", "limit": 2, "sort": "amount"}
    first = api.call("GET", "/api/transactions", t, query_string=params).get_json()
    second = api.call("GET", "/api/transactions", t, query_string=params | {"cursor": first["next_cursor"]}).get_json()
    amounts = [x["amount"] for x in first["items"] + second["items"]]
    assert amounts == ["-300.00", "-42.10", "-10.00", "-10.00"]
    # A cursor of another sort order, garbage, or a forged one: 422, never 500.
    other = api.call(
        "GET", "/api/transactions", t, query_string=params | {"sort": "-date", "cursor": first["next_cursor"]}
    )
    assert ["cursor"] in locs(error(other, 422))
    for bad in ("garbage", "W10", "WyJkYXRlIiwgMSwgMl0", "WyItZGF0ZSIsICJub3QgYSBkYXRlIiwgMV0", "!!!", "e30"):
        response = api.call("GET", "/api/transactions", t, query_string={"cursor": bad})
        assert error(response, 422)["code"] == "bad_cursor", bad


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"limit": "many"},
        {"from": "2024-02-01", "to": "2024-01-01"},
        {"from": "yesterday"},
        {"min_amount": "abc"},
        {"min_amount": "5", "max_amount": "1"},
        {"min_amount": "NaN"},
        {"sort": "name"},
        {"pending": "perhaps"},
        {"bank_account_id": 0},
        {"unknown": 1},
        {"q": ""},
    ],
)
def test_bad_list_queries_are_422(api: Api, ctx: dict[str, Any], params: dict[str, Any]) -> None:
    err = error(api.call("GET", "/api/transactions", ctx["token"], query_string=params), 422)
    assert err["code"] == "validation_error"


# --- one transaction: detail, edits, rules -------------------------------------------------------------------------


def test_detail_has_the_source_row(app: Any, api: Api, ctx: dict[str, Any]) -> None:
    (tid,) = seed(app, ctx["checking"], [{"on": "2024-04-01", "amount": "-9.99", "description": "Thing"}])
    detail = api.call("GET", f"/api/transactions/{tid}", ctx["token"]).get_json()
    assert detail["raw"] == {"line": 0, "text": "Thing"}
    assert detail["amount"] == "-9.99" and detail["posted_on"] == "2024-04-01" and detail["import_id"] is None
    assert error(api.call("GET", "/api/transactions/999999", ctx["token"]), 404)["code"] == "not_found"


def test_patch_sets_a_manual_category_and_other_fields(app: Any, api: Api, ctx: dict[str, Any]) -> None:
    t, cats = ctx["token"], ctx["cats"]
    (tid,) = seed(app, ctx["checking"], [{"on": "2024-04-01", "amount": "-4.5", "description": "STARBUCKS 123"}])
    assert txn(app, tid).category_source == "keyword"
    body = {"category_id": cats["restaurants"], "notes": "with Ann", "merchant": "Starbucks", "excluded": True}
    patched = api.call("PATCH", f"/api/transactions/{tid}", t, json=body)
    assert patched.status_code == 200, patched.get_json()
    p = patched.get_json()
    assert (p["category_id"], p["category_source"], p["category_confidence"], p["category_rule_id"]) == (
        cats["restaurants"],
        "manual",
        "1.00",
        None,
    )
    assert (p["notes"], p["merchant"], p["excluded"], p["created_rule_id"], p["applied_to"]) == (
        "with Ann",
        "Starbucks",
        True,
        None,
        None,
    )
    # null: uncategorized, still a person's choice.
    p = api.call("PATCH", f"/api/transactions/{tid}", t, json={"category_id": None}).get_json()
    assert (p["category_id"], p["category_source"], p["notes"]) == (None, "manual", "with Ann")
    # Re-categorizing leaves a person's choice alone.
    with app.extensions["spendwatch"].db.system_session() as s:
        row = s.get(Transaction, tid)
        money_ingest.categorize(s, 1, [row])
        assert (row.category_id, row.category_source) == (None, "manual")


def test_bad_category_is_422_and_nothing_changes(app: Any, api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    (tid,) = seed(app, ctx["checking"], [{"on": "2024-04-01", "amount": "-4.5", "description": "Somewhere"}])
    before = api.call("GET", f"/api/transactions/{tid}", t).get_json()
    unknown = category_ids(app, workspace_id=1)["food"] + 10_000
    for bad in (unknown, 0, "abc"):
        response = api.call("PATCH", f"/api/transactions/{tid}", t, json={"category_id": bad, "notes": "changed?"})
        assert ["category_id"] in locs(error(response, 422))
    response = api.call("PATCH", f"/api/transactions/{tid}", t, json={"create_rule": True, "notes": "x"})
    error(response, 422)
    response = api.call("PATCH", f"/api/transactions/{tid}", t, json={"notes": None})
    assert ["notes"] in locs(error(response, 422))
    response = api.call("PATCH", f"/api/transactions/{tid}", t, json={"merchant": "m" * 201})
    assert ["merchant"] in locs(error(response, 422))
    assert api.call("GET", f"/api/transactions/{tid}", t).get_json() == before


def test_create_rule_and_apply_it_to_similar_transactions(app: Any, api: Api, ctx: dict[str, Any]) -> None:
    t, cats = ctx["token"], ctx["cats"]
    with app.extensions["spendwatch"].db.system_session() as s:
        s.add(
            TransactionRule(
                workspace_id=1,
                name="Existing",
                position=4,
                definition={
                    "conditions": [{"field": "description", "op": "contains", "value": "never matches anything"}],
                    "actions": [{"type": "set_category", "category_id": cats["fees"]}],
                },
            )
        )
    example, similar, chosen, other = seed(
        app,
        ctx["checking"],
        [
            {"on": "2024-06-01", "amount": "-30", "description": "ZORBLAX 0001", "merchant": "Zorblax Widgets"},
            {"on": "2024-06-08", "amount": "-31", "description": "ZORBLAX 0002", "merchant": "ZORBLAX WIDGETS"},
            {"on": "2024-06-15", "amount": "-32", "description": "ZORBLAX 0003", "merchant": "Zorblax Widgets"},
            {"on": "2024-06-15", "amount": "-33", "description": "QUUX LTD", "merchant": "Quux"},
        ],
    )
    # A person already put one of them elsewhere: the new rule leaves it alone.
    assert api.call("PATCH", f"/api/transactions/{chosen}", t, json={"category_id": cats["travel"]}).status_code == 200
    body = {"category_id": cats["electronics"], "create_rule": True, "apply_to_similar": True}
    response = api.call("PATCH", f"/api/transactions/{example}", t, json=body)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["category_source"] == "manual" and answer["category_id"] == cats["electronics"]
    rule_id = answer["created_rule_id"]
    assert rule_id and answer["applied_to"] == 1
    with app.extensions["spendwatch"].db.system_session() as s:
        rule = s.get(TransactionRule, rule_id)
        assert rule is not None
        assert (rule.name, rule.position, rule.enabled, rule.workspace_id) == (
            "Zorblax Widgets \u2192 Electronics",
            5,
            True,
            1,
        )
        assert rule.definition["conditions"] == [{"field": "merchant", "op": "equals", "value": "zorblax widgets"}]
        assert rule.definition["actions"] == [{"type": "set_category", "category_id": cats["electronics"]}]
    s_row, c_row, o_row = txn(app, similar), txn(app, chosen), txn(app, other)
    assert (s_row.category_id, s_row.category_source, s_row.category_rule_id) == (cats["electronics"], "rule", rule_id)
    assert (c_row.category_id, c_row.category_source) == (cats["travel"], "manual")
    assert o_row.category_id != cats["electronics"] and o_row.category_rule_id is None
    # Without apply_to_similar the rule is made but nothing else changes; later transactions follow it.
    (later,) = seed(app, ctx["checking"], [{"on": "2024-07-01", "amount": "-34", "merchant": "Zorblax Widgets"}])
    assert txn(app, later).category_rule_id == rule_id
    body = {"category_id": cats["clothing"], "create_rule": True}
    answer = api.call("PATCH", f"/api/transactions/{other}", t, json=body).get_json()
    assert answer["created_rule_id"] and answer["applied_to"] is None
    with app.extensions["spendwatch"].db.system_session() as s:
        assert s.scalar(select(func.count()).select_from(TransactionRule)) == 3


# --- manual transactions -------------------------------------------------------------------------------------------


def test_manual_create_and_delete(app: Any, api: Api, ctx: dict[str, Any]) -> None:
    t, cats = ctx["token"], ctx["cats"]
    body = {
        "bank_account_id": ctx["checking"],
        "posted_on": "2024-08-01",
        "amount": "-12.5",
        "description": "Cash at the market",
        "merchant": "Market",
        "notes": "veg",
        "category_id": cats["groceries"],
    }
    made = api.call("POST", "/api/transactions", t, json=body)
    assert made.status_code == 201, made.get_json()
    m = made.get_json()
    assert (m["amount"], m["currency"], m["category_id"], m["category_source"], m["notes"], m["merchant"]) == (
        "-12.50",
        "USD",
        cats["groceries"],
        "manual",
        "veg",
        "Market",
    )
    assert txn(app, m["id"]).fingerprint.startswith("new:")
    plain = api.call(
        "POST",
        "/api/transactions",
        t,
        json={"bank_account_id": ctx["savings"], "posted_on": "2024-08-02", "amount": 3, "description": "Found"},
    ).get_json()
    assert plain["amount"] == "3.00" and plain["category_source"] != "manual"
    (statement_row,) = seed(app, ctx["checking"], [{"on": "2024-08-03", "amount": "-1"}])
    err = error(api.call("DELETE", f"/api/transactions/{statement_row}", t), 409)
    assert err["code"] == "not_manual"
    assert api.call("DELETE", f"/api/transactions/{m['id']}", t).status_code == 204
    assert api.call("GET", f"/api/transactions/{m['id']}", t).status_code == 404
    assert ids(api, t) == {plain["id"], statement_row}


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"amount": "abc"}, "amount"),
        ({"amount": "1.23456"}, "amount"),
        ({"amount": "1e20"}, "amount"),
        ({"amount": "Infinity"}, "amount"),
        ({"currency": "dollars"}, "currency"),
        ({"posted_on": "2024-13-01"}, "posted_on"),
        ({"posted_on": "1066-10-14"}, "posted_on"),
        ({"description": ""}, "description"),
        ({"bank_account_id": 999}, "bank_account_id"),
        ({"category_id": 99999}, "category_id"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_manual_transactions_are_422_and_store_nothing(
    api: Api, ctx: dict[str, Any], change: dict[str, Any], loc: str
) -> None:
    body = {"bank_account_id": ctx["checking"], "posted_on": "2024-08-01", "amount": "-1", "description": "x"}
    err = error(api.call("POST", "/api/transactions", ctx["token"], json=body | change), 422)
    assert [loc] in locs(err)
    assert all_items(api, ctx["token"]) == []


def test_bad_bank_account_input_is_422(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    for body, loc in (
        ({"name": "x", "currency": "dollars"}, "currency"),
        ({"name": "x", "currency": "US"}, "currency"),
        ({"name": "", "currency": "USD"}, "name"),
        ({"name": "x", "currency": "USD", "balance": "abc"}, "balance"),
        ({"currency": "USD"}, "name"),
    ):
        assert [loc] in locs(error(api.call("POST", "/api/bank-accounts", t, json=body), 422)), body
    err = error(api.call("PATCH", f"/api/bank-accounts/{ctx['checking']}", t, json={"name": None}), 422)
    assert ["name"] in locs(err)
    assert len(api.call("GET", "/api/bank-accounts", t).get_json()["items"]) == 2


# --- transfers -----------------------------------------------------------------------------------------------------


def test_unpair_and_pair_by_hand(app: Any, api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    out_id, lone_out = seed(
        app, ctx["checking"], [{"on": "2024-09-01", "amount": "-250"}, {"on": "2024-09-20", "amount": "-75.25"}]
    )
    in_id, lone_in, odd = seed(
        app,
        ctx["savings"],
        [
            {"on": "2024-09-02", "amount": "250"},
            {"on": "2024-10-30", "amount": "75.25"},
            {"on": "2024-09-20", "amount": "75"},
        ],
    )
    assert (txn(app, out_id).transfer_peer_id, txn(app, in_id).transfer_peer_id) == (in_id, out_id)
    assert not txn(app, lone_out).is_transfer  # 40 days apart: not paired automatically

    answer = api.call("POST", f"/api/transactions/{out_id}/unpair", t)
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["is_transfer"], answer.get_json()["transfer_peer_id"]) == (False, None)
    for tid in (out_id, in_id):
        row = txn(app, tid)
        assert (row.is_transfer, row.transfer_peer_id, row.transfer_locked) == (False, None, True)
    with app.extensions["spendwatch"].db.system_session() as s:  # never paired again automatically
        assert money_ingest.pair_transfers(s, 1, dt.date(2024, 9, 1), dt.date(2024, 9, 2)) == 0
    assert not txn(app, out_id).is_transfer

    paired = api.call("POST", f"/api/transactions/{lone_out}/pair", t, json={"peer_id": lone_in})
    assert paired.status_code == 200, paired.get_json()
    assert (paired.get_json()["is_transfer"], paired.get_json()["transfer_peer_id"]) == (True, lone_in)
    peer = txn(app, lone_in)
    assert (peer.is_transfer, peer.transfer_peer_id, peer.transfer_locked) == (True, lone_out, True)
    assert txn(app, lone_out).transfer_locked

    # Re-pairing the first pair by hand works too (both were locked by the unpair).
    assert api.call("POST", f"/api/transactions/{in_id}/pair", t, json={"peer_id": out_id}).status_code == 200
    assert txn(app, out_id).transfer_peer_id == in_id

    (same_account,) = seed(app, ctx["checking"], [{"on": "2024-09-21", "amount": "75.25"}])
    for peer_id in (odd, same_account, lone_out, 999_999):
        response = api.call("POST", f"/api/transactions/{lone_out}/pair", t, json={"peer_id": peer_id})
        assert ["peer_id"] in locs(error(response, 422)), peer_id
    error(api.call("POST", f"/api/transactions/{lone_out}/pair", t, json={"peer_id": "x"}), 422)
    error(api.call("POST", "/api/transactions/999999/unpair", t), 404)


# --- export --------------------------------------------------------------------------------------------------------


def test_csv_export(app: Any, api: Api, ctx: dict[str, Any]) -> None:
    t, cats = ctx["token"], ctx["cats"]
    a, b, _ = seed(
        app,
        ctx["checking"],
        [
            {"on": "2024-01-02", "amount": "-3.3333", "description": 'Coffee, "large"', "merchant": "Cafe"},
            {"on": "2024-01-03", "amount": "-20", "description": '=HYPERLINK("x")', "pending": True},
            {"on": "2024-03-01", "amount": "-1", "description": "Out of range"},
        ],
    )
    set_fields(app, {a: {"category_id": cats["coffee"], "notes": "line one"}})
    with api.call("GET", "/api/transactions/export", t, query_string={"to": "2024-02-01", "sort": "date"}) as response:
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        text = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        [
            "date",
            "amount",
            "currency",
            "description",
            "merchant",
            "category",
            "notes",
            "account",
            "pending",
            "transfer",
        ],
        ["2024-01-02", "-3.3333", "USD", 'Coffee, "large"', "Cafe", "Coffee", "line one", "Checking", "false", "false"],
        ["2024-01-03", "-20.00", "USD", '\'=HYPERLINK("x")', "", "", "", "Checking", "true", "false"],
    ]
    with api.call("GET", "/api/transactions/export", t, query_string={"pending": "true"}) as response:
        assert [r[0] for r in csv.reader(io.StringIO(response.get_data(as_text=True)))] == ["date", "2024-01-03"]
    assert b
    error(api.call("GET", "/api/transactions/export", t, query_string={"format": "xml"}), 422)
    error(api.call("GET", "/api/transactions/export", t, query_string={"from": "2024-02-01", "to": "2024-01-01"}), 422)


def test_export_streams_in_chunks(app: Any, api: Api, ctx: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.services import transactions as service

    monkeypatch.setattr(service, "EXPORT_CHUNK", 2)
    seed(app, ctx["checking"], [{"on": f"2024-01-{d:02d}", "amount": f"-{d}"} for d in range(1, 8)])
    with api.call("GET", "/api/transactions/export", ctx["token"], query_string={"sort": "-amount"}) as response:
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))[1:]
    assert [r[1] for r in rows] == [f"-{d}.00" for d in range(1, 8)]


# --- roles and workspaces ------------------------------------------------------------------------------------------


def test_viewers_read_but_do_not_write(app: Any, api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    (tid,) = seed(app, ctx["checking"], [{"on": "2024-01-02", "amount": "-3"}])
    invite = api.call("POST", "/api/workspaces/1/invites", t, json={"email": "v@example.com", "role": "viewer"})
    viewer = api.register("v@example.com", invite_token=invite.get_json()["token"])["access_token"]
    reads = [
        "/api/bank-accounts",
        "/api/bank-accounts/balances",
        f"/api/bank-accounts/{ctx['checking']}",
        "/api/transactions",
        f"/api/transactions/{tid}",
        "/api/transactions/export",
    ]
    for path in reads:
        assert api.call("GET", path, viewer).status_code == 200, path
    writes = [
        ("POST", "/api/bank-accounts", {"name": "x", "currency": "USD"}),
        ("PATCH", f"/api/bank-accounts/{ctx['checking']}", {"name": "x"}),
        ("DELETE", f"/api/bank-accounts/{ctx['checking']}", None),
        (
            "POST",
            "/api/transactions",
            {"bank_account_id": ctx["checking"], "posted_on": "2024-01-01", "amount": "1", "description": "x"},
        ),
        ("PATCH", f"/api/transactions/{tid}", {"notes": "x"}),
        ("DELETE", f"/api/transactions/{tid}", None),
        ("POST", f"/api/transactions/{tid}/unpair", None),
        ("POST", f"/api/transactions/{tid}/pair", {"peer_id": tid}),
    ]
    for method, path, body in writes:
        assert error(api.call(method, path, viewer, json=body), 403)["code"] == "forbidden", (method, path)
    assert txn(app, tid).notes == "" and len(all_items(api, t)) == 1


def test_another_workspaces_ids_are_404(app: Any, api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    (tid,) = seed(app, ctx["checking"], [{"on": "2024-01-02", "amount": "-3", "description": "Secret thing"}])
    api.call("PATCH", "/api/admin/settings", t, json={"registration_mode": "open"})
    other = api.register("other@example.com")["access_token"]
    own_bank = make_bank(api, other, "Theirs")
    (own_tid,) = seed(app, own_bank, [{"on": "2024-01-02", "amount": "3"}])
    bank = f"/api/bank-accounts/{ctx['checking']}"
    probes = [
        ("GET", bank, None),
        ("PATCH", bank, {"name": "hijack"}),
        ("DELETE", bank, None),
        ("GET", f"/api/transactions/{tid}", None),
        ("PATCH", f"/api/transactions/{tid}", {"notes": "hijack"}),
        ("DELETE", f"/api/transactions/{tid}", None),
        ("POST", f"/api/transactions/{tid}/unpair", None),
        ("POST", f"/api/transactions/{tid}/pair", {"peer_id": own_tid}),
    ]
    for method, path, body in probes:
        assert error(api.call(method, path, other, json=body), 404)["code"] == "not_found", (method, path)
    # Their lists, filters and export never show the owner's rows; the owner's ids in bodies are a 422.
    assert [a["name"] for a in api.call("GET", "/api/bank-accounts", other).get_json()["items"]] == ["Theirs"]
    assert ids(api, other) == {own_tid}
    assert ids(api, other, bank_account_id=ctx["checking"]) == set()
    assert ids(api, other, category_id=ctx["cats"]["food"]) == set()
    with api.call("GET", "/api/transactions/export", other) as response:
        assert "Secret thing" not in response.get_data(as_text=True)
    body = {"bank_account_id": ctx["checking"], "posted_on": "2024-01-01", "amount": "1", "description": "x"}
    assert ["bank_account_id"] in locs(error(api.call("POST", "/api/transactions", other, json=body), 422))
    other_cats = category_ids(app, workspace_id=2)
    assert other_cats["food"] != ctx["cats"]["food"]
    patch = {"category_id": ctx["cats"]["food"]}
    assert ["category_id"] in locs(error(api.call("PATCH", f"/api/transactions/{own_tid}", other, json=patch), 422))
    response = api.call("POST", f"/api/transactions/{own_tid}/pair", other, json={"peer_id": tid})
    assert ["peer_id"] in locs(error(response, 422))
    # And nothing of the owner's changed.
    row = txn(app, tid)
    assert (row.notes, row.is_transfer, row.transfer_locked) == ("", False, False)
    assert api.call("GET", bank, t).get_json()["name"] == "Checking"
