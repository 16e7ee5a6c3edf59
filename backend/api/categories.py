"""/api/categories, /api/rules and /api/recurring: how transactions are categorized, and recurring charges."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response
from flask_openapi3 import APIBlueprint, Tag

from backend.api.context import current_actor, db, tenant_guard
from backend.api.responses import BEARER, COMMON_ERRORS, json_response, no_content
from backend.models import Category, TransactionRule
from backend.schemas import categories as schemas
from backend.services import category_admin, transaction_rules
from backend.services import recurring as recurring_service
from backend.services.category_admin import MoveTo
from backend.services.transaction_rules import money_text

ZERO = Decimal("0.00")

bp = APIBlueprint(
    "categories",
    __name__,
    url_prefix="/api",
    abp_responses=COMMON_ERRORS,
    abp_tags=[Tag(name="categories")],
    abp_security=BEARER,
)
bp.before_request(tenant_guard())


# --- /api/categories ---------------------------------------------------------------------------------------------


def _category_out(category: Category, counts: dict[int, int]) -> schemas.CategoryOut:
    return schemas.CategoryOut(
        id=category.id,
        key=category.key,
        name=category.name,
        icon=category.icon,
        color=category.color,
        kind=category.kind,
        necessity=category.necessity,
        parent_id=category.parent_id,
        transaction_count=counts.get(category.id, 0),
    )


def _one(category: Category) -> Response:
    counts = category_admin.transaction_counts(db(), category.workspace_id)
    return json_response(_category_out(category, counts))


@bp.get("/categories", responses={200: schemas.CategoryTree})
def list_categories() -> Response:
    """The workspace's categories as a tree (the default set is copied in on first use), with transaction counts."""
    session = db()
    workspace_id = current_actor().workspace_id
    category_admin.ensure_tree(session, workspace_id)
    counts = category_admin.transaction_counts(session, workspace_id)
    items = [
        schemas.CategoryNode(
            **_category_out(parent, counts).model_dump(), children=[_category_out(c, counts) for c in children]
        )
        for parent, children in category_admin.tree(category_admin.list_categories(session, workspace_id))
    ]
    return json_response(schemas.CategoryTree(items=items))


@bp.post("/categories", responses={201: schemas.CategoryOut})
def create_category(body: schemas.CategoryIn) -> Response:
    """Create a category; parent_id makes it a subcategory of a top-level category (one level of nesting)."""
    session = db()
    category = category_admin.create_category(session, current_actor().workspace_id, body.model_dump())
    session.commit()
    counts = category_admin.transaction_counts(session, category.workspace_id)
    return json_response(_category_out(category, counts), 201)


@bp.patch("/categories/<int:category_id>", responses={200: schemas.CategoryOut})
def update_category(path: schemas.CategoryPath, body: schemas.CategoryPatch) -> Response:
    """Change a category; parent_id null makes it top-level, and a category with subcategories stays top-level."""
    session = db()
    category = category_admin.get_category(session, current_actor().workspace_id, path.category_id)
    category_admin.update_category(session, category, body.model_dump(exclude_unset=True))
    session.commit()
    return _one(category)


@bp.delete("/categories/<int:category_id>", responses={204: None})
def delete_category(path: schemas.CategoryPath, query: schemas.CategoryDeleteQuery) -> Response:
    """Delete a category made in the workspace. In use (transactions, subcategories, rules, budgets) it needs
    move_to: another category's id, or `none`; without it the answer is 409 `category_in_use` with the counts."""
    session = db()
    category = category_admin.get_category(session, current_actor().workspace_id, path.category_id)
    move_to: MoveTo = None
    if query.move_to == "none":
        move_to = "none"
    elif query.move_to is not None:
        move_to = int(query.move_to)
    category_admin.delete_category(session, category, move_to)
    session.commit()
    return no_content()


# --- /api/rules --------------------------------------------------------------------------------------------------


