"""A refused scope of an alert rule or a budget says which field is wrong: `details` is a list of
{"loc", "msg", "type"} like every validation error, `loc` pointing at the field, so the web app shows it there.
Nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from backend.models import AlertRule, BankAccount, Category, ProviderAccount, Workspace
from backend.services.categories import ensure_defaults
from tests.conftest import Api


@pytest.fixture
def ctx(app: Any, owner: dict[str, Any]) -> dict[str, Any]:
    """Workspace 1 (the owner's) with a demo and a manual account; workspace 2 with an account, a category and a
    bank account of its own."""
    db = app.extensions["spendwatch"].db
    with db.system_session() as s:
        demo = ProviderAccount(workspace_id=1, kind="demo", name="Demo", credentials={"api_key": "demo-x"}, config={})
        manual = ProviderAccount(workspace_id=1, kind="manual", name="Manual", credentials={}, config={})
        other = Workspace(name="Other")
        s.add_all([demo, manual, other])
        s.flush()
        theirs = ProviderAccount(workspace_id=other.id, kind="demo", name="Theirs", credentials={}, config={})
        their_bank = BankAccount(workspace_id=other.id, name="Their card", currency="USD")
        their_category = Category(workspace_id=other.id, key="theirs", name="Theirs")
        s.add_all([theirs, their_bank, their_category])
        s.flush()
        food = ensure_defaults(s, 1)["food"]
        ids = {
            "demo": demo.id,
            "manual": manual.id,
            "their_account": theirs.id,
            "their_bank": their_bank.id,
            "their_category": their_category.id,
            "food": food,
        }
    return {"db": db, "token": owner["access_token"], **ids}


def _rules(ctx: dict[str, Any]) -> int:
    with ctx["db"].system_session() as s:
        return int(s.scalar(select(func.count()).select_from(AlertRule)) or 0)


def _ids(ctx: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """SCOPE with "@name" values replaced by the id of that fixture row."""
    return {k: ctx[v[1:]] if isinstance(v, str) and v.startswith("@") else v for k, v in scope.items()}


def _refused(api: Api, ctx: dict[str, Any], method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.call(method, path, ctx["token"], json=body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["message"]
    assert isinstance(error["details"], list) and error["details"]
    for detail in error["details"]:
        assert set(detail) == {"loc", "msg", "type"} and detail["msg"] and detail["type"]
    return dict(error)


@pytest.mark.parametrize(
    ("kind", "scope", "loc", "type_"),
    [
        ("anomaly", {"provider": "nope"}, ["scope", "provider"], "unknown_provider"),
        ("anomaly", {"account_id": "@their_account"}, ["scope", "account_id"], "unknown_account"),
        ("anomaly", {"account_id": 999999}, ["scope", "account_id"], "unknown_account"),
        ("anomaly", {"account_id": "@demo", "provider": "openai"}, ["scope", "account_id"], "provider_mismatch"),
        ("sync_health", {"model": "gpt-x"}, ["scope", "model"], "scope_not_allowed"),
        ("sync_health", {"project": "p"}, ["scope", "project"], "scope_not_allowed"),
        ("sync_health", {"provider": "manual"}, ["scope", "provider"], "not_syncable"),
        ("sync_health", {"account_id": "@manual"}, ["scope", "account_id"], "not_syncable"),
    ],
)
def test_alert_rule_scope_errors_point_at_the_field(
    api: Api, ctx: dict[str, Any], kind: str, scope: dict[str, Any], loc: list[str], type_: str
) -> None:
    scope = _ids(ctx, scope)
    error = _refused(api, ctx, "POST", "/api/alert-rules", {"name": "x", "kind": kind, "scope": scope})
    assert error["code"] == "bad_scope"
    assert [(d["loc"], d["type"]) for d in error["details"]] == [(loc, type_)]
    assert _rules(ctx) == 0


def test_an_unknown_provider_lists_the_known_ones(api: Api, ctx: dict[str, Any]) -> None:
    body = {"name": "x", "kind": "anomaly", "scope": {"provider": "nope"}}
    [detail] = _refused(api, ctx, "POST", "/api/alert-rules", body)["details"]
    assert "openai" in detail["msg"] and "anthropic" in detail["msg"]


def test_a_rule_patch_is_refused_the_same_way_and_changes_nothing(api: Api, ctx: dict[str, Any]) -> None:
    made = api.call("POST", "/api/alert-rules", ctx["token"], json={"name": "x", "kind": "sync_health"}).get_json()
    body = {"scope": {"account_id": ctx["their_account"]}}
    error = _refused(api, ctx, "PATCH", f"/api/alert-rules/{made['id']}", body)
    assert error["details"][0]["loc"] == ["scope", "account_id"]
    shown = api.call("GET", f"/api/alert-rules/{made['id']}", ctx["token"]).get_json()
    assert shown["scope"]["account_id"] is None


@pytest.mark.parametrize(
    ("scope", "locs"),
    [
        ({"account_id": "@their_account"}, [["scope", "account_id"]]),
        ({"category_id": "@their_category"}, [["scope", "category_id"]]),
        ({"bank_account_id": "@their_bank"}, [["scope", "bank_account_id"]]),
        ({"category_id": "@food", "provider": "openai"}, [["scope", "category_id"]]),
        (
            {"category_id": "@food", "bank_account_id": 5, "model": "gpt-x"},
            [["scope", "category_id"], ["scope", "bank_account_id"]],
        ),
    ],
)
def test_budget_scope_errors_point_at_the_field(
    api: Api, ctx: dict[str, Any], scope: dict[str, Any], locs: list[list[str]]
) -> None:
    scope = _ids(ctx, scope)
    error = _refused(api, ctx, "POST", "/api/budgets", {"name": "x", "amount": "10", "scope": scope})
    assert [d["loc"] for d in error["details"]] == locs
    assert _rules(ctx) == 0
    made = api.call("POST", "/api/budgets", ctx["token"], json={"name": "y", "amount": "10"}).get_json()
    error = _refused(api, ctx, "PATCH", f"/api/budgets/{made['id']}", {"scope": scope})
    assert [d["loc"] for d in error["details"]] == locs
    assert api.call("GET", f"/api/budgets/{made['id']}", ctx["token"]).get_json()["scope"]["category_id"] is None


def test_can_i_afford_points_at_its_own_top_level_fields(api: Api, ctx: dict[str, Any]) -> None:
    body = {"category_id": ctx["their_category"], "bank_account_id": ctx["their_bank"], "amount": "5"}
    error = _refused(api, ctx, "POST", "/api/budgets/check", body)
    assert error["details"][0]["loc"] == ["category_id"]
