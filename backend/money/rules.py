"""User categorization rules: validating their JSON, matching a transaction, applying rules in order, previews.

Rule JSON (what `parse_rule` accepts and `rule_to_dict` returns; unknown keys are rejected):

    {"id": 7 | null, "position": 0, "match": "all" | "any", "enabled": true,
     "conditions": [
        {"field": "description" | "merchant", "op": "contains" | "equals" | "starts_with" | "regex", "value": "…"},
        {"field": "amount", "min": "-20.00" | null, "max": "-5" | null},
        {"field": "account", "value": [1, 2]},
        {"field": "direction", "value": "in" | "out"}],
     "actions": [
        {"type": "set_category", "category_id": 3},
        {"type": "rename_merchant", "name": "Netflix"},
        {"type": "mark_transfer"},
        {"type": "add_note", "text": "…"}]}

Semantics:
- Text conditions are case-insensitive and ignore runs of whitespace. A condition matches when it matches the raw
  text of the field OR its normalized form (`normalize_merchant`), so "merchant equals netflix" matches
  "NETFLIX.COM 866-579-7172". A merchant condition never looks at the description.
- `amount` bounds are inclusive and apply to the SIGNED amount (money out is negative: "between -20 and -5" is a
  purchase of 5 to 20). Use a `direction` condition for "any amount out"; `in` is amount > 0, `out` amount < 0.
- Python's `re` has no timeout: regex patterns are capped at 200 characters, must compile, must not repeat a
  group that itself repeats ("(a+)+", a heuristic against catastrophic backtracking), and only the first
  500 characters of a text are searched.
- `apply_rules`: enabled rules run in order of (position, id); conditions always see the transaction as given,
  never an earlier rule's changes. Every matching rule applies its actions, but single-valued results are
  "first match wins": the first rule that sets a category decides the category (and `rule_id`), the first
  rename decides the merchant; `mark_transfer` from any matching rule marks it; notes accumulate in rule order
  (duplicates dropped).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

from backend.money.txn import Txn, normalize_merchant

TextField = Literal["description", "merchant"]
TextOp = Literal["contains", "equals", "regex", "starts_with"]
Direction = Literal["in", "out"]
MatchMode = Literal["all", "any"]

TEXT_FIELDS: tuple[TextField, ...] = ("description", "merchant")
TEXT_OPS: tuple[TextOp, ...] = ("contains", "equals", "regex", "starts_with")
# A lookup rather than a cast: turns a validated str into the TextOp literal for mypy.
_TEXT_OP_BY_NAME: dict[str, TextOp] = {op: op for op in TEXT_OPS}
FIELDS = (*TEXT_FIELDS, "amount", "account", "direction")
ACTION_TYPES = ("set_category", "rename_merchant", "mark_transfer", "add_note")
MAX_TEXT = 200
MAX_REGEX = 200
MAX_NOTE = 500
MAX_CONDITIONS = 20
MAX_ACTIONS = 10
MAX_ACCOUNTS = 100
# Bounds the work a slow pattern can do on one transaction; bank descriptions are far shorter.
MAX_MATCH_TEXT = 500
# A group holding an unbounded repetition, itself repeated: "(a+)+", "(\w*\s)*", "(x+){2,}". Crude but catches the
# classic exponential-backtracking shapes; nested groups inside the repeated group are not looked into.
_NESTED_REPEAT = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")


class RuleError(ValueError):
    """Invalid rule JSON: LOC is the dotted path of the offending value ("conditions.0.value"), "" for the root."""

    def __init__(self, loc: str, message: str) -> None:
        super().__init__(f"{loc}: {message}" if loc else message)
        self.loc = loc
        self.message = message


@dataclass(frozen=True)
class TextCondition:
    """FIELD (description or merchant) OP VALUE, case-insensitive."""

    field: TextField
    op: TextOp
    value: str


@dataclass(frozen=True)
class AmountCondition:
    """min <= signed amount <= max; a missing bound is open."""

    min: Decimal | None = None
    max: Decimal | None = None


@dataclass(frozen=True)
class AccountCondition:
    """The transaction is on one of these accounts."""

    account_ids: tuple[int, ...]


@dataclass(frozen=True)
class DirectionCondition:
    """Money in (amount > 0) or out (amount < 0)."""

    direction: Direction


Condition = TextCondition | AmountCondition | AccountCondition | DirectionCondition


@dataclass(frozen=True)
class SetCategory:
    category_id: int


@dataclass(frozen=True)
class RenameMerchant:
    name: str


@dataclass(frozen=True)
class MarkTransfer:
    pass


@dataclass(frozen=True)
class AddNote:
    text: str


Action = SetCategory | RenameMerchant | MarkTransfer | AddNote


@dataclass
class Rule:
    """A user rule; `id` is None until the rule is stored."""

    id: int | None
    position: int
    conditions: list[Condition]
    actions: list[Action]
    match: MatchMode = "all"
    enabled: bool = True


@dataclass
class Outcome:
    """What the rules decided for one transaction; None / False / [] where no rule said anything."""

    category_id: int | None = None
    merchant: str | None = None
    is_transfer: bool = False
    notes: list[str] = dataclasses.field(default_factory=list)
    # The rule that set the category.
    rule_id: int | None = None
    # Every matching rule with an id, in the order they ran.
    matched_rule_ids: list[int] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class Change:
    """One change a rule would make: FIELD is "category_id", "merchant", "is_transfer" or "note"."""

    txn_id: int
    field: str
    before: int | str | bool | None
    after: int | str | bool | None


# --- parsing -------------------------------------------------------------------------------------------------------


def _at(loc: str, key: str | int) -> str:
    return f"{loc}.{key}" if loc else str(key)


def _object(value: object, loc: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RuleError(loc, "must be an object")
    for key in value:
        if key not in allowed:
            raise RuleError(_at(loc, str(key)), "unknown field")
    return value


def _required(data: dict[str, Any], key: str, loc: str) -> Any:
    if data.get(key) is None:
        raise RuleError(_at(loc, key), "required")
    return data[key]


def _one_of(value: object, choices: tuple[str, ...], loc: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise RuleError(loc, f"must be one of {', '.join(choices)}")
    return value


def _text(value: object, loc: str, limit: int) -> str:
    if not isinstance(value, str):
        raise RuleError(loc, "must be a string")
    text = " ".join(value.split())
    if not text:
        raise RuleError(loc, "must not be empty")
    if len(text) > limit:
        raise RuleError(loc, f"at most {limit} characters")
    return text


def _id(value: object, loc: str) -> int:
    # bool is an int subclass: true must not become id 1.
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise RuleError(loc, "must be a positive integer")
    return value


def _decimal(value: object, loc: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RuleError(loc, "must be a number")
    try:
        # str() first: a JSON float 0.1 becomes Decimal("0.1"), not 0.1000000000000000055….
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise RuleError(loc, "must be a number") from None
    if not number.is_finite():
        raise RuleError(loc, "must be a finite number")
    return number


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _regex(value: object, loc: str) -> str:
    if not isinstance(value, str):
        raise RuleError(loc, "must be a string")
    if not value.strip():
        raise RuleError(loc, "must not be empty")
    if len(value) > MAX_REGEX:
        raise RuleError(loc, f"at most {MAX_REGEX} characters")
    try:
        _compile(value)
    except re.error as exc:
        raise RuleError(loc, f"invalid regular expression: {exc}") from None
    except (OverflowError, RecursionError):  # a{99999999999}, or nesting deeper than the compiler allows
        raise RuleError(loc, "invalid regular expression: a repetition count or nesting is too large") from None
    if _NESTED_REPEAT.search(value):
        raise RuleError(loc, "a repeated group containing a repetition, like (a+)+, can take exponential time")
    return value


def _parse_condition(raw: object, loc: str) -> Condition:
    if not isinstance(raw, dict):
        raise RuleError(loc, "must be an object")
    kind = _one_of(raw.get("field"), FIELDS, _at(loc, "field"))
    if kind in TEXT_FIELDS:
        data = _object(raw, loc, ("field", "op", "value"))
        text_field: TextField = "merchant" if kind == "merchant" else "description"
        op = _TEXT_OP_BY_NAME[_one_of(data.get("op"), TEXT_OPS, _at(loc, "op"))]
        value_loc = _at(loc, "value")
        if op == "regex":
            return TextCondition(text_field, op, _regex(_required(data, "value", loc), value_loc))
        return TextCondition(text_field, op, _text(_required(data, "value", loc), value_loc, MAX_TEXT))
    if kind == "amount":
        data = _object(raw, loc, ("field", "min", "max"))
        low = None if data.get("min") is None else _decimal(data["min"], _at(loc, "min"))
        high = None if data.get("max") is None else _decimal(data["max"], _at(loc, "max"))
        if low is None and high is None:
            raise RuleError(loc, "needs min, max or both")
        if low is not None and high is not None and low > high:
            raise RuleError(_at(loc, "max"), "must not be below min")
        return AmountCondition(low, high)
    if kind == "account":
        data = _object(raw, loc, ("field", "value"))
        ids = _required(data, "value", loc)
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_ACCOUNTS:
            raise RuleError(_at(loc, "value"), f"must be a list of 1 to {MAX_ACCOUNTS} account ids")
        return AccountCondition(tuple(sorted({_id(v, _at(_at(loc, "value"), i)) for i, v in enumerate(ids)})))
    data = _object(raw, loc, ("field", "value"))
    direction = _one_of(data.get("value"), ("in", "out"), _at(loc, "value"))
    return DirectionCondition("in" if direction == "in" else "out")


def _parse_action(raw: object, loc: str) -> Action:
    if not isinstance(raw, dict):
        raise RuleError(loc, "must be an object")
    kind = _one_of(raw.get("type"), ACTION_TYPES, _at(loc, "type"))
    if kind == "set_category":
        data = _object(raw, loc, ("type", "category_id"))
        return SetCategory(_id(_required(data, "category_id", loc), _at(loc, "category_id")))
    if kind == "rename_merchant":
        data = _object(raw, loc, ("type", "name"))
        return RenameMerchant(_text(_required(data, "name", loc), _at(loc, "name"), MAX_TEXT))
    if kind == "mark_transfer":
        _object(raw, loc, ("type",))
        return MarkTransfer()
    data = _object(raw, loc, ("type", "text"))
    return AddNote(_text(_required(data, "text", loc), _at(loc, "text"), MAX_NOTE))


def _items(data: dict[str, Any], key: str, limit: int) -> list[Any]:
    items = _required(data, key, "")
    if not isinstance(items, list) or not 1 <= len(items) <= limit:
        raise RuleError(key, f"must be a list of 1 to {limit} items")
    return items


def parse_rule(data: object) -> Rule:
    """Validate user rule JSON (see the module docstring) into a Rule; raises RuleError(loc, message)."""
    rule = _object(data, "", ("id", "position", "match", "enabled", "conditions", "actions"))
    rule_id = None if rule.get("id") is None else _id(rule["id"], "id")
    position = rule.get("position", 0)
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise RuleError("position", "must be an integer >= 0")
    match = _one_of(rule.get("match", "all"), ("all", "any"), "match")
    enabled = rule.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuleError("enabled", "must be true or false")
    raw_conditions = _items(rule, "conditions", MAX_CONDITIONS)
    conditions = [_parse_condition(c, f"conditions.{i}") for i, c in enumerate(raw_conditions)]
    actions: list[Action] = []
    for i, raw in enumerate(_items(rule, "actions", MAX_ACTIONS)):
        action = _parse_action(raw, f"actions.{i}")
        # Two set_category actions in one rule would make "which one wins" a question; notes may repeat.
        if not isinstance(action, AddNote) and any(type(a) is type(action) for a in actions):
            raise RuleError(f"actions.{i}.type", "only one action of this type per rule")
        actions.append(action)
    return Rule(rule_id, position, conditions, actions, "all" if match == "all" else "any", enabled)


def _condition_to_dict(condition: Condition) -> dict[str, Any]:
    if isinstance(condition, TextCondition):
        return {"field": condition.field, "op": condition.op, "value": condition.value}
    if isinstance(condition, AmountCondition):
        return {
            "field": "amount",
            "min": None if condition.min is None else str(condition.min),
            "max": None if condition.max is None else str(condition.max),
        }
    if isinstance(condition, AccountCondition):
        return {"field": "account", "value": list(condition.account_ids)}
    return {"field": "direction", "value": condition.direction}


def _action_to_dict(action: Action) -> dict[str, Any]:
    if isinstance(action, SetCategory):
        return {"type": "set_category", "category_id": action.category_id}
    if isinstance(action, RenameMerchant):
        return {"type": "rename_merchant", "name": action.name}
    if isinstance(action, MarkTransfer):
        return {"type": "mark_transfer"}
    return {"type": "add_note", "text": action.text}


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """The JSON form of RULE; parse_rule(rule_to_dict(rule)) == rule. Amounts are strings."""
    return {
        "id": rule.id,
        "position": rule.position,
        "match": rule.match,
        "enabled": rule.enabled,
        "conditions": [_condition_to_dict(c) for c in rule.conditions],
        "actions": [_action_to_dict(a) for a in rule.actions],
    }


# --- matching ------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _clean(text: str) -> str:
    return " ".join(text[:MAX_MATCH_TEXT].split()).casefold()


def _text_op(op: TextOp, value: str, text: str) -> bool:
    if op == "contains":
        return value in text
    if op == "equals":
        return value == text
    if op == "starts_with":
        return text.startswith(value)
    return _compile(value).search(text[:MAX_MATCH_TEXT]) is not None


def _text_matches(condition: TextCondition, txn: Txn) -> bool:
    raw = txn.merchant if condition.field == "merchant" else txn.description
    op = condition.op
    # Regexes see the text as written (they are case-insensitive themselves); the other ops compare cleaned text.
    value = condition.value if op == "regex" else _clean(condition.value)
    first = raw if op == "regex" else _clean(raw)
    return _text_op(op, value, first) or _text_op(op, value, normalize_merchant(raw))


def _condition_matches(condition: Condition, txn: Txn) -> bool:
    if isinstance(condition, TextCondition):
        return _text_matches(condition, txn)
    if isinstance(condition, AmountCondition):
        return (condition.min is None or txn.amount >= condition.min) and (
            condition.max is None or txn.amount <= condition.max
        )
    if isinstance(condition, AccountCondition):
        return txn.account_id in condition.account_ids
    return txn.amount > 0 if condition.direction == "in" else txn.amount < 0


def matches(rule: Rule, txn: Txn) -> bool:
    """Whether RULE's conditions hold for TXN (all or any of them); ignores `enabled`; no conditions → False."""
    if not rule.conditions:
        return False
    if rule.match == "all":
        return all(_condition_matches(c, txn) for c in rule.conditions)
    return any(_condition_matches(c, txn) for c in rule.conditions)


