"""RuleSet, the compiled rule engine categorize() uses: the same Outcome as the naive apply_rules, whatever the rules
and transactions (randomized with hypothesis), including the corners of text matching its indexes shortcut. And
store()'s bulk path (categorizing column values, bulk insert) against its one-statement path and categorize()."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from backend.models import BankAccount, Transaction, TransactionRule, Workspace
from backend.money import rules as rules_module
from backend.money.rules import (
    AccountCondition,
    Action,
    AddNote,
    AmountCondition,
    Condition,
    DirectionCondition,
    MarkTransfer,
    RenameMerchant,
    Rule,
    RuleSet,
    SetCategory,
    TextCondition,
    apply_rules,
    parse_rule,
)
from backend.money.txn import Txn
from backend.services import money_ingest
from backend.services.categories import ensure_defaults
from backend.services.money_ingest import NewTransaction

DAY = date(2025, 3, 14)

# Words of bank texts and of rules, with the corners: processor prefixes, store and phone numbers the merchant key
# drops, runs of spaces, case, and letters IGNORECASE folds onto ASCII ones (long s, dotless i, Kelvin sign).
WORDS = (
    "netflix", "NETFLIX.COM", "Netflix", "pos", "POS", "purchase", "sq", "SQ *", "*", "tst*", "pp*", "paypal *",
    "#1234", "# 12", "866-579-7172", "01/15/24", "ref123456789", "starbucks", "STARBUCKS", "star", "bucks", "uber",
    "eats", "UBER *EATS", "amzn", "mktp", "coffee", "cafe", "café", "a", "ab", "abc", "x", "-", ".com", "7-eleven",
    "\u017ftarbucks", "\u0131bm", "IBM", "\u212aroger", "kroger", "strasse", "straße", "  ", "\t",
)  # fmt: skip
REGEXES = (
    r"netflix", r"\bstar\s*bucks\b", r"^pos\s", r"uber|lyft", r"(?:sq|tst)\s*\*", r"a{2,}", r"[a-z]+\d",
    r"(?-i:NETFLIX)", r"coff?ee", r"(ab)+c", r"\d{4}", r"x?", r"kroger$", r"ibm", r"s", r"^$", r"caf.",
    r"(?:pos|sq)(?: purchase)? star", r"(?=star)starbucks", r"\bk\w+",
)  # fmt: skip
AMOUNTS = tuple(Decimal(a) for a in ("-100", "-20.00", "-19.99", "-5", "-0.01", "0", "0.01", "5", "20", "250.5"))

texts = st.lists(st.sampled_from(WORDS), max_size=5).map(" ".join) | st.text(
    alphabet="abcNPSs\u017f\u0131\u212a *#.-1 ", max_size=12
)
text_conditions = st.builds(
    TextCondition,
    field=st.sampled_from(("description", "merchant")),
    op=st.sampled_from(("contains", "equals", "starts_with")),
    value=texts,
) | st.builds(
    TextCondition,
    field=st.sampled_from(("description", "merchant")),
    op=st.just("regex"),
    value=st.sampled_from(REGEXES),
)
conditions: st.SearchStrategy[Condition] = st.one_of(
    text_conditions,
    text_conditions,
    st.builds(AmountCondition, min=st.none() | st.sampled_from(AMOUNTS), max=st.none() | st.sampled_from(AMOUNTS)),
    st.builds(AccountCondition, account_ids=st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple)),
    st.builds(DirectionCondition, direction=st.sampled_from(("in", "out"))),
)
actions: st.SearchStrategy[Action] = st.one_of(
    st.builds(SetCategory, category_id=st.integers(1, 5)),
    st.builds(RenameMerchant, name=st.sampled_from(("Netflix", "Starbucks", "Uber"))),
    st.just(MarkTransfer()),
    st.builds(AddNote, text=st.sampled_from(("note a", "note b", "note c"))),
)
rule_lists = st.lists(
    st.builds(
        Rule,
        id=st.none() | st.integers(1, 8),  # repeated ids and unsaved rules: the (position, id) order's ties
        position=st.integers(0, 3),
        conditions=st.lists(conditions, max_size=4),  # none: never matches
        actions=st.lists(actions, min_size=1, max_size=3),
        match=st.sampled_from(("all", "any")),
        enabled=st.booleans(),
    ),
    max_size=12,
)
txns = st.lists(
    st.builds(
        Txn,
        id=st.integers(1, 10**6),
        account_id=st.integers(1, 3),
        posted_on=st.just(DAY),
        amount=st.sampled_from(AMOUNTS),
        description=texts,
        merchant=st.just("") | texts,
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=rule_lists, transactions=txns)
def test_rule_set_gives_apply_rules_outcome(rules: list[Rule], transactions: list[Txn]) -> None:
    engine = RuleSet(rules)
    for txn in transactions * 2:  # the second time from the memo of texts and text pairs
        assert engine.apply(txn) == apply_rules(rules, txn)


@settings(max_examples=100, deadline=None)
@given(rules=rule_lists, transactions=txns)
def test_rule_set_is_the_same_with_a_tiny_memo(rules: list[Rule], transactions: list[Txn]) -> None:
    with patch.object(rules_module, "_MEMO_LIMIT", 1):  # every lookup starts the memo over
        engine = RuleSet(rules)
        for txn in transactions * 2:
            assert engine.apply(txn) == apply_rules(rules, txn)


def txn(description: str, merchant: str = "", amount: str = "-4.50", account: int = 1) -> Txn:
    return Txn(1, account, DAY, Decimal(amount), description, merchant)


def rule(rule_id: int, *conditions: dict[str, object], category: int = 1, match: str = "all") -> Rule:
    return parse_rule(
        {
            "id": rule_id,
            "match": match,
            "conditions": list(conditions),
            "actions": [{"type": "set_category", "category_id": category}],
        }
    )


def text(field: str, op: str, value: str) -> dict[str, object]:
    return {"field": field, "op": op, "value": value}


def test_rule_set_follows_the_documented_semantics() -> None:
    rules = [
        rule(1, text("merchant", "equals", "netflix"), category=7),
        rule(2, text("description", "contains", "netflix"), {"field": "amount", "max": "-20"}, category=8),
        rule(3, text("description", "regex", r"^sq \*"), text("description", "contains", "blue"), match="any"),
        rule(4, {"field": "direction", "value": "in"}, category=9),
        parse_rule(
            {
                "id": 5,
                "conditions": [text("description", "starts_with", "pos purchase")],
                "actions": [{"type": "add_note", "text": "card"}, {"type": "mark_transfer"}],
            }
        ),
    ]
    engine = RuleSet(rules)
    cases = [
        txn("NETFLIX.COM 866-579-7172", "NETFLIX.COM 866-579-7172"),  # merchant key equals netflix
        txn("Netflix   annual", amount="-99"),  # contains, amount in range
        txn("Netflix annual", amount="-5"),  # contains, amount out of range
        txn("SQ *BLUE BOTTLE"),
        txn("Blue moon"),
        txn("Salary", amount="2500"),
        txn("POS  PURCHASE   WHOLE FOODS"),  # runs of spaces are one
        txn(""),
    ]
    for case in cases:
        assert engine.apply(case) == apply_rules(rules, case)
    assert engine.apply(cases[0]).category_id == 7
    assert engine.apply(cases[1]).category_id == 8
    assert engine.apply(cases[2]).category_id is None
    assert engine.apply(cases[3]).matched_rule_ids == [3]
    assert engine.apply(cases[6]).notes == ["card"] and engine.apply(cases[6]).is_transfer
    assert len(engine) == 5


def test_rule_set_keeps_disabled_and_empty_rules_out_and_the_order_of_ties() -> None:
    first = Rule(None, 0, [TextCondition("description", "contains", "coffee")], [SetCategory(1)])
    second = Rule(3, 0, [TextCondition("description", "contains", "coffee")], [SetCategory(2)])
    disabled = Rule(1, 0, [TextCondition("description", "contains", "coffee")], [SetCategory(3)], enabled=False)
    empty = Rule(2, 0, [], [SetCategory(4)])
    rules = [first, second, disabled, empty]
    outcome = RuleSet(rules).apply(txn("COFFEE"))
    assert outcome == apply_rules(rules, txn("COFFEE"))
    assert (outcome.category_id, outcome.matched_rule_ids) == (2, [3])  # saved rules before unsaved ones


@pytest.mark.parametrize(
    ("pattern", "description"),
    [
        ("s", "\u017f"),  # long s folds onto s
        ("ibm", "\u0131bm"),  # dotless i onto i
        ("kroger", "\u212aROGER"),  # Kelvin sign onto k
        ("straße", "STRASSE"),  # no match: IGNORECASE folds single letters only
        ("(?-i:NETFLIX)", "netflix"),  # a case-sensitive group
    ],
)
def test_rule_set_regexes_fold_case_like_re(pattern: str, description: str) -> None:
    rules = [rule(1, text("description", "regex", pattern))]
    case = txn(description)
    assert RuleSet(rules).apply(case) == apply_rules(rules, case)


def test_regex_prefilter_literals_are_required_by_every_match() -> None:
    prefilter = rules_module._regex_prefilter
    assert prefilter(r"\bstarbucks\b") == frozenset({"starbucks"})
    assert prefilter(r"payroll|direct dep") == frozenset({"payroll", "direct dep"})
    assert prefilter(r"^(pos purchase |checkcard \d{4} )?costco") == frozenset({"costco"})
    assert prefilter(r"(?:AB)+c") == frozenset({"ab"})
    assert prefilter(r"x?") is None
    assert prefilter(r"a|.") is None  # one alternative requires nothing
    assert prefilter(r"[a-z]+\d") is None
    for pattern in REGEXES:
        required = prefilter(pattern)
        if required is None:
            continue
        compiled = re.compile(pattern, re.IGNORECASE)
        for word in WORDS:
            if word.isascii() and compiled.search(word):
                assert any(literal in word.lower() for literal in required), (pattern, word)


def test_rule_set_on_many_texts_and_rules() -> None:
    merchants = [f"merchant {i:03d}" for i in range(300)]
    rules = [
        rule(
            i + 1, text("description", ("contains", "equals", "starts_with", "regex")[i % 4], name), category=i % 5 + 1
        )
        for i, name in enumerate(merchants)
    ]
    engine = RuleSet(rules)
    for i in range(0, 300, 7):
        for description in (f"POS PURCHASE MERCHANT {i:03d} #4411", f"merchant {i:03d}", f"MERCHANT {i:03d}X"):
            case = txn(description)
            assert engine.apply(case) == apply_rules(rules, case)


# --- store(): the bulk insert gives the rows one store() per transaction gives -----------------------------------


RULES_JSON: list[dict[str, Any]] = [
    {"conditions": [{"field": "description", "op": "contains", "value": "coffee"}], "category": "coffee"},
    {
        "conditions": [
            {"field": "description", "op": "regex", "value": r"^pos\s+purchase"},
            {"field": "amount", "min": "-50", "max": "0"},
        ],
        "category": "shopping",
        "extra": [{"type": "add_note", "text": "small card purchase"}],
    },
    {
        "match": "any",
        "conditions": [
            {"field": "merchant", "op": "equals", "value": "netflix"},
            {"field": "description", "op": "starts_with", "value": "spotify"},
        ],
        "category": "streaming",
        "extra": [{"type": "rename_merchant", "name": "Streaming service"}],
    },
    {
        "conditions": [{"field": "description", "op": "contains", "value": "card autopay"}],
        "category": "transfers",
        "extra": [{"type": "mark_transfer"}],
    },
]
DESCRIPTIONS = (
    "POS PURCHASE STARBUCKS #1234 SEATTLE WA", "Blue Bottle Coffee", "NETFLIX.COM 866-579-7172", "Spotify USA",
    "CARD AUTOPAY PPD ID 4760039224", "ONLINE TRANSFER TO SAVINGS", "PAYROLL ACME CORP", "Trader Joe's #552",
    "Überweisung Miete", "Café Olé ☕", "AMZN Mktp US*2K3L45AB1",
)  # fmt: skip


def _workspace(session: Any, name: str) -> dict[str, Any]:
    """A workspace with its default categories, checking and savings accounts, and RULES_JSON as stored rules."""
    workspace = Workspace(name=name)
    session.add(workspace)
    session.flush()
    keys = ensure_defaults(session, workspace.id)
    checking = BankAccount(workspace_id=workspace.id, name="Checking", currency="USD")
    savings = BankAccount(workspace_id=workspace.id, name="Savings", currency="EUR")
    session.add_all([checking, savings])
    session.flush()
    for position, spec in enumerate(RULES_JSON):
        actions = [{"type": "set_category", "category_id": keys[spec["category"]]}, *spec.get("extra", [])]
        definition = {"match": spec.get("match", "all"), "conditions": spec["conditions"], "actions": actions}
        session.add(
            TransactionRule(
                workspace_id=workspace.id, name=f"r{position}", position=position, enabled=True, definition=definition
            )
        )
    session.flush()
    return {"id": workspace.id, "keys": keys, "checking": checking, "savings": savings}


def _items(count: int) -> list[NewTransaction]:
    out = []
    for i in range(count):
        amount = Decimal(-(i * 37 % 9000)) / 100 - Decimal("0.0025") * (i % 3) if i % 7 else Decimal(i * 11 % 500)
        out.append(
            NewTransaction(
                fingerprint=f"h:{i:04d}",
                posted_on=date(2025, 1, 1) + timedelta(days=i % 40),
                amount=amount,
                currency="" if i % 5 else "GBP",
                description=DESCRIPTIONS[i % len(DESCRIPTIONS)] + ("" if i % 4 else f" {i}"),
                merchant="NETFLIX.COM" if i % 9 == 0 else "",
                external_id=f"x{i}" if i % 6 == 0 else "",
                pending=i % 13 == 0,
                provider_category="FOOD_AND_DRINK_COFFEE" if i % 10 == 3 else "",
                raw={"Date": str(i), "Description": DESCRIPTIONS[i % len(DESCRIPTIONS)], "ü": "ß"},
            )
        )
    return out


def _stored(session: Any, world: dict[str, Any]) -> dict[tuple[str, str], tuple[Any, ...]]:
    """The workspace's transactions by (account name, fingerprint), with ids turned into what they stand for."""
    keys = {v: k for k, v in world["keys"].items()}
    positions = dict(session.execute(select(TransactionRule.id, TransactionRule.position)).all())
    rows = session.scalars(select(Transaction).where(Transaction.workspace_id == world["id"])).all()
    by_id = {r.id: r for r in rows}
    names = {world["checking"].id: "checking", world["savings"].id: "savings"}
    out = {}
    for r in rows:
        peer = by_id[r.transfer_peer_id] if r.transfer_peer_id is not None else None
        out[(names[r.bank_account_id], r.fingerprint)] = (
            r.external_id, r.posted_on, r.amount, r.currency, r.description, r.merchant, r.pending,
            r.pending_external_id, r.provider_category, keys.get(r.category_id), r.category_source,
            r.category_confidence, positions.get(r.category_rule_id), r.notes, r.excluded, r.is_transfer,
            r.transfer_locked, None if peer is None else (names[peer.bank_account_id], peer.fingerprint), r.raw,
        )  # fmt: skip
    return out


