"""A workspace's categorization rules: validation (backend.money.rules plus the workspace's own ids), CRUD, order,
trying a rule on the latest transactions, and re-running the categorizer on stored ones.

A stored rule's `definition` is {"match", "conditions", "actions"} as `rule_to_dict` writes them (normalized);
name, enabled and position are columns. `money_ingest.load_rules` parses {**definition, "id", "position"}.
Positions are kept dense (0..n-1) after every write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import Invalid, NotFound
from backend.models import BankAccount, Category, Transaction, TransactionRule
from backend.money.rules import Rule, RuleError, matches, parse_rule, preview, rule_to_dict
from backend.money.txn import Txn
from backend.services import alert_marks, money_ingest

# "Test this rule" looks at this many of the workspace's latest transactions (by posted date).
TEST_SCAN = 1000
# Apply re-categorizes in chunks: categorize() reads the rules and the learned history once per chunk.
APPLY_CHUNK = 1000
DEFINITION_KEYS = ("match", "conditions", "actions")
MAX_ID = 2**31 - 1  # ids are 32-bit integer columns on every backend


def _loc(dotted: str) -> list[str | int]:
    """ "conditions.0.value" → ["conditions", 0, "value"]; "" (the rule itself) → []."""
    return [int(part) if part.isascii() and part.isdigit() else part for part in dotted.split(".")] if dotted else []


def _rule_invalid(problems: list[tuple[str, str]]) -> Invalid:
    details = [{"loc": _loc(loc), "msg": msg, "type": "invalid_rule"} for loc, msg in problems]
    first = f"{problems[0][0]}: {problems[0][1]}" if problems[0][0] else problems[0][1]
    return Invalid(f"The rule is not valid ({first}).", code="invalid_rule", details=details)


def _parse(data: dict[str, Any]) -> Rule:
    try:
        return parse_rule(data)
    except RuleError as exc:
        raise _rule_invalid([(exc.loc, exc.message)]) from None


def _storable(ids: Iterable[int]) -> list[int]:
    """The ids a 32-bit id column can hold: a larger one is unknown, and must not reach the database (an error)."""
    return sorted({i for i in ids if i <= MAX_ID})


def validate(session: Session, workspace_id: int, data: dict[str, Any]) -> Rule:
    """DATA (rule JSON: match, conditions, actions, enabled, position) as a Rule; 422 `invalid_rule` with each
    problem's loc, including category and bank account ids that are not the workspace's."""
    rule = _parse({k: v for k, v in data.items() if k in (*DEFINITION_KEYS, "enabled", "position") and v is not None})
    normalized = rule_to_dict(rule)
    problems: list[tuple[str, str]] = []
    wanted = {i: a["category_id"] for i, a in enumerate(normalized["actions"]) if a["type"] == "set_category"}
    if wanted:
        found = set(
            session.scalars(
                select(Category.id).where(
                    Category.workspace_id == workspace_id, Category.id.in_(_storable(wanted.values()))
                )
            )
        )
        # Another workspace's category reads exactly like one that never existed.
        problems += [
            (f"actions.{i}.category_id", "not a category of this workspace")
            for i, cid in wanted.items()
            if cid not in found
        ]
    accounts = {i: c["value"] for i, c in enumerate(normalized["conditions"]) if c["field"] == "account"}
    if accounts:
        ids = {a for values in accounts.values() for a in values}
        found = set(
            session.scalars(
                select(BankAccount.id).where(
                    BankAccount.workspace_id == workspace_id, BankAccount.id.in_(_storable(ids))
                )
            )
        )
        problems += [
            (f"conditions.{i}.value", f"not bank accounts of this workspace: {sorted(set(values) - found)}")
            for i, values in accounts.items()
            if set(values) - found
        ]
    if problems:
        raise _rule_invalid(problems)
    return rule


def definition_of(rule: Rule) -> dict[str, Any]:
    """What is stored in TransactionRule.definition."""
    normalized = rule_to_dict(rule)
    return {key: normalized[key] for key in DEFINITION_KEYS}


def list_rules(session: Session, workspace_id: int) -> list[TransactionRule]:
    """The workspace's rules in the order they run."""
    stmt = select(TransactionRule).where(TransactionRule.workspace_id == workspace_id)
    return list(session.scalars(stmt.order_by(TransactionRule.position, TransactionRule.id)))


