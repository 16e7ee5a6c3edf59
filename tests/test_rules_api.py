"""/api/rules: CRUD and order, validation (every RuleError path is a 422 naming its loc), trying a rule on the
latest transactions, applying rules to stored ones, and the categorizer at ingest (rule, learned)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.models import TransactionRule
from tests.conftest import Api
from tests.test_categories_api import add_viewer, make_bank, other_workspace, seed, set_category, txn

DAY = dt.date(2026, 3, 2)
NETFLIX = {
    "name": "Netflix",
    "conditions": [{"field": "merchant", "op": "equals", "value": "  NETFLIX  "}],
    "actions": [{"type": "rename_merchant", "name": "Netflix"}],
}


@pytest.fixture
def ctx(app: Any, api: Api, owner: dict[str, Any]) -> dict[str, Any]:
    db = app.extensions["spendwatch"].db
    token = owner["access_token"]
    tree = api.call("GET", "/api/categories", token).get_json()["items"]
    keys = {c["key"]: c["id"] for node in tree for c in (node, *node["children"])}
    return {"token": token, "db": db, "bank": make_bank(db), "keys": keys}


def _post(api: Api, token: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.call("POST", "/api/rules", token, json=body)
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def _order(api: Api, token: str) -> list[tuple[str, int]]:
    return [(r["name"], r["position"]) for r in api.call("GET", "/api/rules", token).get_json()["items"]]


def _stored(db: Any) -> int:
    with db.system_session() as s:
        return int(s.scalar(select(func.count()).select_from(TransactionRule)) or 0)


def test_rule_crud_and_positions(api: Api, ctx: dict[str, Any]) -> None:
    t, keys = ctx["token"], ctx["keys"]
    body: dict[str, Any] = {
        "name": "Small coffee",
        "match": "any",
        "conditions": [
            {"field": "description", "op": "contains", "value": "  blue   bottle "},
            {"field": "amount", "min": -20, "max": "-5.5"},
            {"field": "account", "value": [ctx["bank"], ctx["bank"]]},
            {"field": "direction", "value": "out"},
        ],
        "actions": [{"type": "set_category", "category_id": keys["coffee"]}, {"type": "add_note", "text": "latte"}],
        "enabled": False,
    }
    first = _post(api, t, body)
    # Stored normalized, as backend.money.rules writes it.
    assert {k: first[k] for k in ("name", "position", "enabled", "match", "conditions", "actions")} == {
        "name": "Small coffee",
        "position": 0,
        "enabled": False,
        "match": "any",
        "conditions": [
            {"field": "description", "op": "contains", "value": "blue bottle"},
            {"field": "amount", "min": "-20", "max": "-5.5"},
            {"field": "account", "value": [ctx["bank"]]},
            {"field": "direction", "value": "out"},
        ],
        "actions": [{"type": "set_category", "category_id": keys["coffee"]}, {"type": "add_note", "text": "latte"}],
    }
    with ctx["db"].system_session() as s:
        row = s.get(TransactionRule, first["id"])
        assert row is not None and set(row.definition) == {"match", "conditions", "actions"}
    _post(api, t, {**NETFLIX, "name": "B"})
    _post(api, t, {**NETFLIX, "name": "Top", "position": 0})
    _post(api, t, {**NETFLIX, "name": "Far", "position": 99})
    assert _order(api, t) == [("Top", 0), ("Small coffee", 1), ("B", 2), ("Far", 3)]

    r = api.call(
        "PATCH",
        f"/api/rules/{first['id']}",
        t,
        json={"name": "Coffee", "enabled": True, "position": 3, "match": "all", "conditions": [body["conditions"][3]]},
    )
    assert r.status_code == 200, r.get_json()
    changed = r.get_json()
    assert (changed["name"], changed["enabled"], changed["match"], changed["position"]) == ("Coffee", True, "all", 3)
    assert changed["conditions"] == [{"field": "direction", "value": "out"}]
    assert changed["actions"] == first["actions"]  # not given: kept
    assert _order(api, t) == [("Top", 0), ("B", 1), ("Far", 2), ("Coffee", 3)]

    top = api.call("GET", "/api/rules", t).get_json()["items"][0]["id"]
    assert api.call("DELETE", f"/api/rules/{top}", t).status_code == 204
    assert _order(api, t) == [("B", 0), ("Far", 1), ("Coffee", 2)]
    assert api.call("DELETE", f"/api/rules/{top}", t).status_code == 404
    assert api.call("PATCH", f"/api/rules/{top}", t, json={"name": "x"}).status_code == 404
    assert api.call("POST", f"/api/rules/{top}/test", t).status_code == 404


def _cond(**fields: Any) -> dict[str, Any]:
    return {"name": "r", "conditions": [fields], "actions": [{"type": "mark_transfer"}]}


def _act(*actions: dict[str, Any]) -> dict[str, Any]:
    return {"name": "r", "conditions": [{"field": "direction", "value": "in"}], "actions": list(actions)}


TEXT = {"field": "merchant", "op": "contains", "value": "x"}
RULE_ERRORS: list[tuple[dict[str, Any], list[Any]]] = [
    ({"name": "r", "conditions": [], "actions": [{"type": "mark_transfer"}]}, ["conditions"]),
    ({"name": "r", "conditions": [TEXT] * 21, "actions": [{"type": "mark_transfer"}]}, ["conditions"]),
    ({"name": "r", "conditions": [TEXT], "actions": []}, ["actions"]),
    ({"name": "r", "conditions": [TEXT], "actions": [{"type": "add_note", "text": "n"}] * 11}, ["actions"]),
    (_cond(field="colour", value="x"), ["conditions", 0, "field"]),
    (_cond(value="x"), ["conditions", 0, "field"]),
    (_cond(field="merchant", op="like", value="x"), ["conditions", 0, "op"]),
    (_cond(field="merchant", op="contains"), ["conditions", 0, "value"]),
    (_cond(field="merchant", op="contains", value="   "), ["conditions", 0, "value"]),
    (_cond(field="merchant", op="contains", value="x" * 201), ["conditions", 0, "value"]),
    (_cond(field="description", op="equals", value=5), ["conditions", 0, "value"]),
    (_cond(field="merchant", op="contains", value="x", extra=1), ["conditions", 0, "extra"]),
    (_cond(**{"field": "merchant", "op": "contains", "value": "x", "²": 1}), ["conditions", 0, "²"]),
    (_cond(field="merchant", op="regex", value="(unclosed"), ["conditions", 0, "value"]),
    (_cond(field="merchant", op="regex", value="(a+)+$"), ["conditions", 0, "value"]),
    (_cond(field="merchant", op="regex", value="a" * 201), ["conditions", 0, "value"]),
    (_cond(field="merchant", op="regex", value=" "), ["conditions", 0, "value"]),
    (_cond(field="merchant", op="regex", value="a{99999999999}"), ["conditions", 0, "value"]),
    (_cond(field="merchant", op="regex", value=["a"]), ["conditions", 0, "value"]),
    (_cond(field="amount"), ["conditions", 0]),
    (_cond(field="amount", min="abc"), ["conditions", 0, "min"]),
    (_cond(field="amount", max="NaN"), ["conditions", 0, "max"]),
    (_cond(field="amount", min=True), ["conditions", 0, "min"]),
    (_cond(field="amount", min=5, max=1), ["conditions", 0, "max"]),
    (_cond(field="amount", min=1, value=2), ["conditions", 0, "value"]),
    (_cond(field="account", value=[]), ["conditions", 0, "value"]),
    (_cond(field="account", value="1"), ["conditions", 0, "value"]),
    (_cond(field="account", value=[0]), ["conditions", 0, "value", 0]),
    (_cond(field="account", value=[1, True]), ["conditions", 0, "value", 1]),
    (_cond(field="account", value=[999999]), ["conditions", 0, "value"]),
    (_cond(field="direction", value="sideways"), ["conditions", 0, "value"]),
    (_act({"type": "explode"}), ["actions", 0, "type"]),
    (_act({"category_id": 1}), ["actions", 0, "type"]),
    (_act({"type": "set_category"}), ["actions", 0, "category_id"]),
    (_act({"type": "set_category", "category_id": "3"}), ["actions", 0, "category_id"]),
    (_act({"type": "set_category", "category_id": 0}), ["actions", 0, "category_id"]),
    (_act({"type": "set_category", "category_id": 2**40}), ["actions", 0, "category_id"]),
    (_cond(field="account", value=[2**63]), ["conditions", 0, "value"]),
    (_act({"type": "mark_transfer"}, {"type": "set_category", "category_id": 999999}), ["actions", 1, "category_id"]),
    (_act({"type": "mark_transfer"}, {"type": "mark_transfer"}), ["actions", 1, "type"]),
    (_act({"type": "rename_merchant", "name": ""}), ["actions", 0, "name"]),
    (_act({"type": "rename_merchant"}), ["actions", 0, "name"]),
    (_act({"type": "add_note", "text": "n" * 501}), ["actions", 0, "text"]),
    (_act({"type": "mark_transfer", "foo": 1}), ["actions", 0, "foo"]),
]


@pytest.mark.parametrize(("body", "loc"), RULE_ERRORS)
def test_every_rule_error_is_a_422_with_its_loc(
    api: Api, ctx: dict[str, Any], body: dict[str, Any], loc: list[Any]
) -> None:
    for path in ("/api/rules", "/api/rules/test"):
        r = api.call("POST", path, ctx["token"], json=body)
        assert r.status_code == 422, r.get_json()
        error = r.get_json()["error"]
        assert error["code"] == "invalid_rule" and error["message"], error
        assert [d["loc"] for d in error["details"]] == [loc]
    assert _stored(ctx["db"]) == 0
    made = _post(api, ctx["token"], {**NETFLIX, "name": "ok"})
    r = api.call(
        "PATCH", f"/api/rules/{made['id']}", ctx["token"], json={k: body[k] for k in ("conditions", "actions")}
    )
    assert r.status_code == 422 and [d["loc"] for d in r.get_json()["error"]["details"]] == [loc]
    assert api.call("GET", "/api/rules", ctx["token"]).get_json()["items"][0]["conditions"] == [
        {"field": "merchant", "op": "equals", "value": "NETFLIX"}
    ]


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"match": "most"}, "match"),
        ({"position": -1}, "position"),
        ({"position": 1001}, "position"),
        ({"conditions": "merchant is netflix"}, "conditions"),
        ({"conditions": ["x"]}, "conditions"),
        ({"actions": None}, "actions"),
        ({"enabled": [1]}, "enabled"),
        ({"id": 5}, "id"),
        ({"definition": {}}, "definition"),
    ],
)
def test_bad_rule_fields_are_a_422(api: Api, ctx: dict[str, Any], changes: dict[str, Any], where: str) -> None:
    r = api.call("POST", "/api/rules", ctx["token"], json={**NETFLIX, **changes})
    assert r.status_code == 422, r.get_json()
    assert where in str(r.get_json()["error"]["details"])
    assert _stored(ctx["db"]) == 0


def test_another_workspaces_ids_are_refused(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    other = other_workspace(ctx["db"])
    their_bank = make_bank(ctx["db"], workspace_id=other["workspace"])
    body = _act({"type": "set_category", "category_id": other["category"]})
    r = api.call("POST", "/api/rules", t, json=body)
    assert r.status_code == 422
    assert r.get_json()["error"]["details"] == [
        {"loc": ["actions", 0, "category_id"], "msg": "not a category of this workspace", "type": "invalid_rule"}
    ]
    r = api.call("POST", "/api/rules", t, json=_cond(field="account", value=[ctx["bank"], their_bank]))
    assert r.status_code == 422 and r.get_json()["error"]["details"][0]["loc"] == ["conditions", 0, "value"]
    mine = _post(api, t, NETFLIX)
    r = api.call("PATCH", f"/api/rules/{mine['id']}", t, json={"actions": body["actions"]})
    assert r.status_code == 422
    # Their rule is not ours to see, change, test, order or apply.
    theirs = other["rule"]
    assert api.call("PATCH", f"/api/rules/{theirs}", t, json={"name": "hijack"}).status_code == 404
    assert api.call("DELETE", f"/api/rules/{theirs}", t).status_code == 404
    assert api.call("POST", f"/api/rules/{theirs}/test", t).status_code == 404
    assert api.call("POST", "/api/rules/reorder", t, json={"ids": [mine["id"], theirs]}).status_code == 422
    assert api.call("POST", "/api/rules/apply", t, json={"rule_ids": [theirs]}).status_code == 422
    assert [r["id"] for r in api.call("GET", "/api/rules", t).get_json()["items"]] == [mine["id"]]
    with ctx["db"].system_session() as s:
        row = s.get(TransactionRule, theirs)
        assert row is not None and row.name == "theirs"


def test_reorder(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    a, b, c = (_post(api, t, {**NETFLIX, "name": n})["id"] for n in "abc")
    r = api.call("POST", "/api/rules/reorder", t, json={"ids": [c, a, b]})
    assert r.status_code == 200, r.get_json()
    assert [(x["id"], x["position"]) for x in r.get_json()["items"]] == [(c, 0), (a, 1), (b, 2)]
    for ids in ([c, a], [c, a, b, b], [c, a, b, 999999], [], [c, a, a]):
        r = api.call("POST", "/api/rules/reorder", t, json={"ids": ids})
        assert r.status_code == 422, ids
        assert r.get_json()["error"]["details"][0]["loc"] == ["ids"]
    assert _order(api, t) == [("c", 0), ("a", 1), ("b", 2)]


def test_trying_a_rule_lists_exact_changes(api: Api, ctx: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    t, db, keys = ctx["token"], ctx["db"], ctx["keys"]
    old, new, tea, latest = seed(
        db,
        ctx["bank"],
        [
            (dt.date(2026, 1, 15), "-15.49", "NETFLIX.COM"),
            (dt.date(2026, 2, 15), "-15.49", "NETFLIX.COM"),
            (dt.date(2026, 2, 16), "-3.00", "Tea shop"),
            (dt.date(2026, 2, 17), "-99.99", "Zzz"),
        ],
    )
    assert txn(db, new).category_id == keys["streaming"]  # the keyword guess
    set_category(db, [old], keys["entertainment"], "manual")
    body = {
        "name": "Netflix is entertainment",
        "conditions": [{"field": "merchant", "op": "equals", "value": "netflix"}],
        "actions": [
            {"type": "set_category", "category_id": keys["entertainment"]},
            {"type": "rename_merchant", "name": "Netflix"},
        ],
    }
    expected = {
        "scanned": 4,
        "matched": 2,
        "changes": [
            {
                "transaction_id": new,
                "posted_on": "2026-02-15",
                "amount": "-15.49",
                "currency": "USD",
                "description": "NETFLIX.COM #0001",
                "merchant": "NETFLIX.COM",
                "field": "category_id",
                "before": keys["streaming"],
                "after": keys["entertainment"],
                "manual": False,
            },
            {
                "transaction_id": new,
                "posted_on": "2026-02-15",
                "amount": "-15.49",
                "currency": "USD",
                "description": "NETFLIX.COM #0001",
                "merchant": "NETFLIX.COM",
                "field": "merchant",
                "before": "NETFLIX.COM",
                "after": "Netflix",
                "manual": False,
            },
            {
                "transaction_id": old,
                "posted_on": "2026-01-15",
                "amount": "-15.49",
                "currency": "USD",
                "description": "NETFLIX.COM #0000",
                "merchant": "NETFLIX.COM",
                "field": "merchant",
                "before": "NETFLIX.COM",
                "after": "Netflix",
                "manual": True,
            },
        ],
    }
    r = api.call("POST", "/api/rules/test", t, json=body)
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == expected
    made = _post(api, t, {**body, "enabled": False})  # disabled rules can be tried too
    r = api.call("POST", f"/api/rules/{made['id']}/test", t)
    assert (r.status_code, r.get_json()) == (200, expected)
    # Nothing changed.
    assert (txn(db, new).category_id, txn(db, new).merchant) == (keys["streaming"], "NETFLIX.COM")
    # Only the latest transactions by date are scanned.
    monkeypatch.setattr("backend.services.transaction_rules.TEST_SCAN", 3)
    r = api.call("POST", f"/api/rules/{made['id']}/test", t).get_json()
    assert (r["scanned"], r["matched"], [c["transaction_id"] for c in r["changes"]]) == (3, 1, [new, new])
    assert tea and latest


def test_apply_replaces_guesses_but_never_manual_choices(api: Api, ctx: dict[str, Any]) -> None:
    t, db, keys = ctx["token"], ctx["db"], ctx["keys"]
    jan, feb, mar, food = seed(
        db,
        ctx["bank"],
        [
            (dt.date(2026, 1, 3), "-4.50", "Starbucks"),
            (dt.date(2026, 2, 3), "-5.10", "Starbucks"),
            (dt.date(2026, 3, 3), "-4.80", "Starbucks"),
            (dt.date(2026, 3, 4), "-60.00", "Whole Foods"),
        ],
    )
    assert [(txn(db, i).category_id, txn(db, i).category_source) for i in (jan, feb, mar)] == [
        (keys["coffee"], "keyword")
    ] * 3
    set_category(db, [feb], keys["restaurants"], "manual")
    rule = _post(
        api,
        t,
        {
            "name": "Starbucks is entertainment",
            "conditions": [{"field": "merchant", "op": "contains", "value": "starbucks"}],
            "actions": [
                {"type": "set_category", "category_id": keys["entertainment"]},
                {"type": "add_note", "text": "work coffee"},
            ],
        },
    )
    other = _post(api, t, {**NETFLIX, "name": "other"})
    # Only what the other rule matches (nothing): nothing scanned.
    r = api.call("POST", "/api/rules/apply", t, json={"rule_ids": [other["id"]]})
    assert (r.status_code, r.get_json()) == (200, {"scanned": 0, "changed": 0})
    # A date range: March only.
    r = api.call(
        "POST", "/api/rules/apply", t, json={"rule_ids": [rule["id"]], "from": "2026-03-01", "to": "2026-03-31"}
    )
    assert r.get_json() == {"scanned": 1, "changed": 1}
    assert (txn(db, jan).category_id, txn(db, mar).category_id) == (keys["coffee"], keys["entertainment"])
    # Everything: the manual February choice stays, Whole Foods stays groceries, January changes.
    r = api.call("POST", "/api/rules/apply", t, json={})
    assert r.get_json() == {"scanned": 3, "changed": 1}
    assert [(txn(db, i).category_id, txn(db, i).category_source) for i in (jan, feb, mar, food)] == [
        (keys["entertainment"], "rule"),
        (keys["restaurants"], "manual"),
        (keys["entertainment"], "rule"),
        (keys["groceries"], "keyword"),
    ]
    assert (txn(db, jan).category_rule_id, txn(db, jan).notes, txn(db, feb).notes) == (rule["id"], "work coffee", "")
    # Again: nothing left to change (the note is not added twice).
    assert api.call("POST", "/api/rules/apply", t, json={}).get_json() == {"scanned": 3, "changed": 0}
    for body in ({"from": "2026-03-02", "to": "2026-03-01"}, {"rule_ids": [999999]}, {"to": "soon"}, {"x": 1}):
        assert api.call("POST", "/api/rules/apply", t, json=body).status_code == 422, body


def test_new_transactions_get_the_rules_category_at_ingest(api: Api, ctx: dict[str, Any]) -> None:
    t, db, keys = ctx["token"], ctx["db"], ctx["keys"]
    rule = _post(
        api,
        t,
        {
            "name": "Gym",
            "conditions": [{"field": "merchant", "op": "starts_with", "value": "equinox"}],
            "actions": [{"type": "set_category", "category_id": keys["health"]}],
        },
    )
    (tid,) = seed(db, ctx["bank"], [(DAY, "-200.00", "EQUINOX #1234 NEW YORK")])
    row = txn(db, tid)
    assert (row.category_id, row.category_source, row.category_rule_id) == (keys["health"], "rule", rule["id"])
    assert row.category_confidence is not None and row.category_confidence == 1
    # A disabled rule does nothing at ingest.
    api.call("PATCH", f"/api/rules/{rule['id']}", t, json={"enabled": False})
    (tid,) = seed(db, ctx["bank"], [(DAY, "-200.00", "EQUINOX #1234 NEW YORK")])
    # ...but what it chose before is now history to learn from.
    assert (txn(db, tid).category_id, txn(db, tid).category_source) == (keys["health"], "learned")


def test_a_manual_choice_is_learned_for_the_next_transaction(api: Api, ctx: dict[str, Any]) -> None:
    db, keys = ctx["db"], ctx["keys"]
    first, second = seed(db, ctx["bank"], [(DAY, "-4.50", "Starbucks"), (DAY, "-3.90", "Starbucks")])
    assert txn(db, second).category_source == "keyword"  # guesses teach nothing
    set_category(db, [first], keys["restaurants"], "manual")
    (new,) = seed(db, ctx["bank"], [(DAY + dt.timedelta(days=1), "-6.10", "STARBUCKS")])
    row = txn(db, new)
    assert (row.category_id, row.category_source, str(row.category_confidence)) == (
        keys["restaurants"],
        "learned",
        "0.95",
    )


def test_viewers_read_rules_but_do_not_write(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    made = _post(api, t, NETFLIX)
    viewer = add_viewer(api, t)
    assert [r["id"] for r in api.call("GET", "/api/rules", viewer).get_json()["items"]] == [made["id"]]
    for method, path, body in (
        ("POST", "/api/rules", NETFLIX),
        ("PATCH", f"/api/rules/{made['id']}", {"name": "x"}),
        ("DELETE", f"/api/rules/{made['id']}", None),
        ("POST", "/api/rules/reorder", {"ids": [made["id"]]}),
        ("POST", "/api/rules/apply", {}),
        ("POST", "/api/rules/test", NETFLIX),
        ("POST", f"/api/rules/{made['id']}/test", None),
    ):
        assert api.call(method, path, viewer, json=body).status_code == 403, (method, path)
    assert _order(api, t) == [("Netflix", 0)]