def test_store_in_bulk_stores_what_the_orm_path_stores(app: Any, owner: dict[str, Any]) -> None:
    """The same items stored in two like workspaces: in bulk (driver executemany / COPY), and with the bulk insert
    turned off (one INSERT … RETURNING); and categorize() on ORM rows decides what the bulk store decided."""
    db = app.extensions["spendwatch"].db
    items = _items(money_ingest.BULK_INSERT_ROWS + 60)
    transfers = [
        NewTransaction(fingerprint=f"s:{i}", posted_on=item.posted_on, amount=-item.amount, description="Transfer")
        for i, item in enumerate(items[:40])
    ]
    with db.system_session() as s:
        bulk, single = _workspace(s, "bulk"), _workspace(s, "single statement")
    with db.system_session() as s:
        for world in (bulk, single):
            money_ingest.store(s, bank_account=s.merge(world["savings"]), items=transfers, update_existing=False)
        checking = s.merge(bulk["checking"])
        orm_rows = [
            Transaction(
                workspace_id=bulk["id"], bank_account_id=checking.id, fingerprint=item.fingerprint,
                posted_on=item.posted_on, amount=item.amount, description=item.description, merchant=item.merchant,
                pending=item.pending, provider_category=item.provider_category, notes="", is_transfer=False,
            )
            for item in items
        ]  # fmt: skip
        money_ingest.categorize(s, bulk["id"], orm_rows)
        result = money_ingest.store(s, bank_account=checking, items=items, update_existing=False)
        with patch.object(money_ingest, "BULK_INSERT_ROWS", 10**9):
            other = money_ingest.store(s, bank_account=s.merge(single["checking"]), items=items, update_existing=False)
    with db.system_session() as s:
        fingerprints = {r.id: r.fingerprint for r in s.scalars(select(Transaction))}
        assert [fingerprints[i] for i in result.added] == [i.fingerprint for i in items]  # ids in the items' order
        assert [fingerprints[i] for i in other.added] == [i.fingerprint for i in items]
        got, expected = _stored(s, bulk), _stored(s, single)
        decided = {
            r.fingerprint: (r.category_id, r.category_source, r.category_confidence, r.category_rule_id, r.merchant)
            for r in s.scalars(select(Transaction).where(Transaction.bank_account_id == bulk["checking"].id))
        }
    assert got == expected
    assert (result.transfers, len(result.added)) == (other.transfers, len(other.added))
    assert result.transfers > 0
    assert any(row[15] and row[16] for row in got.values())  # a rule marked a transfer
    assert {row[10] for row in got.values()} >= {"rule", "provider", "keyword"}
    for row in orm_rows:
        assert decided[row.fingerprint] == (
            row.category_id,
            row.category_source,
            row.category_confidence,
            row.category_rule_id,
            row.merchant,
        )