def get_rule(session: Session, workspace_id: int, rule_id: int) -> TransactionRule:
    """One rule of the workspace, or 404 (also for another workspace's)."""
    row = session.scalar(
        select(TransactionRule).where(TransactionRule.id == rule_id, TransactionRule.workspace_id == workspace_id)
    )
    if row is None:
        raise NotFound("No such rule in this workspace.")
    return row


def _place(session: Session, workspace_id: int, row: TransactionRule, position: int | None) -> None:
    """Put ROW at POSITION (None: last; past the end: last) and renumber the workspace's rules 0..n-1."""
    others = [r for r in list_rules(session, workspace_id) if r.id != row.id]
    index = len(others) if position is None else min(position, len(others))
    others.insert(index, row)
    for i, r in enumerate(others):
        if r.position != i:
            r.position = i


def create_rule(session: Session, workspace_id: int, data: dict[str, Any]) -> TransactionRule:
    """Validate and store a rule (nothing stored on a 422)."""
    rule = validate(session, workspace_id, {**data, "position": 0})
    row = TransactionRule(
        workspace_id=workspace_id,
        name=data["name"],
        enabled=rule.enabled,
        position=0,
        definition=definition_of(rule),
    )
    session.add(row)
    session.flush()
    _place(session, workspace_id, row, data.get("position"))
    session.flush()
    return row


def update_rule(session: Session, row: TransactionRule, changes: dict[str, Any]) -> TransactionRule:
    """Apply CHANGES (fields given only), re-validating the whole rule."""
    merged = {**(row.definition or {}), "enabled": row.enabled}
    merged.update({k: v for k, v in changes.items() if k in (*DEFINITION_KEYS, "enabled") and v is not None})
    rule = validate(session, row.workspace_id, merged)
    if changes.get("name") is not None:
        row.name = changes["name"]
    row.enabled = rule.enabled
    definition = definition_of(rule)
    if definition != row.definition:
        row.definition = definition
    if changes.get("position") is not None:
        _place(session, row.workspace_id, row, changes["position"])
    session.flush()
    return row


def delete_rule(session: Session, row: TransactionRule) -> None:
    """Delete a rule (transactions it categorized keep their category) and close the gap in the order."""
    workspace_id = row.workspace_id
    session.delete(row)
    session.flush()
    renumber(session, workspace_id)


def renumber(session: Session, workspace_id: int) -> None:
    """Positions 0..n-1 in the current order (after a deletion)."""
    for i, r in enumerate(list_rules(session, workspace_id)):
        if r.position != i:
            r.position = i
    session.flush()


def reorder(session: Session, workspace_id: int, ids: Sequence[int]) -> list[TransactionRule]:
    """Positions 0..n-1 in the order of IDS, which must be exactly the workspace's rule ids (else 422)."""
    rows = {r.id: r for r in list_rules(session, workspace_id)}
    if len(ids) != len(set(ids)) or set(ids) != set(rows):
        missing, unknown = sorted(set(rows) - set(ids)), sorted(set(ids) - set(rows))
        message = "ids must list every rule of this workspace exactly once"
        raise Invalid(
            f"{message}.",
            code="invalid_order",
            details=[
                {"loc": ["ids"], "msg": f"{message} (missing {missing}, unknown {unknown})", "type": "invalid_order"}
            ],
        )
    for i, rule_id in enumerate(ids):
        rows[rule_id].position = i
    session.flush()
    return list_rules(session, workspace_id)


def stored_rule(row: TransactionRule) -> Rule:
    """ROW as a Rule (422 if its stored definition no longer parses)."""
    return _parse({**(row.definition or {}), "id": row.id, "position": row.position, "enabled": row.enabled})


