"""Pure money domain logic: merchant keys, default categories and keywords, rules, learned suggestions, transfer
pairing and recurring-charge detection. Hand-written data, no database."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from backend.money.categories import DEFAULT_CATEGORIES, KEYWORD_CONFIDENCE, KEYWORD_MAP, keyword_category
from backend.money.learned import LearnedIndex, suggest_from_history
from backend.money.recurring import Stream, detect_recurring, due_in_period, upcoming
from backend.money.rules import (
    AccountCondition,
    AddNote,
    AmountCondition,
    Change,
    DirectionCondition,
    Outcome,
    Rule,
    RuleError,
    SetCategory,
    TextCondition,
    apply_rules,
    matches,
    parse_rule,
    preview,
    rule_from_example,
    rule_to_dict,
)
from backend.money.transfers import find_transfers
from backend.money.txn import Txn, merchant_key, normalize_merchant


def txn(
    id: int,
    day: date,
    amount: str,
    description: str = "",
    merchant: str = "",
    account: int = 1,
    category_id: int | None = None,
    **flags: bool,
) -> Txn:
    return Txn(id, account, day, Decimal(amount), description, merchant, category_id, **flags)


D = date
JAN1 = D(2025, 1, 1)


# --- merchant keys -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("POS SQ *Blue Bottle Coffee #1234", "blue bottle coffee"),
        ("TST* Joe's Pizza", "joe's pizza"),
        ("PAYPAL *SPOTIFY 4029357733", "spotify"),
        ("NETFLIX.COM 866-579-7172", "netflix"),
        ("Whole   Foods 01/15/24", "whole foods"),
        ("POS PURCHASE KROGER", "kroger"),
        ("ACH REF123456789 PAYROLL", "ach ref payroll"),
    ],
)
def test_normalize_merchant_strips_processor_prefixes_and_reference_numbers(text: str, key: str) -> None:
    assert normalize_merchant(text) == key


def test_normalize_merchant_keeps_short_numbers_in_names_and_city_suffixes() -> None:
    assert normalize_merchant("7-ELEVEN") == "7-eleven"
    assert normalize_merchant("24 Hour Fitness") == "24 hour fitness"
    assert normalize_merchant("STARBUCKS #12345 SEATTLE WA") == "starbucks seattle wa"


def test_normalize_merchant_of_noise_only_is_empty() -> None:
    assert normalize_merchant("POS #123") == ""
    assert normalize_merchant("   ") == ""


def test_merchant_key_prefers_merchant_and_falls_back_to_description() -> None:
    assert merchant_key(txn(1, JAN1, "-1", "SQ *CAFE ROMA 99", "Cafe Roma")) == "cafe roma"
    assert merchant_key(txn(1, JAN1, "-1", "SQ *CAFE ROMA #99")) == "cafe roma"


# --- categories and keywords ---------------------------------------------------------------------------------------


def test_default_categories_are_unique_valid_and_nested_one_level() -> None:
    by_key = {c.key: c for c in DEFAULT_CATEGORIES}
    assert len(by_key) == len(DEFAULT_CATEGORIES) == 29
    for spec in DEFAULT_CATEGORIES:
        assert re.fullmatch(r"#[0-9a-f]{6}", spec.color), spec.key
        assert 1 <= spec.necessity <= 10, spec.key
        assert spec.icon and spec.name, spec.key
        if spec.parent_key is not None:
            parent = by_key[spec.parent_key]
            assert parent.parent_key is None, spec.key
            assert parent.kind == spec.kind, spec.key
    children: dict[str, set[str]] = {}
    for spec in DEFAULT_CATEGORIES:
        if spec.parent_key:
            children.setdefault(spec.parent_key, set()).add(spec.key)
    assert children == {
        "food": {"groceries", "restaurants", "coffee"},
        "housing": {"rent", "utilities", "internet_phone"},
        "transport": {"fuel", "public_transport", "rideshare"},
        "subscriptions": {"software", "streaming"},
        "health": {"pharmacy", "fitness"},
        "shopping": {"clothing", "electronics"},
        "income": {"salary", "refunds", "interest"},
    }
    assert {c.key for c in DEFAULT_CATEGORIES if c.kind != "expense"} == {
        "income",
        "salary",
        "refunds",
        "interest",
        "transfers",
    }
    assert by_key["transfers"].kind == "transfer"


def test_keyword_map_names_default_categories_with_unique_normalized_keywords() -> None:
    keys = {c.key for c in DEFAULT_CATEGORIES}
    assert set(KEYWORD_MAP) <= keys
    every = [keyword for keywords in KEYWORD_MAP.values() for keyword in keywords]
    assert len(every) == len(set(every))
    # Keywords are matched against normalized text, so each must survive normalization unchanged.
    assert [k for k in every if normalize_merchant(k) != k] == []


@pytest.mark.parametrize(
    ("description", "merchant", "amount", "key"),
    [
        ("WHOLE FOODS MKT #10234 AUSTIN TX", "", "-84.20", "groceries"),
        ("POS TRADER JOE'S #552", "", "-31.07", "groceries"),
        ("", "Lidl", "-12.00", "groceries"),
        ("STARBUCKS STORE 01234", "", "-5.45", "coffee"),
        ("SQ *CORNER CAFE", "", "-4.00", "coffee"),
        ("UBER *TRIP HELP.UBER.COM", "", "-18.90", "rideshare"),
        ("LYFT *RIDE SUN 8PM", "", "-22.10", "rideshare"),
        ("NETFLIX.COM 866-579-7172", "", "-15.49", "streaming"),
        ("PAYPAL *SPOTIFY", "", "-10.99", "streaming"),
        ("GITHUB, INC.", "", "-4.00", "software"),
        ("OPENAI *CHATGPT SUBSCR", "", "-20.00", "software"),
        ("ANTHROPIC", "", "-20.00", "software"),
        ("AWS EMEA", "", "-3.12", "software"),
        ("GOOGLE CLOUD 8ZQ", "", "-9.40", "software"),
    ],
)
def test_keyword_category_maps_known_merchants(description: str, merchant: str, amount: str, key: str) -> None:
    assert keyword_category(txn(1, JAN1, amount, description, merchant)) == (key, Decimal("0.50"))


def test_keyword_category_prefers_the_longest_keyword() -> None:
    assert keyword_category(txn(1, JAN1, "-25.00", "UBER EATS ORDER")) == ("restaurants", KEYWORD_CONFIDENCE)
    assert keyword_category(txn(1, JAN1, "-9.00", "T-MOBILE METRO")) == ("internet_phone", KEYWORD_CONFIDENCE)


def test_keyword_category_only_matches_whole_words() -> None:
    assert keyword_category(txn(1, JAN1, "-100.00", "SMITH LAWS OFFICE")) is None
    assert keyword_category(txn(1, JAN1, "-3.00", "TUBERS AND ROOTS")) is None


def test_keyword_category_matches_expense_keywords_only_on_money_out_and_income_only_on_money_in() -> None:
    assert keyword_category(txn(1, JAN1, "20.00", "AMAZON REFUND")) == ("refunds", KEYWORD_CONFIDENCE)
    assert keyword_category(txn(1, JAN1, "20.00", "AMAZON")) is None
    assert keyword_category(txn(1, JAN1, "-20.00", "AMAZON")) == ("shopping", KEYWORD_CONFIDENCE)
    assert keyword_category(txn(1, JAN1, "2000.00", "ACME CORP PAYROLL")) == ("salary", KEYWORD_CONFIDENCE)
    assert keyword_category(txn(1, JAN1, "-2000.00", "ACME CORP PAYROLL")) is None


def test_keyword_category_matches_transfer_keywords_both_ways() -> None:
    assert keyword_category(txn(1, JAN1, "-100", "ONLINE TRANSFER TO SAV 1234")) == ("transfers", KEYWORD_CONFIDENCE)
    assert keyword_category(txn(1, JAN1, "100", "ONLINE TRANSFER FROM CHK 99")) == ("transfers", KEYWORD_CONFIDENCE)


def test_keyword_category_without_keyword_is_none() -> None:
    assert keyword_category(txn(1, JAN1, "-7.00", "ZXQ HOLDINGS")) is None


# --- rules: conditions ---------------------------------------------------------------------------------------------


def one_condition(condition: dict[str, Any]) -> Rule:
    return parse_rule({"conditions": [condition], "actions": [{"type": "set_category", "category_id": 1}]})


NETFLIX = txn(1, JAN1, "-15.49", "NETFLIX.COM   866-579-7172 CA", "NETFLIX.COM 866-579-7172")


def test_contains_is_case_insensitive_and_ignores_extra_whitespace() -> None:
    assert matches(one_condition({"field": "description", "op": "contains", "value": "netflix.com 866"}), NETFLIX)
    assert not matches(one_condition({"field": "description", "op": "contains", "value": "hulu"}), NETFLIX)


def test_equals_matches_the_raw_text_or_the_normalized_merchant_key() -> None:
    assert matches(one_condition({"field": "merchant", "op": "equals", "value": "Netflix"}), NETFLIX)
    assert matches(one_condition({"field": "merchant", "op": "equals", "value": "netflix.com  866-579-7172"}), NETFLIX)
    assert not matches(one_condition({"field": "merchant", "op": "equals", "value": "netflix.com"}), NETFLIX)
    assert not matches(one_condition({"field": "merchant", "op": "equals", "value": "netfli"}), NETFLIX)


def test_starts_with_is_anchored_at_the_start() -> None:
    assert matches(one_condition({"field": "description", "op": "starts_with", "value": "NETFLIX"}), NETFLIX)
    assert not matches(one_condition({"field": "description", "op": "starts_with", "value": "866"}), NETFLIX)


def test_regex_searches_case_insensitively_in_raw_and_normalized_text() -> None:
    assert matches(one_condition({"field": "description", "op": "regex", "value": r"866-\d{3}"}), NETFLIX)
    assert matches(one_condition({"field": "merchant", "op": "regex", "value": "^NETFLIX$"}), NETFLIX)
    assert not matches(one_condition({"field": "merchant", "op": "regex", "value": "^hulu"}), NETFLIX)


def test_merchant_condition_never_looks_at_the_description() -> None:
    no_merchant = txn(2, JAN1, "-15.49", "NETFLIX.COM")
    assert not matches(one_condition({"field": "merchant", "op": "contains", "value": "netflix"}), no_merchant)
    assert matches(one_condition({"field": "description", "op": "contains", "value": "netflix"}), no_merchant)


def test_amount_bounds_are_inclusive_on_the_signed_amount() -> None:
    rule = one_condition({"field": "amount", "min": "-20", "max": "-5.00"})
    amounts = ["-20.00", "-5.00", "-4.99", "-20.01", "10.00", "-12.34"]
    assert [matches(rule, txn(1, JAN1, a, "x")) for a in amounts] == [True, True, False, False, False, True]


def test_amount_with_one_bound_is_open_on_the_other_side() -> None:
    rule = one_condition({"field": "amount", "min": 100})
    assert [matches(rule, txn(1, JAN1, a, "x")) for a in ["100", "99.99", "5000"]] == [True, False, True]


def test_direction_in_is_positive_out_is_negative_and_zero_is_neither() -> None:
    money_in = one_condition({"field": "direction", "value": "in"})
    money_out = one_condition({"field": "direction", "value": "out"})
    assert [matches(money_in, txn(1, JAN1, a, "x")) for a in ["1", "-1", "0"]] == [True, False, False]
    assert [matches(money_out, txn(1, JAN1, a, "x")) for a in ["1", "-1", "0"]] == [False, True, False]


def test_account_condition_matches_listed_accounts_only() -> None:
    rule = one_condition({"field": "account", "value": [3, 1]})
    assert [matches(rule, txn(1, JAN1, "-1", "x", account=a)) for a in (1, 2, 3)] == [True, False, True]


def test_match_all_needs_every_condition_and_any_needs_one() -> None:
    conditions = [
        {"field": "description", "op": "contains", "value": "netflix"},
        {"field": "direction", "value": "in"},
    ]
    actions = [{"type": "set_category", "category_id": 1}]
    every = parse_rule({"match": "all", "conditions": conditions, "actions": actions})
    either = parse_rule({"match": "any", "conditions": conditions, "actions": actions})
    assert (matches(every, NETFLIX), matches(either, NETFLIX)) == (False, True)
    refund = txn(2, JAN1, "15.49", "NETFLIX REFUND")
    assert (matches(every, refund), matches(either, refund)) == (True, True)
    other = txn(3, JAN1, "-3", "HULU")
    assert (matches(every, other), matches(either, other)) == (False, False)


def test_a_rule_without_conditions_never_matches() -> None:
    assert not matches(Rule(1, 0, [], [SetCategory(1)]), NETFLIX)
    assert not matches(Rule(1, 0, [], [SetCategory(1)], match="any"), NETFLIX)


# --- rules: parsing ------------------------------------------------------------------------------------------------


def base_rule(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "conditions": [{"field": "description", "op": "contains", "value": "netflix"}],
        "actions": [{"type": "set_category", "category_id": 1}],
    }
    data.update(changes)
    return data


def bad_condition(condition: dict[str, Any]) -> dict[str, Any]:
    return base_rule(conditions=[{"field": "direction", "value": "out"}, condition])


@pytest.mark.parametrize(
    ("data", "loc", "message"),
    [
        ([], "", "must be an object"),
        (base_rule(nmae="x"), "nmae", "unknown field"),
        (base_rule(match="some"), "match", "must be one of all, any"),
        (base_rule(enabled="yes"), "enabled", "must be true or false"),
        (base_rule(position=-1), "position", "must be an integer >= 0"),
        (base_rule(id=True), "id", "must be a positive integer"),
        (base_rule(conditions=[]), "conditions", "must be a list of 1 to 20 items"),
        ({"conditions": [{"field": "direction", "value": "in"}]}, "actions", "required"),
        (
            bad_condition({"field": "amountz", "min": 1}),
            "conditions.1.field",
            "must be one of description, merchant, amount, account, direction",
        ),
        (
            bad_condition({"field": "merchant", "value": "x"}),
            "conditions.1.op",
            "must be one of contains, equals, regex, starts_with",
        ),
        (bad_condition({"field": "merchant", "op": "equals"}), "conditions.1.value", "required"),
        (
            bad_condition({"field": "merchant", "op": "equals", "value": "  "}),
            "conditions.1.value",
            "must not be empty",
        ),
        (bad_condition({"field": "merchant", "op": "equals", "value": 5}), "conditions.1.value", "must be a string"),
        (
            bad_condition({"field": "merchant", "op": "contains", "value": "x" * 201}),
            "conditions.1.value",
            "at most 200 characters",
        ),
        (
            bad_condition({"field": "merchant", "op": "equals", "value": "x", "extra": 1}),
            "conditions.1.extra",
            "unknown field",
        ),
        (
            bad_condition({"field": "description", "op": "regex", "value": "netflix("}),
            "conditions.1.value",
            "invalid regular expression: missing ), unterminated subpattern at position 7",
        ),
        (
            bad_condition({"field": "description", "op": "regex", "value": "[a-"}),
            "conditions.1.value",
            "invalid regular expression: unterminated character set at position 0",
        ),
        (
            bad_condition({"field": "description", "op": "regex", "value": "a" * 201}),
            "conditions.1.value",
            "at most 200 characters",
        ),
        (
            bad_condition({"field": "description", "op": "regex", "value": r"^(\w+\s?)+$"}),
            "conditions.1.value",
            "a repeated group containing a repetition, like (a+)+, can take exponential time",
        ),
        (bad_condition({"field": "amount"}), "conditions.1", "needs min, max or both"),
        (bad_condition({"field": "amount", "min": "abc"}), "conditions.1.min", "must be a number"),
        (bad_condition({"field": "amount", "max": "NaN"}), "conditions.1.max", "must be a finite number"),
        (bad_condition({"field": "amount", "min": True}), "conditions.1.min", "must be a number"),
        (bad_condition({"field": "amount", "min": "5", "max": "-5"}), "conditions.1.max", "must not be below min"),
        (
            bad_condition({"field": "account", "value": []}),
            "conditions.1.value",
            "must be a list of 1 to 100 account ids",
        ),
        (bad_condition({"field": "account", "value": [1, True]}), "conditions.1.value.1", "must be a positive integer"),
        (bad_condition({"field": "direction", "value": "sideways"}), "conditions.1.value", "must be one of in, out"),
        (
            base_rule(actions=[{"type": "delete"}]),
            "actions.0.type",
            "must be one of set_category, rename_merchant, mark_transfer, add_note",
        ),
        (
            base_rule(actions=[{"type": "set_category", "category_id": 0}]),
            "actions.0.category_id",
            "must be a positive integer",
        ),
        (
            base_rule(actions=[{"type": "set_category", "category_id": 1}, {"type": "set_category", "category_id": 2}]),
            "actions.1.type",
            "only one action of this type per rule",
        ),
        (base_rule(actions=[{"type": "mark_transfer", "really": True}]), "actions.0.really", "unknown field"),
        (base_rule(actions=[{"type": "rename_merchant", "name": ""}]), "actions.0.name", "must not be empty"),
        (base_rule(actions=[{"type": "add_note", "text": "n" * 501}]), "actions.0.text", "at most 500 characters"),
    ],
)
def test_parse_rule_rejects_invalid_json_with_the_location(data: Any, loc: str, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(data)
    assert (caught.value.loc, caught.value.message) == (loc, message)


def test_parse_rule_fills_defaults_and_normalizes_values() -> None:
    rule = parse_rule(
        {
            "conditions": [
                {"field": "merchant", "op": "contains", "value": "  whole   foods "},
                {"field": "amount", "min": -0.1, "max": "0"},
                {"field": "account", "value": [3, 1, 3]},
            ],
            "actions": [{"type": "add_note", "text": "a"}, {"type": "add_note", "text": "b"}],
        }
    )
    assert rule == Rule(
        None,
        0,
        [
            TextCondition("merchant", "contains", "whole foods"),
            AmountCondition(Decimal("-0.1"), Decimal("0")),
            AccountCondition((1, 3)),
        ],
        [AddNote("a"), AddNote("b")],
        "all",
        True,
    )


def test_rule_to_dict_round_trips_through_parse_rule() -> None:
    data = {
        "id": 7,
        "position": 3,
        "match": "any",
        "enabled": False,
        "conditions": [
            {"field": "description", "op": "regex", "value": "^acme (inc|llc)"},
            {"field": "amount", "min": "-20.00", "max": None},
            {"field": "account", "value": [2, 5]},
            {"field": "direction", "value": "out"},
        ],
        "actions": [
            {"type": "set_category", "category_id": 4},
            {"type": "rename_merchant", "name": "Acme"},
            {"type": "mark_transfer"},
            {"type": "add_note", "text": "office"},
        ],
    }
    rule = parse_rule(data)
    assert rule_to_dict(rule) == data
    assert parse_rule(rule_to_dict(rule)) == rule
    assert rule.conditions[3] == DirectionCondition("out")


# --- rules: applying and previewing --------------------------------------------------------------------------------


def make_rule(rule_id: int, position: int, actions: list[dict[str, Any]], enabled: bool = True) -> Rule:
    return parse_rule(
        {
            "id": rule_id,
            "position": position,
            "enabled": enabled,
            "conditions": [{"field": "description", "op": "contains", "value": "netflix"}],
            "actions": actions,
        }
    )


def test_apply_rules_runs_in_position_order_first_category_wins_and_notes_accumulate() -> None:
    rules = [
        make_rule(10, 2, [{"type": "set_category", "category_id": 5}, {"type": "add_note", "text": "b"}]),
        make_rule(11, 1, [{"type": "set_category", "category_id": 6}, {"type": "add_note", "text": "a"}]),
        make_rule(12, 3, [{"type": "rename_merchant", "name": "Netflix"}, {"type": "mark_transfer"}]),
        make_rule(13, 0, [{"type": "set_category", "category_id": 99}], enabled=False),
        parse_rule(
            {
                "id": 14,
                "position": 0,
                "conditions": [{"field": "description", "op": "contains", "value": "hulu"}],
                "actions": [{"type": "set_category", "category_id": 98}],
            }
        ),
    ]
    assert apply_rules(rules, NETFLIX) == Outcome(
        category_id=6,
        merchant="Netflix",
        is_transfer=True,
        notes=["a", "b"],
        rule_id=11,
        matched_rule_ids=[11, 10, 12],
    )


def test_apply_rules_breaks_position_ties_by_id() -> None:
    rules = [
        make_rule(21, 0, [{"type": "set_category", "category_id": 2}]),
        make_rule(20, 0, [{"type": "set_category", "category_id": 1}]),
    ]
    outcome = apply_rules(rules, NETFLIX)
    assert (outcome.category_id, outcome.rule_id, outcome.matched_rule_ids) == (1, 20, [20, 21])


def test_apply_rules_first_rename_wins_and_duplicate_notes_are_dropped() -> None:
    rules = [
        make_rule(1, 0, [{"type": "rename_merchant", "name": "First"}, {"type": "add_note", "text": "same"}]),
        make_rule(2, 1, [{"type": "rename_merchant", "name": "Second"}, {"type": "add_note", "text": "same"}]),
    ]
    assert apply_rules(rules, NETFLIX) == Outcome(merchant="First", notes=["same"], matched_rule_ids=[1, 2])


def test_apply_rules_without_a_matching_rule_is_an_empty_outcome() -> None:
    rules = [make_rule(1, 0, [{"type": "set_category", "category_id": 1}])]
    assert apply_rules(rules, txn(9, JAN1, "-3", "HULU")) == Outcome()
    assert apply_rules([], NETFLIX) == Outcome()


def test_preview_lists_only_real_changes_of_matching_transactions() -> None:
    rule = make_rule(
        1,
        0,
        [
            {"type": "set_category", "category_id": 3},
            {"type": "rename_merchant", "name": "Netflix"},
            {"type": "mark_transfer"},
            {"type": "add_note", "text": "streaming"},
        ],
    )
    txns = [
        txn(1, JAN1, "-15.49", "NETFLIX.COM", "Netflix", category_id=3),
        txn(2, JAN1, "-15.49", "NETFLIX.COM", "NETFLIX.COM"),
        txn(3, JAN1, "-7.99", "HULU", "Hulu", category_id=8),
        txn(4, JAN1, "-15.49", "NETFLIX.COM", "Netflix", category_id=8, is_transfer=True),
    ]
    assert preview(rule, txns) == [
        Change(1, "is_transfer", False, True),
        Change(1, "note", None, "streaming"),
        Change(2, "category_id", None, 3),
        Change(2, "merchant", "NETFLIX.COM", "Netflix"),
        Change(2, "is_transfer", False, True),
        Change(2, "note", None, "streaming"),
        Change(4, "category_id", 8, 3),
        Change(4, "note", None, "streaming"),
    ]


def test_preview_shows_a_disabled_rule_too() -> None:
    rule = make_rule(1, 0, [{"type": "set_category", "category_id": 3}], enabled=False)
    assert preview(rule, [NETFLIX]) == [Change(1, "category_id", None, 3)]


def test_rule_from_example_uses_the_merchant_key_and_matches_the_same_merchant_at_another_store() -> None:
    example = txn(1, JAN1, "-5.45", "STARBUCKS 0192 SEATTLE", "STARBUCKS #0192")
    data = rule_from_example(example, 12)
    assert data == {
        "match": "all",
        "enabled": True,
        "conditions": [{"field": "merchant", "op": "equals", "value": "starbucks"}],
        "actions": [{"type": "set_category", "category_id": 12}],
    }
    rule = parse_rule(data)
    assert matches(rule, example)
    assert matches(rule, txn(2, JAN1, "-3.10", "STARBUCKS 7781 PORTLAND", "Starbucks #7781"))
    assert not matches(rule, txn(3, JAN1, "-3.10", "STARBUCKS RESERVE", "Starbucks Reserve"))


def test_rule_from_example_without_merchant_uses_the_first_words_of_the_description() -> None:
    example = txn(1, JAN1, "-64.00", "POS CITY WATER DEPT BILLPAY 000123456 REF 8812")
    data = rule_from_example(example, 4)
    assert data["conditions"] == [{"field": "description", "op": "contains", "value": "city water dept"}]
    rule = parse_rule(data)
    assert matches(rule, example)
    assert matches(rule, txn(2, JAN1, "-70.10", "POS CITY WATER DEPT BILLPAY 000987654 REF 9001"))


def test_rule_from_example_without_any_text_is_a_rule_error() -> None:
    with pytest.raises(RuleError) as caught:
        rule_from_example(txn(1, JAN1, "-1", "#1234"), 4)
    assert caught.value.loc == "conditions"


# --- learned suggestions -------------------------------------------------------------------------------------------


def test_learned_suggestion_is_the_majority_with_its_vote_share() -> None:
    history = [
        txn(1, D(2025, 1, 2), "-5.00", "SQ *BLUE BOTTLE #12", category_id=5),
        txn(2, D(2025, 1, 3), "-5.00", "BLUE BOTTLE #31", category_id=5),
        txn(3, D(2025, 1, 4), "-5.00", "Blue Bottle", category_id=5),
        txn(4, D(2025, 1, 5), "-5.00", "POS BLUE BOTTLE 889123", category_id=6),
        txn(5, D(2025, 1, 6), "-5.00", "BLUE BOTTLE"),
    ]
    assert LearnedIndex(history).suggest(txn(9, JAN1, "-4.50", "POS BLUE BOTTLE #99")) == (5, Decimal("0.75"))


def test_learned_confidence_is_rounded_to_cents_and_capped_at_095() -> None:
    history = [txn(i, JAN1, "-9", "GYMBOX", category_id=c) for i, c in [(1, 2), (2, 2), (3, 3)]]
    assert suggest_from_history(history, txn(9, JAN1, "-9", "GYMBOX")) == (2, Decimal("0.67"))
    assert suggest_from_history(history[:1], txn(9, JAN1, "-9", "GYMBOX")) == (2, Decimal("0.95"))


def test_learned_tie_goes_to_the_most_recently_used_category() -> None:
    history = [
        txn(1, D(2025, 1, 2), "-9", "GYMBOX", category_id=3),
        txn(2, D(2025, 1, 1), "-9", "GYMBOX", category_id=2),
    ]
    assert suggest_from_history(history, txn(9, JAN1, "-9", "GYMBOX")) == (3, Decimal("0.50"))
    assert suggest_from_history(history[::-1], txn(9, JAN1, "-9", "GYMBOX")) == (3, Decimal("0.50"))


def test_learned_keeps_money_in_and_money_out_apart() -> None:
    index = LearnedIndex([txn(1, JAN1, "-30", "AMAZON", category_id=7)])
    assert index.suggest(txn(2, JAN1, "30", "AMAZON")) is None
    assert index.suggest(txn(3, JAN1, "-12", "AMAZON")) == (7, Decimal("0.95"))


def test_learned_unknown_merchant_or_uncategorized_history_suggests_nothing() -> None:
    index = LearnedIndex([txn(1, JAN1, "-30", "AMAZON"), txn(2, JAN1, "-30", "#123", category_id=1)])
    assert index.suggest(txn(3, JAN1, "-30", "AMAZON")) is None
    assert index.suggest(txn(4, JAN1, "-30", "EBAY")) is None
    assert index.suggest(txn(5, JAN1, "-30", "#999")) is None


def test_learned_index_learns_incrementally() -> None:
    index = LearnedIndex()
    assert index.suggest(txn(1, JAN1, "-4", "LIDL")) is None
    index.add(txn(2, JAN1, "-4", "LIDL", category_id=9))
    assert index.suggest(txn(1, JAN1, "-4", "LIDL")) == (9, Decimal("0.95"))


# --- transfers -----------------------------------------------------------------------------------------------------


def test_transfer_pairs_opposite_amounts_on_different_accounts_within_the_window() -> None:
    txns = [
        txn(1, D(2025, 3, 1), "-500.00", "TRANSFER TO SAVINGS", account=1),
        txn(2, D(2025, 3, 4), "500.00", "TRANSFER FROM CHECKING", account=2),
        txn(3, D(2025, 3, 2), "-42.00", "GROCER", account=1),
    ]
    assert find_transfers(txns) == [(1, 2)]


def test_transfer_is_not_paired_on_the_same_account() -> None:
    txns = [txn(1, D(2025, 3, 1), "-80.00", "X", account=1), txn(2, D(2025, 3, 1), "80.00", "Y", account=1)]
    assert find_transfers(txns) == []


def test_transfer_window_is_inclusive_five_days_and_six_is_too_far() -> None:
    out = txn(1, D(2025, 3, 1), "-80.00", "X", account=1)
    assert find_transfers([out, txn(2, D(2025, 3, 6), "80.00", "Y", account=2)]) == [(1, 2)]
    assert find_transfers([out, txn(2, D(2025, 3, 7), "80.00", "Y", account=2)]) == []
    assert find_transfers([out, txn(2, D(2025, 3, 7), "80.00", "Y", account=2)], window_days=6) == [(1, 2)]


def test_transfer_incoming_may_post_before_the_outgoing() -> None:
    txns = [txn(1, D(2025, 3, 5), "-80.00", "X", account=1), txn(2, D(2025, 3, 2), "80.00", "Y", account=2)]
    assert find_transfers(txns) == [(1, 2)]


def test_transfer_greedy_takes_the_closest_candidate_and_uses_each_transaction_once() -> None:
    txns = [
        txn(1, D(2025, 1, 10), "-100.00", "OUT", account=1),
        txn(2, D(2025, 1, 12), "100.00", "IN FAR", account=2),
        txn(3, D(2025, 1, 11), "100.00", "IN NEAR", account=3),
    ]
    assert find_transfers(txns) == [(1, 3)]
    assert find_transfers(txns[::-1]) == [(1, 3)]


def test_transfer_two_outgoing_one_incoming_pairs_the_closest() -> None:
    txns = [
        txn(1, D(2025, 1, 1), "-100.00", "OUT EARLY", account=1),
        txn(2, D(2025, 1, 3), "-100.00", "OUT SAME DAY", account=2),
        txn(3, D(2025, 1, 3), "100.00", "IN", account=3),
    ]
    assert find_transfers(txns) == [(2, 3)]


def test_transfer_distance_ties_go_to_the_lower_ids() -> None:
    txns = [
        txn(5, D(2025, 1, 1), "-100.00", "OUT A", account=1),
        txn(4, D(2025, 1, 3), "-100.00", "OUT B", account=1),
        txn(6, D(2025, 1, 2), "100.00", "IN", account=2),
    ]
    assert find_transfers(txns) == [(4, 6)]


def test_transfer_amounts_compare_as_exact_decimals() -> None:
    txns = [
        txn(1, JAN1, "-100.00", "A", account=1),
        txn(2, JAN1, "100.0", "B", account=2),
        txn(3, JAN1, "-100.01", "C", account=1),
        txn(4, JAN1, "100", "D", account=3),
    ]
    assert find_transfers(txns) == [(1, 2)]


def test_transfer_skips_pending_already_marked_and_zero_amounts() -> None:
    txns = [
        txn(1, JAN1, "-50", "A", account=1, pending=True),
        txn(2, JAN1, "50", "B", account=2),
        txn(3, JAN1, "-60", "C", account=1, is_transfer=True),
        txn(4, JAN1, "60", "D", account=2),
        txn(5, JAN1, "0", "E", account=1),
        txn(6, JAN1, "0", "F", account=2),
    ]
    assert find_transfers(txns) == []


def test_transfer_finds_several_pairs_sorted_by_out_id() -> None:
    txns = [
        txn(10, D(2025, 2, 1), "-20", "A", account=1),
        txn(11, D(2025, 2, 1), "20", "B", account=2),
        txn(3, D(2025, 2, 3), "-75.50", "C", account=2),
        txn(4, D(2025, 2, 4), "75.5", "D", account=1),
    ]
    assert find_transfers(txns) == [(3, 4), (10, 11)]


def test_transfer_negative_window_is_an_error() -> None:
    with pytest.raises(ValueError, match="window_days must be >= 0"):
        find_transfers([], window_days=-1)


# --- recurring -----------------------------------------------------------------------------------------------------

TODAY = D(2025, 4, 2)


def netflix_history() -> list[Txn]:
    # Billed on the 30th; February has no 30th, so the bank bills the 28th. Price rise in February.
    days = [D(2024, 10, 30), D(2024, 11, 30), D(2024, 12, 30), D(2025, 1, 30), D(2025, 2, 28), D(2025, 3, 30)]
    amounts = ["-15.49", "-15.49", "-15.49", "-15.49", "-17.99", "-17.99"]
    return [
        txn(100 + i, day, amount, "NETFLIX.COM 866-579-7172", "NETFLIX.COM", category_id=7)
        for i, (day, amount) in enumerate(zip(days, amounts, strict=True))
    ]


def gym_history() -> list[Txn]:
    mondays = [D(2025, 3, 3) + timedelta(days=7 * i) for i in range(5)]
    return [txn(200 + i, day, "-12.00", "PURE GYM #44") for i, day in enumerate(mondays)]


def salary_history() -> list[Txn]:
    fridays = [D(2025, 1, 3) + timedelta(days=14 * i) for i in range(7)]
    return [txn(300 + i, day, "2500.00", "ACME CORP PAYROLL", account=2) for i, day in enumerate(fridays)]


def groceries_history() -> list[Txn]:
    # Every 2 to 9 days (median gap 7, but few gaps near it) with amounts from 18 to 142.
    gaps = [2, 9, 3, 8, 7, 2, 9, 6, 4, 9, 7]
    amounts = ["-54.10", "-18.00", "-97.35", "-42.00", "-142.80", "-23.45", "-66.00", "-31.20", "-88.90", "-19.99"]
    days = [D(2025, 1, 5)]
    for gap in gaps:
        days.append(days[-1] + timedelta(days=gap))
    return [txn(400 + i, day, amounts[i % len(amounts)], f"WHOLE FOODS MKT #{i}") for i, day in enumerate(days)]


def ended_history() -> list[Txn]:
    # A monthly box that stopped after June 5 2024.
    return [txn(500 + m, D(2024, m, 5), "-29.00", "HELLOFRESH") for m in range(1, 7)]


def all_history() -> list[Txn]:
    return netflix_history() + gym_history() + salary_history() + groceries_history() + ended_history()


def by_key(streams: list[Stream]) -> dict[str, Stream]:
    return {s.merchant_key: s for s in streams}


def test_recurring_netflix_monthly_across_february_is_established_with_next_expected_on_its_day() -> None:
    assert detect_recurring(netflix_history(), TODAY) == [
        Stream(
            merchant_key="netflix",
            display_name="NETFLIX.COM",
            cadence="monthly",
            average_amount=Decimal("-16.32"),
            amount_min=Decimal("-17.99"),
            amount_max=Decimal("-15.49"),
            last_date=D(2025, 3, 30),
            next_expected=D(2025, 4, 30),
            occurrences=6,
            status="established",
            transaction_ids=[100, 101, 102, 103, 104, 105],
            kind="expense",
            anchor_day=30,
            category_id=7,
        )
    ]


def test_recurring_end_of_month_charge_clamps_in_short_months_and_returns_to_the_31st() -> None:
    days = [D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 31), D(2025, 4, 30)]
    txns = [txn(i, day, "-9.99", "ICLOUD") for i, day in enumerate(days)]
    [stream] = detect_recurring(txns, D(2025, 5, 2))
    assert (stream.cadence, stream.anchor_day, stream.next_expected, stream.status) == (
        "monthly",
        31,
        D(2025, 5, 31),
        "established",
    )
    assert [d for _, d in upcoming([stream], D(2025, 5, 2), days=70)] == [D(2025, 5, 31), D(2025, 6, 30)]


def test_recurring_monthly_charge_moved_early_across_a_month_end_is_not_due_the_next_day() -> None:
    days = [D(2025, 1, 1), D(2025, 2, 3), D(2025, 3, 1), D(2025, 3, 31)]
    txns = [txn(i, day, "-50.00", "LANDLORD LLC") for i, day in enumerate(days)]
    [stream] = detect_recurring(txns, D(2025, 4, 2))
    assert (stream.anchor_day, stream.next_expected) == (1, D(2025, 5, 1))


def test_recurring_weekly_gym_is_established_and_due_next_monday() -> None:
    [stream] = detect_recurring(gym_history(), TODAY)
    assert (stream.merchant_key, stream.cadence, stream.status, stream.occurrences) == (
        "pure gym",
        "weekly",
        "established",
        5,
    )
    assert (stream.last_date, stream.next_expected, stream.average_amount) == (
        D(2025, 3, 31),
        D(2025, 4, 7),
        Decimal("-12.00"),
    )


def test_recurring_biweekly_salary_is_an_income_stream() -> None:
    [stream] = detect_recurring(salary_history(), TODAY)
    assert (stream.merchant_key, stream.kind, stream.cadence, stream.status) == (
        "acme corp payroll",
        "income",
        "biweekly",
        "established",
    )
    assert (stream.next_expected, stream.average_amount, stream.occurrences) == (
        D(2025, 4, 11),
        Decimal("2500.00"),
        7,
    )


def test_recurring_yearly_domain_with_two_renewals_is_early() -> None:
    txns = [
        txn(1, D(2023, 6, 10), "-12.00", "NAMECHEAP DOMAIN RENEWAL"),
        txn(2, D(2024, 6, 10), "-14.00", "NAMECHEAP DOMAIN RENEWAL"),
    ]
    [stream] = detect_recurring(txns, D(2025, 1, 15))
    assert (stream.cadence, stream.status, stream.occurrences, stream.next_expected, stream.average_amount) == (
        "yearly",
        "early",
        2,
        D(2025, 6, 10),
        Decimal("-13.00"),
    )


def test_recurring_three_monthly_charges_are_early_and_two_are_not_a_stream() -> None:
    txns = [txn(i, D(2025, m, 12), "-8.00", "NOTION LABS") for i, m in enumerate((1, 2, 3))]
    [stream] = detect_recurring(txns, TODAY)
    assert (stream.status, stream.next_expected) == ("early", D(2025, 4, 12))
    assert detect_recurring(txns[:2], TODAY) == []


def test_recurring_irregular_groceries_are_not_reported() -> None:
    assert detect_recurring(groceries_history(), TODAY) == []


def test_recurring_irregular_spacing_is_rejected_even_with_equal_amounts() -> None:
    same_amount = [txn(t.id, t.posted_on, "-40.00", t.description, t.merchant) for t in groceries_history()]
    assert detect_recurring(same_amount, TODAY) == []


def test_recurring_weekly_spacing_with_scattered_amounts_is_rejected() -> None:
    amounts = ["-20.00", "-95.00", "-41.00", "-130.00", "-62.00", "-15.00"]
    txns = [txn(i, D(2025, 1, 6) + timedelta(days=7 * i), a, "FARMERS MARKET") for i, a in enumerate(amounts)]
    assert detect_recurring(txns, D(2025, 2, 12)) == []


def test_recurring_tolerates_one_odd_amount_from_five_occurrences() -> None:
    amounts = ["-4.17", "-20.00", "-20.00", "-20.00", "-20.00"]
    txns = [
        txn(i, D(2025, m, 2), a, "CLAUDE.AI SUBSCRIPTION")
        for i, (m, a) in enumerate(zip(range(1, 6), amounts, strict=True))
    ]
    [stream] = detect_recurring(txns, D(2025, 5, 10))
    assert (stream.cadence, stream.amount_min, stream.amount_max, stream.average_amount) == (
        "monthly",
        Decimal("-20.00"),
        Decimal("-4.17"),
        Decimal("-16.83"),
    )


def test_recurring_stream_that_stopped_three_months_ago_has_ended() -> None:
    [stream] = detect_recurring(ended_history(), D(2024, 9, 20))
    assert (stream.status, stream.next_expected, stream.occurrences) == ("ended", D(2024, 7, 5), 6)


def test_recurring_stream_is_still_active_on_the_last_day_of_its_grace() -> None:
    [stream] = detect_recurring(ended_history(), D(2024, 7, 15))
    assert stream.status == "established"
    [stream] = detect_recurring(ended_history(), D(2024, 7, 16))
    assert stream.status == "ended"


def test_recurring_ignores_pending_transfers_and_future_dated_transactions() -> None:
    gym = gym_history()
    flagged = [
        txn(t.id, t.posted_on, "-12.00", t.description, pending=(i == 4), is_transfer=(i == 3))
        for i, t in enumerate(gym)
    ]
    [stream] = detect_recurring(flagged, TODAY)
    assert (stream.occurrences, stream.last_date) == (3, D(2025, 3, 17))
    [stream] = detect_recurring(gym, D(2025, 3, 25))
    assert (stream.occurrences, stream.next_expected) == (4, D(2025, 3, 31))


def test_recurring_detects_each_stream_in_mixed_history_sorted_by_next_expected() -> None:
    streams = detect_recurring(all_history(), TODAY)
    assert [(s.merchant_key, s.kind, s.cadence, s.status, s.next_expected) for s in streams] == [
        ("hellofresh", "expense", "monthly", "ended", D(2024, 7, 5)),
        ("pure gym", "expense", "weekly", "established", D(2025, 4, 7)),
        ("acme corp payroll", "income", "biweekly", "established", D(2025, 4, 11)),
        ("netflix", "expense", "monthly", "established", D(2025, 4, 30)),
    ]


def test_upcoming_lists_each_expected_charge_of_active_streams_in_the_next_30_days() -> None:
    streams = detect_recurring(all_history(), TODAY)
    assert [(s.merchant_key, d) for s, d in upcoming(streams, TODAY)] == [
        ("pure gym", D(2025, 4, 7)),
        ("acme corp payroll", D(2025, 4, 11)),
        ("pure gym", D(2025, 4, 14)),
        ("pure gym", D(2025, 4, 21)),
        ("acme corp payroll", D(2025, 4, 25)),
        ("pure gym", D(2025, 4, 28)),
        ("netflix", D(2025, 4, 30)),
    ]


def test_upcoming_keeps_an_overdue_charge_within_its_grace_and_drops_it_after() -> None:
    streams = detect_recurring(gym_history(), TODAY)
    assert [d for _, d in upcoming(streams, D(2025, 4, 9), days=7)] == [D(2025, 4, 7), D(2025, 4, 14)]
    assert upcoming(streams, D(2025, 4, 12), days=7) == []


def test_due_in_period_sums_the_expected_amounts_still_to_come() -> None:
    streams = detect_recurring(all_history(), TODAY)
    expenses = [s for s in streams if s.kind == "expense"]
    # April: gym Apr 7, 14, 21, 28 (4 x -12.00) and Netflix Apr 30 (-16.32).
    assert due_in_period(expenses, D(2025, 4, 1), D(2025, 4, 30), TODAY) == Decimal("-64.32")
    # With income: salary Apr 11 and 25 (2 x 2500.00).
    assert due_in_period(streams, D(2025, 4, 1), D(2025, 4, 30), TODAY) == Decimal("4935.68")
    # A future period: gym May 5, 12, 19, 26, Netflix May 30 (anchor day 30).
    assert due_in_period(expenses, D(2025, 5, 1), D(2025, 5, 31), TODAY) == Decimal("-64.32")
    # On Apr 8, after the Apr 7 gym charge posted: Apr 14, 21, 28 and Netflix remain.
    later = detect_recurring([*all_history(), txn(299, D(2025, 4, 7), "-12.00", "PURE GYM #44")], D(2025, 4, 8))
    later_expenses = [s for s in later if s.kind == "expense"]
    assert due_in_period(later_expenses, D(2025, 4, 1), D(2025, 4, 30), D(2025, 4, 8)) == Decimal("-52.32")


def test_due_in_period_counts_a_charge_due_today_or_overdue_as_today() -> None:
    netflix = detect_recurring(netflix_history(), TODAY)
    assert due_in_period(netflix, D(2025, 4, 1), D(2025, 4, 30), D(2025, 4, 30)) == Decimal("-16.32")
    gym = detect_recurring(gym_history(), TODAY)
    # Apr 7 has not posted by Apr 9 (within the 4-day grace): still expected, plus Apr 14, 21, 28.
    assert due_in_period(gym, D(2025, 4, 1), D(2025, 4, 30), D(2025, 4, 9)) == Decimal("-48.00")
    # Past the grace the stream has ended: nothing more is expected.
    assert due_in_period(gym, D(2025, 4, 1), D(2025, 4, 30), D(2025, 4, 12)) == Decimal("0.00")


def test_due_in_period_ignores_ended_streams_and_empty_periods() -> None:
    ended = detect_recurring(ended_history(), D(2024, 9, 20))
    assert due_in_period(ended, D(2024, 9, 1), D(2024, 12, 31), D(2024, 9, 20)) == Decimal("0.00")
    gym = detect_recurring(gym_history(), TODAY)
    assert due_in_period(gym, D(2025, 4, 8), D(2025, 4, 13), TODAY) == Decimal("0.00")
