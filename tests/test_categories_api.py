"""/api/categories: the default tree (copied once), create and nest (one level), change, and delete with somewhere
for what used the category (transactions, subcategories, rules, budgets)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.models import AlertRule, BankAccount, Category, Transaction, TransactionRule, Workspace
from backend.money.categories import DEFAULT_CATEGORIES
from backend.services.money_ingest import NewTransaction, store, unique_fingerprint
from tests.conftest import Api

DAY = dt.date(2026, 3, 2)


def make_bank(db: Any, workspace_id: int = 1, currency: str = "USD") -> int:
    """A bank account kept by hand (no connection) in WORKSPACE_ID."""
    with db.system_session() as s:
        bank = BankAccount(workspace_id=workspace_id, account_id=None, name="Checking", currency=currency)
        s.add(bank)
        s.flush()
        return int(bank.id)


def seed(db: Any, bank_id: int, rows: list[tuple[dt.date, str, str]], currency: str = "USD") -> list[int]:
    """Store (date, amount, merchant) rows through the ingest path (categorized like a sync would); their ids."""
    with db.system_session() as s:
        bank = s.get(BankAccount, bank_id)
        assert bank is not None
        items = [
            NewTransaction(
                fingerprint=unique_fingerprint(),
                posted_on=day,
                amount=Decimal(amount),
                currency=currency,
                description=f"{merchant.upper()} #{i:04d}",
                merchant=merchant,
            )
            for i, (day, amount, merchant) in enumerate(rows)
        ]
        return list(store(s, bank_account=bank, items=items, update_existing=False).added)


def set_category(db: Any, ids: list[int], category_id: int | None, source: str | None) -> None:
    with db.system_session() as s:
        for tid in ids:
            row = s.get(Transaction, tid)
            assert row is not None
            row.category_id, row.category_source = category_id, source


def txn(db: Any, tid: int) -> Transaction:
    with db.system_session() as s:
        row = s.get(Transaction, tid)
        assert row is not None
        s.expunge(row)
        return row


def add_viewer(api: Api, token: str) -> str:
    invite = api.call("POST", "/api/workspaces/1/invites", token, json={"email": "v@example.com", "role": "viewer"})
    return str(api.register("v@example.com", invite_token=invite.get_json()["token"])["access_token"])


def other_workspace(db: Any) -> dict[str, int]:
    """Workspace 2 with a category and a rule of its own."""
    with db.system_session() as s:
        ws = Workspace(name="Other")
        s.add(ws)
        s.flush()
        category = Category(workspace_id=ws.id, name="Theirs", kind="expense", necessity=5)
        s.add(category)
        s.flush()
        rule = TransactionRule(
            workspace_id=ws.id,
            name="theirs",
            position=0,
            enabled=True,
            definition={
                "match": "all",
                "conditions": [{"field": "merchant", "op": "contains", "value": "x"}],
                "actions": [{"type": "set_category", "category_id": category.id}],
            },
        )
        s.add(rule)
        s.flush()
        return {"workspace": ws.id, "category": category.id, "rule": rule.id}


@pytest.fixture
def ctx(app: Any, api: Api, owner: dict[str, Any]) -> dict[str, Any]:
    db = app.extensions["spendwatch"].db
    return {"token": owner["access_token"], "db": db, "bank": make_bank(db)}


def _tree(api: Api, token: str) -> list[dict[str, Any]]:
    r = api.call("GET", "/api/categories", token)
    assert r.status_code == 200, r.get_json()
    return list(r.get_json()["items"])


def _flat(tree: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for node in tree:
        out[node["name"]] = node
        for child in node["children"]:
            out[child["name"]] = child
    return out


def _create(api: Api, token: str, **body: Any) -> dict[str, Any]:
    r = api.call("POST", "/api/categories", token, json=body)
    assert r.status_code == 201, r.get_json()
    return dict(r.get_json())


def _count(db: Any, model: Any) -> int:
    with db.system_session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_defaults_are_copied_once_as_a_tree(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    first = _tree(api, t)
    second = _tree(api, t)
    assert first == second
    assert _count(ctx["db"], Category) == len(DEFAULT_CATEGORIES) == 29
    flat = _flat(first)
    assert len(flat) == 29
    food = next(n for n in first if n["key"] == "food")
    assert [c["key"] for c in food["children"]] == ["coffee", "groceries", "restaurants"]  # by name
    assert {k: food[k] for k in ("name", "icon", "color", "kind", "necessity", "parent_id")} == {
        "name": "Food",
        "icon": "🍽️",
        "color": "#e67e22",
        "kind": "expense",
        "necessity": 8,
        "parent_id": None,
    }
    assert all(c["parent_id"] == food["id"] for c in food["children"])
    assert all(n["transaction_count"] == 0 for n in flat.values())


def test_transaction_counts_per_category(api: Api, ctx: dict[str, Any]) -> None:
    # Keyword guesses at ingest: two coffees, one grocery; a payee nobody knows stays uncategorized.
    seed(
        ctx["db"],
        ctx["bank"],
        [(DAY, "-4.50", "Starbucks"), (DAY, "-3.90", "Starbucks"), (DAY, "-60.00", "Whole Foods"), (DAY, "-9", "Zq")],
    )
    flat = _flat(_tree(api, ctx["token"]))
    assert (flat["Coffee"]["transaction_count"], flat["Groceries"]["transaction_count"]) == (2, 1)
    assert flat["Food"]["transaction_count"] == 0  # its own, not its subcategories'


def test_create_nest_one_level_and_change(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    pets = _create(api, t, name="  Pets ", icon="🐾", color="#AABBCC", necessity=6)
    assert {k: pets[k] for k in ("key", "name", "icon", "color", "kind", "necessity", "parent_id")} == {
        "key": None,
        "name": "Pets",
        "icon": "🐾",
        "color": "#aabbcc",
        "kind": "expense",
        "necessity": 6,
        "parent_id": None,
    }
    vet = _create(api, t, name="Vet", parent_id=pets["id"])
    assert (vet["parent_id"], vet["kind"], vet["necessity"], vet["color"]) == (pets["id"], "expense", 5, "#888888")
    flat = _flat(_tree(api, t))
    assert [c["name"] for c in flat["Pets"]["children"]] == ["Vet"]

    # One level only: a subcategory cannot have subcategories.
    r = api.call("POST", "/api/categories", t, json={"name": "Cat food", "parent_id": vet["id"]})
    assert r.status_code == 422 and r.get_json()["error"]["details"][0]["loc"] == ["parent_id"]
    # A subcategory has its parent's kind.
    r = api.call("POST", "/api/categories", t, json={"name": "Sold kittens", "kind": "income", "parent_id": pets["id"]})
    assert r.status_code == 422 and r.get_json()["error"]["details"][0]["loc"] == ["kind"]
    # Same name under the same parent (any case) is a conflict; under another parent it is fine.
    r = api.call("POST", "/api/categories", t, json={"name": "VET", "parent_id": pets["id"]})
    assert (r.status_code, r.get_json()["error"]["code"]) == (409, "category_exists")
    _create(api, t, name="Vet")

    # A parent with children cannot become a child; its own child cannot be its parent either.
    r = api.call("PATCH", f"/api/categories/{pets['id']}", t, json={"parent_id": flat["Food"]["id"]})
    assert r.status_code == 422 and r.get_json()["error"]["details"][0]["loc"] == ["parent_id"]
    r = api.call("PATCH", f"/api/categories/{pets['id']}", t, json={"parent_id": pets["id"]})
    assert r.status_code == 422
    # Moving a child to another parent, then making it top-level.
    r = api.call("PATCH", f"/api/categories/{vet['id']}", t, json={"parent_id": flat["Health"]["id"], "necessity": 9})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["parent_id"], r.get_json()["necessity"]) == (flat["Health"]["id"], 9)
    r = api.call("PATCH", f"/api/categories/{vet['id']}", t, json={"parent_id": None, "name": "Vet bills"})
    assert (r.get_json()["parent_id"], r.get_json()["name"]) == (None, "Vet bills")
    # A parent's kind change carries to its subcategories.
    gigs = _create(api, t, name="Gigs")
    child = _create(api, t, name="Design", parent_id=gigs["id"])
    r = api.call("PATCH", f"/api/categories/{gigs['id']}", t, json={"kind": "income", "color": "#00ff00"})
    assert (r.get_json()["kind"], r.get_json()["color"]) == ("income", "#00ff00")
    assert _flat(_tree(api, t))["Design"]["kind"] == "income"
    r = api.call("PATCH", f"/api/categories/{child['id']}", t, json={"kind": "expense"})
    assert r.status_code == 422
    # Defaults can be renamed (their key stays).
    r = api.call("PATCH", f"/api/categories/{flat['Coffee']['id']}", t, json={"name": "Café"})
    assert (r.status_code, r.get_json()["key"], r.get_json()["name"]) == (200, "coffee", "Café")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "x", "color": "red"}, "color"),
        ({"name": "x", "color": "#12345g"}, "color"),
        ({"name": "x", "necessity": 0}, "necessity"),
        ({"name": "x", "necessity": 11}, "necessity"),
        ({"name": "x", "kind": "savings"}, "kind"),
        ({"name": "x", "icon": "i" * 17}, "icon"),
        ({"name": "x", "parent_id": 0}, "parent_id"),
        ({"name": "x", "parent_id": 999999}, "parent_id"),
        ({"name": "x", "surprise": 1}, "surprise"),
        ({"name": 5}, "name"),
    ],
)
def test_bad_category_input_is_a_422(api: Api, ctx: dict[str, Any], body: dict[str, Any], where: str) -> None:
    _tree(api, ctx["token"])
    r = api.call("POST", "/api/categories", ctx["token"], json=body)
    assert r.status_code == 422, r.get_json()
    assert where in str(r.get_json()["error"]["details"])
    assert _count(ctx["db"], Category) == 29


def _in_use(api: Api, ctx: dict[str, Any]) -> dict[str, Any]:
    """Pets (with Vet under it) used by 3 transactions (manual, rule, keyword), 2 rules and a budget."""
    t, db = ctx["token"], ctx["db"]
    pets = _create(api, t, name="Pets")
    vet = _create(api, t, name="Vet", parent_id=pets["id"])
    ids = seed(db, ctx["bank"], [(DAY, "-30", "Chewy"), (DAY, "-12", "Petco"), (DAY, "-7", "Pet bakery")])
    for tid, source in zip(ids, ("manual", "rule", "keyword"), strict=True):
        set_category(db, [tid], pets["id"], source)
    only = {
        "name": "chewy",
        "conditions": [{"field": "merchant", "op": "equals", "value": "chewy"}],
        "actions": [{"type": "set_category", "category_id": pets["id"]}],
    }
    more = {
        "name": "petco",
        "conditions": [{"field": "merchant", "op": "contains", "value": "petco"}],
        "actions": [{"type": "add_note", "text": "pets"}, {"type": "set_category", "category_id": pets["id"]}],
    }
    rules = [api.call("POST", "/api/rules", t, json=body).get_json()["id"] for body in (only, more)]
    with db.system_session() as s:
        budget = AlertRule(
            workspace_id=1, name="Pets", kind="budget", scope_category_id=pets["id"], period="month", params={}
        )
        budget.amount = Decimal("100")
        s.add(budget)
        s.flush()
        budget_id = budget.id
    return {"pets": pets, "vet": vet, "txns": ids, "rules": rules, "budget": budget_id}


def test_deleting_a_category_in_use_asks_where_things_go(api: Api, ctx: dict[str, Any]) -> None:
    used = _in_use(api, ctx)
    r = api.call("DELETE", f"/api/categories/{used['pets']['id']}", ctx["token"])
    assert r.status_code == 409, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "category_in_use"
    assert error["details"] == {"transactions": 3, "children": 1, "rules": 2, "budgets": 1}
    assert "Pets" in _flat(_tree(api, ctx["token"]))


def test_delete_with_move_to_moves_everything(api: Api, ctx: dict[str, Any]) -> None:
    t, db = ctx["token"], ctx["db"]
    used = _in_use(api, ctx)
    animals = _create(api, t, name="Animals")
    r = api.call("DELETE", f"/api/categories/{used['pets']['id']}?move_to={animals['id']}", t)
    assert r.status_code == 204, r.get_json()
    # Transactions moved, each keeping where its category came from.
    assert [(txn(db, i).category_id, txn(db, i).category_source) for i in used["txns"]] == [
        (animals["id"], "manual"),
        (animals["id"], "rule"),
        (animals["id"], "keyword"),
    ]
    rules = api.call("GET", "/api/rules", t).get_json()["items"]
    assert [a for r in rules for a in r["actions"] if a["type"] == "set_category"] == [
        {"type": "set_category", "category_id": animals["id"]}
    ] * 2
    flat = _flat(_tree(api, t))
    assert "Pets" not in flat
    assert flat["Vet"]["parent_id"] == animals["id"]
    assert flat["Animals"]["transaction_count"] == 3
    with db.system_session() as s:
        budget = s.get(AlertRule, used["budget"])
        assert budget is not None and budget.scope_category_id == animals["id"]


def test_delete_moving_to_its_own_subcategory_promotes_it(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    used = _in_use(api, ctx)
    groom = _create(api, t, name="Grooming", parent_id=used["pets"]["id"])
    r = api.call("DELETE", f"/api/categories/{used['pets']['id']}?move_to={used['vet']['id']}", t)
    assert r.status_code == 204, r.get_json()
    flat = _flat(_tree(api, t))
    assert (flat["Vet"]["parent_id"], flat["Vet"]["transaction_count"]) == (None, 3)
    assert flat["Grooming"]["parent_id"] == used["vet"]["id"] and groom["id"] == flat["Grooming"]["id"]


def test_delete_with_move_to_a_subcategory_elsewhere_uses_its_parent(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    used = _in_use(api, ctx)
    flat = _flat(_tree(api, t))
    r = api.call("DELETE", f"/api/categories/{used['pets']['id']}?move_to={flat['Pharmacy']['id']}", t)
    assert r.status_code == 204
    flat = _flat(_tree(api, t))
    # Nesting stays one level: Vet goes under Pharmacy's parent, Health.
    assert (flat["Vet"]["parent_id"], flat["Vet"]["kind"]) == (flat["Health"]["id"], "expense")
    assert flat["Pharmacy"]["transaction_count"] == 3


def test_delete_with_move_to_none_uncategorizes(api: Api, ctx: dict[str, Any]) -> None:
    t, db = ctx["token"], ctx["db"]
    used = _in_use(api, ctx)
    # Budgets need a category: "none" is refused while one uses it.
    r = api.call("DELETE", f"/api/categories/{used['pets']['id']}?move_to=none", t)
    assert (r.status_code, r.get_json()["error"]["code"]) == (409, "category_in_use")
    assert api.call("DELETE", f"/api/budgets/{used['budget']}", t).status_code == 204
    r = api.call("DELETE", f"/api/categories/{used['pets']['id']}?move_to=none", t)
    assert r.status_code == 204, r.get_json()
    # A person's choice stays theirs ("manual", now without a category); the others are plain uncategorized.
    assert [(txn(db, i).category_id, txn(db, i).category_source) for i in used["txns"]] == [
        (None, "manual"),
        (None, None),
        (None, None),
    ]
    flat = _flat(_tree(api, t))
    assert flat["Vet"]["parent_id"] is None
    # The rule that only set the category is gone; the other keeps its note.
    rules = api.call("GET", "/api/rules", t).get_json()["items"]
    assert [(r["id"], r["actions"], r["position"]) for r in rules] == [
        (used["rules"][1], [{"type": "add_note", "text": "pets"}], 0)
    ]


def test_delete_unused_and_refusals(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    flat = _flat(_tree(api, t))
    spare = _create(api, t, name="Spare")
    pets = _create(api, t, name="Pets")
    _create(api, t, name="Vet", parent_id=pets["id"])
    # Defaults cannot be deleted (ensure_defaults would bring them back).
    r = api.call("DELETE", f"/api/categories/{flat['Travel']['id']}", t)
    assert (r.status_code, r.get_json()["error"]["code"]) == (409, "default_category")
    for move_to in (str(pets["id"]), "999999", "abc", "0", "-1", "None", "9999999999", "1" * 12):
        r = api.call("DELETE", f"/api/categories/{pets['id']}?move_to={move_to}", t)
        assert r.status_code == 422, (move_to, r.get_json())
        assert r.get_json()["error"]["details"][0]["loc"][-1] == "move_to"
    assert api.call("DELETE", f"/api/categories/{spare['id']}", t).status_code == 204
    assert api.call("DELETE", f"/api/categories/{spare['id']}", t).status_code == 404
    assert api.call("PATCH", f"/api/categories/{spare['id']}", t, json={"name": "x"}).status_code == 404


def test_other_workspaces_categories_are_404_and_not_usable(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    other = other_workspace(ctx["db"])
    mine = _create(api, t, name="Mine")
    theirs = other["category"]
    assert api.call("PATCH", f"/api/categories/{theirs}", t, json={"name": "hijack"}).status_code == 404
    assert api.call("DELETE", f"/api/categories/{theirs}", t).status_code == 404
    r = api.call("POST", "/api/categories", t, json={"name": "x", "parent_id": theirs})
    assert r.status_code == 422
    r = api.call("PATCH", f"/api/categories/{mine['id']}", t, json={"parent_id": theirs})
    assert r.status_code == 422
    assert api.call("DELETE", f"/api/categories/{mine['id']}?move_to={theirs}", t).status_code == 422
    assert theirs not in {c["id"] for c in _flat(_tree(api, t)).values()}
    with ctx["db"].system_session() as s:
        category = s.get(Category, theirs)
        assert category is not None and category.name == "Theirs"


def test_viewers_read_but_do_not_write(api: Api, ctx: dict[str, Any]) -> None:
    t = ctx["token"]
    made = _create(api, t, name="Pets")
    viewer = add_viewer(api, t)
    assert api.call("GET", "/api/categories", viewer).status_code == 200
    assert api.call("POST", "/api/categories", viewer, json={"name": "x"}).status_code == 403
    assert api.call("PATCH", f"/api/categories/{made['id']}", viewer, json={"name": "x"}).status_code == 403
    assert api.call("DELETE", f"/api/categories/{made['id']}", viewer).status_code == 403
    assert "Pets" in _flat(_tree(api, t))