def _as_txn(row: Transaction) -> Txn:
    return Txn(
        id=row.id,
        account_id=row.bank_account_id,
        posted_on=row.posted_on,
        amount=row.amount,
        description=row.description,
        merchant=row.merchant,
        category_id=row.category_id,
        is_transfer=row.is_transfer,
        pending=row.pending,
    )


def try_rule(session: Session, workspace_id: int, rule: Rule) -> dict[str, Any]:
    """What RULE alone would change on the workspace's latest TEST_SCAN transactions (newest first)."""
    rows = session.scalars(
        select(Transaction)
        .where(Transaction.workspace_id == workspace_id)
        .order_by(Transaction.posted_on.desc(), Transaction.id.desc())
        .limit(TEST_SCAN)
    ).all()
    by_id = {r.id: r for r in rows}
    txns = [_as_txn(r) for r in rows]
    changes = []
    for change in preview(rule, txns):
        row = by_id[change.txn_id]
        changes.append(
            {
                "transaction_id": row.id,
                "posted_on": row.posted_on,
                "amount": money_text(row.amount),
                "currency": row.currency,
                "description": row.description,
                "merchant": row.merchant,
                "field": change.field,
                "before": change.before,
                "after": change.after,
                "manual": row.category_source == "manual",
            }
        )
    return {"scanned": len(rows), "matched": sum(matches(rule, t) for t in txns), "changes": changes}


def money_text(value: Decimal) -> str:
    """An amount for JSON: two decimals, more only when there is a fraction of a cent."""
    cents = value.quantize(Decimal("0.01"))
    return str(cents if cents == value else value.normalize())


def _snapshot(row: Transaction) -> tuple[Any, ...]:
    return row.category_id, row.merchant, row.notes, row.is_transfer


def apply(
    session: Session,
    workspace_id: int,
    *,
    rule_ids: Sequence[int] | None,
    start: dt.date | None,
    end: dt.date | None,
) -> tuple[int, int]:
    """Re-run the categorizer on the workspace's transactions posted in [START, END] (open ends allowed) — only
    those RULE_IDS match when given — leaving the ones a person categorized alone. Returns (scanned, changed)."""
    only: list[Rule] | None = None
    if rule_ids is not None:
        rows = {r.id: r for r in list_rules(session, workspace_id)}
        unknown = sorted(set(rule_ids) - set(rows))
        if unknown:
            raise Invalid(
                "Some rule ids are not rules of this workspace.",
                code="unknown_rule",
                details=[{"loc": ["rule_ids"], "msg": f"unknown rule ids: {unknown}", "type": "unknown_rule"}],
            )
        only = [stored_rule(rows[i]) for i in sorted(set(rule_ids))]
    stmt = select(Transaction.id).where(
        Transaction.workspace_id == workspace_id,
        Transaction.category_source.is_(None) | (Transaction.category_source != "manual"),
    )
    if start is not None:
        stmt = stmt.where(Transaction.posted_on >= start)
    if end is not None:
        stmt = stmt.where(Transaction.posted_on <= end)
    ids = list(session.scalars(stmt.order_by(Transaction.posted_on, Transaction.id)))
    scanned = changed = 0
    for offset in range(0, len(ids), APPLY_CHUNK):
        chunk = session.scalars(
            select(Transaction)
            .where(Transaction.workspace_id == workspace_id, Transaction.id.in_(ids[offset : offset + APPLY_CHUNK]))
            .order_by(Transaction.posted_on, Transaction.id)
        ).all()
        if only is not None:
            chunk = [r for r in chunk if any(matches(rule, _as_txn(r)) for rule in only)]
        before = {r.id: _snapshot(r) for r in chunk}
        money_ingest.categorize(session, workspace_id, chunk, keep_sources=("manual",))
        scanned += len(chunk)
        changed += sum(_snapshot(r) != before[r.id] for r in chunk)
        session.flush()
    if changed:
        alert_marks.mark(session, [workspace_id])  # spend per category changed: budgets re-evaluate
    return scanned, changed