def _order(rule: Rule) -> tuple[int, bool, int]:
    # Unsaved rules (id None) run after saved ones at the same position.
    return rule.position, rule.id is None, rule.id or 0


def _apply_actions(outcome: Outcome, rule: Rule) -> None:
    """A matching RULE's actions on OUTCOME: first category and first rename win, notes add up."""
    if rule.id is not None:
        outcome.matched_rule_ids.append(rule.id)
    for action in rule.actions:
        if isinstance(action, SetCategory):
            if outcome.category_id is None:
                outcome.category_id = action.category_id
                outcome.rule_id = rule.id
        elif isinstance(action, RenameMerchant):
            if outcome.merchant is None:
                outcome.merchant = action.name
        elif isinstance(action, MarkTransfer):
            outcome.is_transfer = True
        elif action.text not in outcome.notes:
            outcome.notes.append(action.text)


def apply_rules(rules: Iterable[Rule], txn: Txn) -> Outcome:
    """Run the enabled RULES on TXN in (position, id) order; first category and first rename win, notes add up.

    Tests every rule on TXN: for many transactions, build a RuleSet once and call its `apply` (same outcome)."""
    outcome = Outcome()
    for rule in sorted((r for r in rules if r.enabled), key=_order):
        if matches(rule, txn):
            _apply_actions(outcome, rule)
    return outcome