def _rule_out(row: TransactionRule) -> schemas.RuleOut:
    definition = row.definition or {}
    return schemas.RuleOut(
        id=row.id,
        name=row.name,
        position=row.position,
        enabled=row.enabled,
        match="any" if definition.get("match") == "any" else "all",
        conditions=list(definition.get("conditions") or []),
        actions=list(definition.get("actions") or []),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _rule_list(rows: list[TransactionRule]) -> Response:
    return json_response(schemas.RuleList(items=[_rule_out(r) for r in rows]))


def _rule_data(body: schemas.RuleIn) -> dict[str, Any]:
    return body.model_dump()


@bp.get("/rules", responses={200: schemas.RuleList})
def list_rules() -> Response:
    """The workspace's categorization rules in the order they run (position)."""
    return _rule_list(transaction_rules.list_rules(db(), current_actor().workspace_id))


@bp.post("/rules", responses={201: schemas.RuleOut})
def create_rule(body: schemas.RuleIn) -> Response:
    """Create a rule; an invalid one is a 422 `invalid_rule` whose details give each problem's loc. It applies
    to transactions stored from now on; POST /api/rules/apply re-categorizes stored ones."""
    session = db()
    row = transaction_rules.create_rule(session, current_actor().workspace_id, _rule_data(body))
    session.commit()
    return json_response(_rule_out(row), 201)


@bp.post("/rules/test", responses={200: schemas.RuleTestOut})
def test_unsaved_rule(body: schemas.RuleTestIn) -> Response:
    """What an unsaved rule would change on the workspace's latest 1000 transactions (nothing is stored)."""
    session = db()
    workspace_id = current_actor().workspace_id
    rule = transaction_rules.validate(session, workspace_id, _rule_data(body))
    return json_response(schemas.RuleTestOut.model_validate(transaction_rules.try_rule(session, workspace_id, rule)))


@bp.post("/rules/reorder", responses={200: schemas.RuleList})
def reorder_rules(body: schemas.ReorderIn) -> Response:
    """Set the order: `ids` must be every rule id of the workspace, once each."""
    session = db()
    rows = transaction_rules.reorder(session, current_actor().workspace_id, body.ids)
    session.commit()
    return _rule_list(rows)


@bp.post("/rules/apply", responses={200: schemas.ApplyOut})
def apply_rules(body: schemas.ApplyIn) -> Response:
    """Re-categorize stored transactions (posted in from..to; only those rule_ids match, when given) with the
    rules, learned history, bank labels and keywords; categories a person chose are never overwritten."""
    session = db()
    scanned, changed = transaction_rules.apply(
        session, current_actor().workspace_id, rule_ids=body.rule_ids, start=body.from_, end=body.to
    )
    session.commit()
    return json_response(schemas.ApplyOut(scanned=scanned, changed=changed))


@bp.patch("/rules/<int:txn_rule_id>", responses={200: schemas.RuleOut})
def update_rule(path: schemas.RulePath, body: schemas.RulePatch) -> Response:
    """Change a rule; the result is validated as a whole (422 `invalid_rule`)."""
    session = db()
    row = transaction_rules.get_rule(session, current_actor().workspace_id, path.txn_rule_id)
    transaction_rules.update_rule(session, row, body.model_dump(exclude_unset=True))
    session.commit()
    return json_response(_rule_out(row))


@bp.delete("/rules/<int:txn_rule_id>", responses={204: None})
def delete_rule(path: schemas.RulePath) -> Response:
    """Delete a rule; transactions it categorized keep their category."""
    session = db()
    row = transaction_rules.get_rule(session, current_actor().workspace_id, path.txn_rule_id)
    transaction_rules.delete_rule(session, row)
    session.commit()
    return no_content()


@bp.post("/rules/<int:txn_rule_id>/test", responses={200: schemas.RuleTestOut})
def test_rule(path: schemas.RulePath) -> Response:
    """What this rule alone would change on the workspace's latest 1000 transactions (disabled rules too)."""
    session = db()
    workspace_id = current_actor().workspace_id
    rule = transaction_rules.stored_rule(transaction_rules.get_rule(session, workspace_id, path.txn_rule_id))
    return json_response(schemas.RuleTestOut.model_validate(transaction_rules.try_rule(session, workspace_id, rule)))


# --- /api/recurring ----------------------------------------------------------------------------------------------


@bp.get("/recurring", responses={200: schemas.StreamList})
def list_recurring() -> Response:
    """Recurring charges and income detected in the last 400 days (non-transfer, posted), per currency."""
    session = db()
    workspace_id = current_actor().workspace_id
    today = recurring_service.workspace_today(session, workspace_id)
    items = [
        schemas.StreamOut(
            merchant=f.stream.display_name,
            merchant_key=f.stream.merchant_key,
            currency=f.currency,
            cadence=f.stream.cadence,
            kind=f.stream.kind,
            status=f.stream.status,
            average_amount=money_text(f.stream.average_amount),
            amount_min=money_text(f.stream.amount_min),
            amount_max=money_text(f.stream.amount_max),
            last_date=f.stream.last_date,
            next_expected=f.stream.next_expected,
            anchor_day=f.stream.anchor_day,
            occurrences=f.stream.occurrences,
            category_id=f.stream.category_id,
            bank_account_id=f.bank_account_id,
            transaction_ids=f.stream.transaction_ids,
        )
        for f in recurring_service.find_streams(session, workspace_id, today)
    ]
    return json_response(schemas.StreamList(today=today, items=items))


@bp.get("/recurring/upcoming", responses={200: schemas.UpcomingOut})
def upcoming_recurring(query: schemas.UpcomingQuery) -> Response:
    """Expected charges and income of the active streams in the next `days` days (overdue ones included, with
    their own date), by date, with totals per currency."""
    session = db()
    workspace_id = current_actor().workspace_id
    today = recurring_service.workspace_today(session, workspace_id)
    found = recurring_service.find_streams(session, workspace_id, today)
    items: list[schemas.UpcomingItem] = []
    totals: dict[str, dict[str, Decimal]] = {}
    for f, day in recurring_service.upcoming(found, today, query.days):
        amount = f.stream.average_amount
        items.append(
            schemas.UpcomingItem(
                date=day,
                merchant=f.stream.display_name,
                merchant_key=f.stream.merchant_key,
                amount=money_text(amount),
                currency=f.currency,
                cadence=f.stream.cadence,
                kind=f.stream.kind,
                category_id=f.stream.category_id,
            )
        )
        total = totals.setdefault(f.currency, {"expenses": ZERO, "income": ZERO})
        total["expenses" if f.stream.kind == "expense" else "income"] += amount
    summary = [
        schemas.UpcomingTotal(
            currency=currency,
            expenses=money_text(t["expenses"]),
            income=money_text(t["income"]),
            net=money_text(t["expenses"] + t["income"]),
        )
        for currency, t in sorted(totals.items())
    ]
    return json_response(schemas.UpcomingOut(today=today, days=query.days, items=items, totals=summary))
