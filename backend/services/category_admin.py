"""Managing a workspace's categories: the tree, create, change, and delete with somewhere for what used them.

Decisions (also in docs/money.md, "API"):
- Nesting is one level: a parent must be a top-level category, and a category with subcategories cannot become a
  subcategory. A subcategory has its parent's kind; changing a parent's kind changes its subcategories' too.
- Default categories (those with a `key`) cannot be deleted: `ensure_defaults` would copy them in again at the
  next sync or import. They can be renamed, recoloured and moved.
- Deleting a category that transactions, subcategories, rules or budgets use needs `move_to`: another category (its
  transactions keep their category_source, rules and budgets point at the target, subcategories go under the
  target's top-level category), or "none" (transactions uncategorized, subcategories become top-level,
  set_category actions dropped and rules left without actions deleted; refused while budgets use it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import Conflict, Invalid, NotFound
from backend.models import AlertRule, Category, Transaction, TransactionRule
from backend.services import alert_marks, transaction_rules
from backend.services.categories import ensure_defaults
from backend.services.transaction_rules import MAX_ID

MoveTo = int | Literal["none"] | None


def _invalid(field: str, message: str, code: str = "invalid_category") -> Invalid:
    return Invalid(message, code=code, details=[{"loc": [field], "msg": message, "type": code}])


@dataclass(frozen=True)
class Usage:
    """What uses a category: what deleting it must put somewhere."""

    transactions: int = 0
    children: int = 0
    rules: int = 0
    budgets: int = 0

    def any(self) -> bool:
        return any(asdict(self).values())


def ensure_tree(session: Session, workspace_id: int) -> None:
    """Copy the default categories in on first use and commit; a concurrent first use that won is fine."""
    try:
        ensure_defaults(session, workspace_id)
        session.commit()
    except IntegrityError:
        # Another request created them first (unique workspace_id + key): theirs are as good as ours.
        session.rollback()


def list_categories(session: Session, workspace_id: int) -> list[Category]:
    """The workspace's categories, by name (then id)."""
    stmt = select(Category).where(Category.workspace_id == workspace_id).order_by(Category.name, Category.id)
    return list(session.scalars(stmt))


def transaction_counts(session: Session, workspace_id: int) -> dict[int, int]:
    """Transactions per category id (uncategorized ones left out)."""
    rows = session.execute(
        select(Transaction.category_id, func.count())
        .where(Transaction.workspace_id == workspace_id, Transaction.category_id.is_not(None))
        .group_by(Transaction.category_id)
    )
    return {int(cid): int(n) for cid, n in rows if cid is not None}


def get_category(session: Session, workspace_id: int, category_id: int) -> Category:
    """One category of the workspace, or 404 (also for another workspace's)."""
    category = session.scalar(select(Category).where(Category.id == category_id, Category.workspace_id == workspace_id))
    if category is None:
        raise NotFound("No such category in this workspace.")
    return category


def _children(session: Session, category: Category) -> list[Category]:
    stmt = select(Category).where(Category.workspace_id == category.workspace_id, Category.parent_id == category.id)
    return list(session.scalars(stmt.order_by(Category.id)))


def _parent(session: Session, workspace_id: int, parent_id: int, own_id: int | None = None) -> Category:
    """PARENT_ID as a parent: a top-level category of the workspace other than the category itself; else 422."""
    parent = session.scalar(select(Category).where(Category.id == parent_id, Category.workspace_id == workspace_id))
    if parent is None:
        raise _invalid("parent_id", "parent_id is not a category of this workspace.")
    if parent.id == own_id:
        raise _invalid("parent_id", "A category cannot be its own parent.")
    if parent.parent_id is not None:
        raise _invalid("parent_id", "Categories nest one level only: the parent must be a top-level category.")
    return parent