# --- many transactions: a compiled rule set -------------------------------------------------------------------------


class _Substrings:
    """Which of many literals occur in a text, without testing each: a literal of 3+ characters is filed under its
    rarest trigram (among all the literals'), so a text only tests the literals filed under the trigrams it has."""

    def __init__(self, items: Iterable[tuple[str, int]]) -> None:
        items = list(items)
        grams = [_trigrams(literal) for literal, _ in items]
        frequency = Counter(g for found in grams for g in found)
        self.short = [(literal, key) for literal, key in items if len(literal) < 3]
        self.anchors: dict[str, list[tuple[str, int]]] = {}
        for (literal, key), found in zip(items, grams, strict=True):
            if found:
                anchor = min(found, key=lambda g: (frequency[g], g))
                self.anchors.setdefault(anchor, []).append((literal, key))

    def find(self, text: str, into: set[int]) -> None:
        """Add to INTO the key of every literal that occurs in TEXT."""
        for literal, key in self.short:
            if literal in text:
                into.add(key)
        anchors = self.anchors
        if not anchors:
            return
        get = anchors.get
        # Slices, not a set of trigrams: no container per trigram for the garbage collector to track.
        for i in range(len(text) - 2):
            bucket = get(text[i : i + 3])
            if bucket is not None:
                for literal, key in bucket:
                    if literal in text:
                        into.add(key)


