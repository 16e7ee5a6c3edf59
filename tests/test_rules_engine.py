"""RuleSet, the compiled rule engine categorize() uses: the same Outcome as the naive apply_rules, whatever the rules
and transactions (randomized with hypothesis), including the corners of text matching its indexes shortcut."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