def _check_name(session: Session, workspace_id: int, name: str, parent_id: int | None, own_id: int | None) -> None:
    """409 when a sibling (same parent) already has this name, ignoring case."""
    stmt = select(Category.id, Category.name).where(Category.workspace_id == workspace_id)
    stmt = stmt.where(Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id)
    for cid, other in session.execute(stmt):
        if cid != own_id and other.casefold() == name.casefold():
            raise Conflict(f"There is already a category named \u201c{other}\u201d here.", code="category_exists")


def create_category(session: Session, workspace_id: int, data: dict[str, Any]) -> Category:
    """Create a category (a subcategory when parent_id is given), checked before anything is stored."""
    parent = None if data.get("parent_id") is None else _parent(session, workspace_id, data["parent_id"])
    kind = data.get("kind") or (parent.kind if parent else "expense")
    if parent is not None and kind != parent.kind:
        raise _invalid("kind", f"A subcategory has its parent's kind ({parent.kind}).")
    _check_name(session, workspace_id, data["name"], parent.id if parent else None, None)
    category = Category(
        workspace_id=workspace_id,
        key=None,
        name=data["name"],
        icon=data.get("icon") or "",
        color=data.get("color") or "#888888",
        kind=kind,
        necessity=data.get("necessity") or 5,
        parent_id=parent.id if parent else None,
    )
    session.add(category)
    session.flush()
    return category


def update_category(session: Session, category: Category, changes: dict[str, Any]) -> Category:
    """Apply CHANGES (only the fields given; parent_id null = top-level), keeping nesting to one level."""
    workspace_id = category.workspace_id
    children = _children(session, category)
    parent_id = category.parent_id
    if "parent_id" in changes:
        parent_id = changes["parent_id"]
        if parent_id is not None:
            _parent(session, workspace_id, parent_id, own_id=category.id)
            if children:
                raise _invalid(
                    "parent_id", "This category has subcategories, so it cannot become a subcategory itself."
                )
    parent = None if parent_id is None else session.get(Category, parent_id)
    kind = changes.get("kind") or category.kind
    if parent is not None:
        if changes.get("kind") is not None and changes["kind"] != parent.kind:
            raise _invalid("kind", f"A subcategory has its parent's kind ({parent.kind}).")
        kind = parent.kind
    name = changes.get("name") or category.name
    if name != category.name or parent_id != category.parent_id:
        _check_name(session, workspace_id, name, parent_id, category.id)
    for field in ("icon", "color", "necessity"):
        if changes.get(field) is not None:
            setattr(category, field, changes[field])
    category.name, category.parent_id, category.kind = name, parent_id, kind
    for child in children:  # the invariant: subcategories have their parent's kind
        child.kind = kind
    session.flush()
    return category


def _rules_using(session: Session, category: Category) -> list[TransactionRule]:
    rules = session.scalars(select(TransactionRule).where(TransactionRule.workspace_id == category.workspace_id)).all()
    return [r for r in rules if any(_sets(a, category.id) for a in (r.definition or {}).get("actions") or [])]


def _sets(action: object, category_id: int) -> bool:
    return (
        isinstance(action, dict) and action.get("type") == "set_category" and action.get("category_id") == category_id
    )


def usage(session: Session, category: Category) -> Usage:
    """How many transactions, subcategories, categorization rules and budgets use CATEGORY."""
    ws = category.workspace_id

    def count(model: Any, column: Any) -> int:
        stmt = select(func.count()).select_from(model).where(model.workspace_id == ws, column == category.id)
        return int(session.scalar(stmt) or 0)

    return Usage(
        transactions=count(Transaction, Transaction.category_id),
        children=count(Category, Category.parent_id),
        rules=len(_rules_using(session, category)),
        budgets=count(AlertRule, AlertRule.scope_category_id),
    )