def _trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


def _required_literals(items: Any) -> frozenset[str] | None:
    """Lower-case ASCII strings one of which every match of the parsed pattern ITEMS contains (compared with
    lower-cased ASCII text: IGNORECASE matches an ASCII letter only with its ASCII case pair there); None when
    no such set is known. Conservative: only literal runs, non-optional groups and repeats, and alternations."""
    found: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            found.append(frozenset(["".join(run).lower()]))
            run.clear()

    for op, av in items:
        name = str(op)
        if name == "LITERAL" and av < 128:
            run.append(chr(av))
            continue
        flush()
        inner: frozenset[str] | None = None
        if name == "SUBPATTERN":
            inner = _required_literals(av[-1])
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
            inner = _required_literals(av[2])
        elif name == "ATOMIC_GROUP":
            inner = _required_literals(av)
        elif name == "BRANCH":
            options = [_required_literals(branch) for branch in av[1]]
            if options and all(o is not None for o in options):
                inner = frozenset().union(*(o for o in options if o is not None))
        if inner:
            found.append(inner)
    flush()
    if not found:
        return None
    # The most selective: the set whose shortest string is longest, then the smallest set.
    return max(found, key=lambda options: (min(len(o) for o in options), -len(options)))


def _regex_prefilter(pattern: str) -> frozenset[str] | None:
    """_required_literals of PATTERN as compiled (None when it cannot be worked out)."""
    try:
        parsed = re._parser.parse(pattern, re.IGNORECASE)  # type: ignore[attr-defined]
        return _required_literals(list(parsed))
    except Exception:  # a private module: when it changes, the regexes simply run on every text
        return None


# Memoized texts, text pairs and outcomes per RuleSet; a memo starts over past this size (memory stays bounded).
_MEMO_LIMIT = 200_000

Check = Callable[[Decimal, int], bool]  # of a transaction's amount and account id


def _check(condition: Condition) -> Check:
    """A non-text condition as a test of the transaction's amount and account: _condition_matches' test."""
    if isinstance(condition, AmountCondition):
        low, high = condition.min, condition.max
        return lambda amount, _account: (low is None or amount >= low) and (high is None or amount <= high)
    if isinstance(condition, AccountCondition):
        ids = condition.account_ids
        return lambda _amount, account: account in ids
    if isinstance(condition, DirectionCondition):
        if condition.direction == "in":
            return lambda amount, _account: amount > 0
        return lambda amount, _account: amount < 0
    raise TypeError(condition)  # pragma: no cover - text conditions are indexed, never checked one by one


def _combined(any_mode: bool, checks: tuple[Check, ...]) -> Check:
    """One test for a rule's non-text conditions: all of them, or any of them."""
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:  # the usual "amount and direction", without a generator per call
        first, second = checks
        if any_mode:
            return lambda amount, account: first(amount, account) or second(amount, account)
        return lambda amount, account: first(amount, account) and second(amount, account)
    if any_mode:
        return lambda amount, account: any(check(amount, account) for check in checks)
    return lambda amount, account: all(check(amount, account) for check in checks)