def delete_category(session: Session, category: Category, move_to: MoveTo) -> None:
    """Delete CATEGORY, first moving what uses it to MOVE_TO (see the module docstring); 409 when in use and no
    MOVE_TO, 422 for a MOVE_TO that is not another category of the workspace."""
    if category.key is not None:
        raise Conflict(
            "Default categories cannot be deleted (they would come back at the next sync); rename or recolour it.",
            code="default_category",
        )
    used = usage(session, category)
    if move_to is None:
        if used.any():
            raise Conflict(
                "This category is in use: say where its transactions, subcategories, rules and budgets go (move_to).",
                code="category_in_use",
                details=asdict(used),
            )
    elif move_to == "none":
        if used.budgets:
            raise Conflict(
                "Budgets use this category: move them to another category (move_to=<id>) or delete them first.",
                code="category_in_use",
                details=asdict(used),
            )
        _uncategorize(session, category)
    else:
        _move(session, category, _target(session, category, move_to))
    if used.transactions:
        alert_marks.mark(session, [category.workspace_id])  # budgets' spend per category changed
    session.delete(category)
    session.flush()


def _target(session: Session, category: Category, move_to: int) -> Category:
    target = (
        session.scalar(select(Category).where(Category.id == move_to, Category.workspace_id == category.workspace_id))
        if move_to <= MAX_ID  # larger ids exist nowhere, and the database would refuse to compare them
        else None
    )
    if target is None:
        raise _invalid("move_to", "move_to is not a category of this workspace.")
    if target.id == category.id:
        raise _invalid("move_to", "move_to must be another category than the one deleted.")
    return target


def _move(session: Session, category: Category, target: Category) -> None:
    ws, old = category.workspace_id, category.id
    if target.parent_id == old:
        target.parent_id = None  # the target was a subcategory of the deleted one: it takes its place at the top
    new_parent = target.id if target.parent_id is None else target.parent_id
    for child in _children(session, category):
        if child.id != target.id:
            # The target's kind is its parent's (subcategories share it), so the moved ones take it too.
            child.parent_id, child.kind = new_parent, target.kind
    # category_source stays what it was: a person's choice is still a person's choice, a rule's still a rule's.
    session.execute(
        update(Transaction)
        .where(Transaction.workspace_id == ws, Transaction.category_id == old)
        .values(category_id=target.id)
        .execution_options(synchronize_session=False)
    )
    for rule in _rules_using(session, category):
        rule.definition = _rewrite(rule.definition, old, target.id)
    session.execute(
        update(AlertRule)
        .where(AlertRule.workspace_id == ws, AlertRule.scope_category_id == old)
        .values(scope_category_id=target.id)
        .execution_options(synchronize_session=False)
    )
    session.flush()


def _uncategorize(session: Session, category: Category) -> None:
    ws, old = category.workspace_id, category.id
    for child in _children(session, category):
        child.parent_id = None
    # "manual" stays: the person's explicit "no category" is not re-guessed by /api/rules/apply.
    session.execute(
        update(Transaction)
        .where(Transaction.workspace_id == ws, Transaction.category_id == old)
        .values(
            category_id=None,
            category_source=case((Transaction.category_source == "manual", "manual"), else_=None),
            category_confidence=None,
            category_rule_id=None,
        )
        .execution_options(synchronize_session=False)
    )
    for rule in _rules_using(session, category):
        definition = _rewrite(rule.definition, old, None)
        if definition["actions"]:
            rule.definition = definition
        else:
            session.delete(rule)  # it did nothing else: a rule without actions cannot exist
    session.flush()
    transaction_rules.renumber(session, ws)


def _rewrite(definition: dict[str, Any], old: int, new: int | None) -> dict[str, Any]:
    """DEFINITION with set_category OLD pointing at NEW (None: the action removed). A new dict: JSON columns
    only notice reassignment."""
    actions: list[Any] = []
    for action in definition.get("actions") or []:
        if _sets(action, old):
            if new is not None:
                actions.append({**action, "category_id": new})
        else:
            actions.append(action)
    return {**definition, "actions": actions}


def tree(categories: Sequence[Category]) -> list[tuple[Category, list[Category]]]:
    """CATEGORIES as (top-level, its subcategories) pairs, in the given order."""
    children: dict[int, list[Category]] = {}
    for c in categories:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    return [(c, children.get(c.id, [])) for c in categories if c.parent_id is None]