class _Plan:
    """The candidate rules of a set of text-condition hits, in order: ENTRIES are (rule index, None when its text
    already decided it matches, else the test of its other conditions). OUTCOMES memoizes the outcome per bitmask
    of which tests held."""

    __slots__ = ("checked", "entries", "outcomes")

    def __init__(self, entries: list[tuple[int, Check | None]]) -> None:
        self.entries = entries
        self.checked = tuple(test for _, test in entries if test is not None)
        self.outcomes: dict[int, Outcome] = {}


class RuleSet:
    """RULES compiled once to categorize many transactions: `apply(txn)` returns exactly `apply_rules(rules, txn)`.

    The rules' text conditions are indexed by their normalized literals (equals and starts_with by dictionary,
    contains by trigram, regexes behind the literals they require), so a text is tested against the few conditions
    that can hold instead of all of them. Which rules a (description, merchant) pair leaves as candidates is worked
    out once per distinct pair; per transaction only the candidates' amount, account and direction conditions run,
    and the outcome of each combination of their results is built once. The rules are read when the set is built:
    build a new one after changing them.
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        # The same order as apply_rules (a stable sort of the enabled rules); a rule without conditions never matches.
        self._rules = [r for r in sorted((r for r in rules if r.enabled), key=_order) if r.conditions]
        self._any: list[bool] = []
        self._need: list[int] = []  # distinct text conditions of the rule
        self._all_checks: list[Check | None] = []  # all its other conditions hold (None: it has none)
        self._any_checks: list[Check | None] = []  # any of them holds
        self._static: list[int] = []  # candidates whatever the text: no text condition, or "any" with others
        self._rules_of: list[list[int]] = []  # text condition id → rules using it
        ids: dict[tuple[str, str, str], int] = {}
        for index, rule in enumerate(self._rules):
            text_ids: list[int] = []
            checks: list[Check] = []
            for condition in rule.conditions:
                if not isinstance(condition, TextCondition):
                    checks.append(_check(condition))
                    continue
                value = condition.value if condition.op == "regex" else _clean(condition.value)
                # As _text_matches reads it: the merchant, else the description.
                key = ("merchant" if condition.field == "merchant" else "description", condition.op, value)
                if key not in ids:
                    ids[key] = len(ids)
                    self._rules_of.append([])
                cid = ids[key]
                if cid not in text_ids:
                    text_ids.append(cid)
                    self._rules_of[cid].append(index)
            any_mode = rule.match != "all"
            self._any.append(any_mode)
            self._need.append(len(text_ids))
            self._all_checks.append(_combined(False, tuple(checks)) if checks else None)
            self._any_checks.append(_combined(True, tuple(checks)) if checks else None)
            if not text_ids or (any_mode and checks):
                self._static.append(index)
        self._fields = {
            name: _FieldIndex([(key, cid) for key, cid in ids.items() if key[0] == name]) for name in TEXT_FIELDS
        }
        self._plans: dict[tuple[str, str], _Plan] = {}  # by (description, merchant)
        self._by_hits: dict[frozenset[int], _Plan] = {}  # texts with the same hits share a plan

    def __len__(self) -> int:
        return len(self._rules)

    def _plan(self, description: str, merchant: str) -> _Plan:
        hits = self._fields["description"].hits(description) | self._fields["merchant"].hits(merchant)
        plan = self._by_hits.get(hits)
        if plan is not None:
            return plan
        counts: dict[int, int] = {}
        for cid in hits:
            for index in self._rules_of[cid]:
                counts[index] = counts.get(index, 0) + 1
        entries: list[tuple[int, Check | None]] = []
        for index, count in counts.items():
            if self._any[index]:  # one text condition holds: matched
                entries.append((index, None))
            elif count == self._need[index]:  # every text condition holds: the others decide
                entries.append((index, self._all_checks[index]))
        for index in self._static:
            if index not in counts:  # no text condition holds (or there is none): the others decide
                entries.append((index, (self._any_checks if self._any[index] else self._all_checks)[index]))
        entries.sort(key=lambda entry: entry[0])
        if len(self._by_hits) >= _MEMO_LIMIT:
            self._by_hits.clear()
        plan = self._by_hits[hits] = _Plan(entries)
        return plan

    def _outcome(self, plan: _Plan, mask: int) -> Outcome:
        outcome = Outcome()
        bit = 1
        for index, test in plan.entries:
            if test is not None:
                held = mask & bit
                bit <<= 1
                if not held:
                    continue
            _apply_actions(outcome, self._rules[index])
        if len(plan.outcomes) >= _MEMO_LIMIT:  # pragma: no cover - 2**17 combinations of checked rules
            plan.outcomes.clear()
        plan.outcomes[mask] = outcome
        return outcome

    def outcome_of(self, description: str, merchant: str, amount: Decimal, account_id: int) -> Outcome:
        """apply() for a transaction given by the only fields rules look at, without building a Txn. The Outcome is
        shared by every transaction with the same result: read it, never change it."""
        key = (description, merchant)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= _MEMO_LIMIT:
                self._plans.clear()
            plan = self._plans[key] = self._plan(description, merchant)
        mask = 0
        bit = 1
        for test in plan.checked:
            if test(amount, account_id):
                mask |= bit
            bit <<= 1
        found = plan.outcomes.get(mask)
        if found is None:
            found = self._outcome(plan, mask)
        return found

    def apply(self, txn: Txn) -> Outcome:
        """What the rules decide for TXN: the same Outcome as apply_rules(rules, txn) (a new object each time)."""
        found = self.outcome_of(txn.description, txn.merchant, txn.amount, txn.account_id)
        return Outcome(
            found.category_id,
            found.merchant,
            found.is_transfer,
            list(found.notes),
            found.rule_id,
            list(found.matched_rule_ids),
        )


class _FieldIndex:
    """One text field's conditions, indexed: `hits(text)` is the ids of those that hold for the text."""

    def __init__(self, conditions: list[tuple[tuple[str, str, str], int]]) -> None:
        self.equals: dict[str, list[int]] = {}
        starts: dict[str, list[int]] = {}
        # One literal index for contains values (key: the condition id, >= 0) and for the literals regexes need
        # (key: -1 - the regex's slot), so that a text is scanned once for both.
        literals: list[tuple[str, int]] = []
        self.regexes: list[tuple[re.Pattern[str], int]] = []
        self.unfiltered: list[int] = []  # regexes without a known required literal: tried on every text
        for (_field, op, value), cid in conditions:
            if op == "equals":
                self.equals.setdefault(value, []).append(cid)
            elif op == "starts_with":
                starts.setdefault(value, []).append(cid)
            elif op == "contains":
                literals.append((value, cid))
            else:
                slot = len(self.regexes)
                self.regexes.append((_compile(value), cid))
                required = _regex_prefilter(value)
                if required is None:
                    self.unfiltered.append(slot)
                else:
                    literals.extend((literal, -1 - slot) for literal in required)
        # starts_with values by their first three characters (shorter ones: tried on every text).
        self.starts_short = [(value, cids) for value, cids in starts.items() if len(value) < 3]
        self.starts: dict[str, list[tuple[str, list[int]]]] = {}
        for value, cids in starts.items():
            if len(value) >= 3:
                self.starts.setdefault(value[:3], []).append((value, cids))
        self.literals = _Substrings(literals)
        self.memo: dict[str, frozenset[int]] = {}

    def hits(self, raw: str) -> frozenset[int]:
        found = self.memo.get(raw)
        if found is None:
            if len(self.memo) >= _MEMO_LIMIT:
                self.memo.clear()
            found = self.memo[raw] = self._hits(raw)
        return found

    def _hits(self, raw: str) -> frozenset[int]:
        # The same texts as _text_matches: the cleaned text (regexes: the raw text) and the merchant key.
        cleaned = _clean(raw)
        key = normalize_merchant(raw)
        in_cleaned: set[int] = set()
        in_key: set[int] = set()
        self.literals.find(cleaned, in_cleaned)
        if key == cleaned:
            in_key = in_cleaned
        else:
            self.literals.find(key, in_key)
        hits = {k for k in in_cleaned if k >= 0}
        hits.update(k for k in in_key if k >= 0)
        for text in (cleaned, key):
            hits.update(self.equals.get(text, ()))
            for value, cids in self.starts_short:
                if text.startswith(value):
                    hits.update(cids)
            for value, cids in self.starts.get(text[:3], ()):
                if text.startswith(value):
                    hits.update(cids)
        if self.regexes:
            searched, key_searched = raw[:MAX_MATCH_TEXT], key[:MAX_MATCH_TEXT]
            if searched.isascii() and key_searched.isascii():
                # A regex can only match where one of its required literals occurs (in lower-cased ASCII text).
                lowered = searched.lower()
                if lowered != cleaned:
                    in_cleaned = set()
                    self.literals.find(lowered, in_cleaned)
                if key_searched != key:
                    in_key = set()
                    self.literals.find(key_searched, in_key)
                slots = set(self.unfiltered)
                slots.update(-1 - k for k in in_cleaned if k < 0)
                slots.update(-1 - k for k in in_key if k < 0)
                tried = sorted(slots)
            else:  # IGNORECASE folds some non-ASCII letters onto ASCII ones (long s, Kelvin sign): no prefilter
                tried = list(range(len(self.regexes)))
            for slot in tried:
                pattern, cid = self.regexes[slot]
                if pattern.search(searched) is not None or pattern.search(key_searched) is not None:
                    hits.add(cid)
        return frozenset(hits)


def preview(rule: Rule, txns: Iterable[Txn]) -> list[Change]:
    """The changes RULE alone would make to TXNS (matching ones, in order; unchanged values left out)."""
    changes: list[Change] = []
    for txn in txns:
        if not matches(rule, txn):
            continue
        for action in rule.actions:
            if isinstance(action, SetCategory):
                if txn.category_id != action.category_id:
                    changes.append(Change(txn.id, "category_id", txn.category_id, action.category_id))
            elif isinstance(action, RenameMerchant):
                if txn.merchant != action.name:
                    changes.append(Change(txn.id, "merchant", txn.merchant, action.name))
            elif isinstance(action, MarkTransfer):
                if not txn.is_transfer:
                    changes.append(Change(txn.id, "is_transfer", False, True))
            else:
                changes.append(Change(txn.id, "note", None, action.text))
    return changes


# How many leading words of a normalized description make the key phrase of a rule built from an example.
EXAMPLE_WORDS = 3


def rule_from_example(txn: Txn, category_id: int) -> dict[str, Any]:
    """Rule JSON putting transactions like TXN into CATEGORY_ID: merchant equals its merchant key, else description
    contains the first EXAMPLE_WORDS words of its normalized description. No id or position: the caller's.
    """
    key = normalize_merchant(txn.merchant)
    if key:
        condition = (
            {"field": "merchant", "op": "equals", "value": key}
            if len(key) <= MAX_TEXT
            else {"field": "merchant", "op": "starts_with", "value": key[:MAX_TEXT].rstrip()}
        )
    else:
        phrase = " ".join(normalize_merchant(txn.description).split()[:EXAMPLE_WORDS])[:MAX_TEXT].rstrip()
        if not phrase:
            raise RuleError("conditions", "the transaction has no merchant or description to build a rule from")
        condition = {"field": "description", "op": "contains", "value": phrase}
    return {
        "match": "all",
        "enabled": True,
        "conditions": [condition],
        "actions": [{"type": "set_category", "category_id": _id(category_id, "actions.0.category_id")}],
    }
