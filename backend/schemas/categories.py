"""Schemas of /api/categories, /api/rules and /api/recurring."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from backend.schemas.common import Name, PositiveId, RequestModel

CategoryKind = Literal["expense", "income", "transfer"]
CategoryName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Icon = Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)]
Color = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^#[0-9a-fA-F]{6}$")]
Necessity = Annotated[int, Field(ge=1, le=10, description="1 (easy to cut) to 10 (essential)")]
MatchMode = Literal["all", "any"]
MAX_RULES = 1000
# Amounts are strings: two decimals, more only when the bank reported fractions of a cent.
MoneyText = Annotated[str, Field(description="A decimal amount as a string, signed like transactions")]


# --- categories ------------------------------------------------------------------------------------------------


class CategoryIn(RequestModel):
    name: CategoryName
    icon: Icon = ""
    color: Color = "#888888"
    kind: CategoryKind | None = Field(
        None, description="Default: the parent's kind, else expense; a subcategory has its parent's kind"
    )
    necessity: Necessity = 5
    parent_id: PositiveId | None = Field(
        None, description="A top-level category of the workspace (one level of nesting)"
    )


class CategoryPatch(RequestModel):
    name: CategoryName | None = None
    icon: Icon | None = None
    color: Color | None = None
    kind: CategoryKind | None = Field(None, description="Changing a parent's kind changes its subcategories' too")
    necessity: Necessity | None = None
    parent_id: PositiveId | None = Field(None, description="null makes it a top-level category")


class CategoryPath(BaseModel):
    category_id: PositiveId


class CategoryDeleteQuery(RequestModel):
    move_to: str | None = Field(
        None,
        pattern=r"^(none|[1-9][0-9]{0,9})$",
        description="Where its transactions, subcategories, rules and budgets go: another category's id, or `none` "
        "(transactions uncategorized, subcategories become top-level, set_category actions dropped; refused while "
        "budgets use it). Without it, deleting a category in use is a 409 `category_in_use` with the counts.",
    )


class CategoryOut(BaseModel):
    id: int
    key: str | None = Field(description="The default category's key (`groceries`); null for categories people made")
    name: str
    icon: str
    color: str
    kind: CategoryKind
    necessity: int
    parent_id: int | None
    transaction_count: int = Field(description="Transactions in this category itself (not its subcategories)")


class CategoryNode(CategoryOut):
    children: list[CategoryOut]


class CategoryTree(BaseModel):
    items: list[CategoryNode] = Field(description="Top-level categories by name, each with its subcategories")


# --- rules -----------------------------------------------------------------------------------------------------

CONDITIONS_HELP = (
    "1-20 of: {field: description|merchant, op: contains|equals|starts_with|regex, value}, "
    "{field: amount, min?, max?} (signed: money out is negative), {field: account, value: [bank account ids]}, "
    "{field: direction, value: in|out}"
)
ACTIONS_HELP = (
    "1-10 of: {type: set_category, category_id}, {type: rename_merchant, name}, {type: mark_transfer}, "
    "{type: add_note, text}"
)


class RuleIn(RequestModel):
    name: Name
    match: MatchMode = "all"
    conditions: list[dict[str, Any]] = Field(description=CONDITIONS_HELP)
    actions: list[dict[str, Any]] = Field(description=ACTIONS_HELP)
    enabled: bool = True
    position: int | None = Field(None, ge=0, le=MAX_RULES, description="Where it goes in the order; default: last")


class RuleTestIn(RuleIn):
    """An unsaved rule to try: the name is optional."""

    name: Name | None = None  # type: ignore[assignment]


class RulePatch(RequestModel):
    name: Name | None = None
    match: MatchMode | None = None
    conditions: list[dict[str, Any]] | None = Field(None, description=CONDITIONS_HELP)
    actions: list[dict[str, Any]] | None = Field(None, description=ACTIONS_HELP)
    enabled: bool | None = None
    position: int | None = Field(None, ge=0, le=MAX_RULES, description="Moves the rule to this place in the order")


class RulePath(BaseModel):
    txn_rule_id: PositiveId


class RuleOut(BaseModel):
    id: int
    name: str
    position: int
    enabled: bool
    match: MatchMode
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    created_at: dt.datetime
    updated_at: dt.datetime


class RuleList(BaseModel):
    items: list[RuleOut] = Field(description="In the order they run")


class ReorderIn(RequestModel):
    ids: list[PositiveId] = Field(max_length=MAX_RULES, description="Every rule id of the workspace, in the new order")


class ChangeOut(BaseModel):
    transaction_id: int
    posted_on: dt.date
    amount: MoneyText
    currency: str
    description: str
    merchant: str
    field: Literal["category_id", "merchant", "is_transfer", "note"]
    before: int | str | bool | None
    after: int | str | bool | None
    manual: bool = Field(description="A person chose this transaction's category: applying rules leaves it alone")


class RuleTestOut(BaseModel):
    scanned: int = Field(description="Transactions looked at: the workspace's latest 1000 by date")
    matched: int = Field(description="How many of them the rule's conditions match")
    changes: list[ChangeOut] = Field(description="What this rule alone would change, newest transactions first")


class ApplyIn(RequestModel):
    rule_ids: list[PositiveId] | None = Field(
        None, max_length=MAX_RULES, description="Only transactions these rules match; default: all in the range"
    )
    from_: dt.date | None = Field(None, alias="from", description="First posted date, inclusive")
    to: dt.date | None = Field(None, description="Last posted date, inclusive")

    @model_validator(mode="after")
    def _range(self) -> ApplyIn:
        if self.from_ is not None and self.to is not None and self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        return self


class ApplyOut(BaseModel):
    scanned: int = Field(description="Transactions re-categorized (those a person categorized are skipped)")
    changed: int = Field(description="Transactions whose category, merchant, notes or transfer flag changed")


# --- recurring -------------------------------------------------------------------------------------------------


class StreamOut(BaseModel):
    merchant: str = Field(description="The latest transaction's merchant, else its description")
    merchant_key: str
    currency: str
    cadence: Literal["weekly", "biweekly", "monthly", "yearly"]
    kind: Literal["expense", "income"]
    status: Literal["early", "established", "ended"]
    average_amount: MoneyText
    amount_min: MoneyText
    amount_max: MoneyText
    last_date: dt.date
    next_expected: dt.date
    anchor_day: int
    occurrences: int
    category_id: int | None
    bank_account_id: int = Field(description="The account of the latest charge")
    transaction_ids: list[int]


class StreamList(BaseModel):
    today: dt.date = Field(description="The workspace's local date the detection ran for")
    items: list[StreamOut]


class UpcomingQuery(RequestModel):
    days: int = Field(30, ge=1, le=366)


class UpcomingItem(BaseModel):
    date: dt.date = Field(description="Expected date; before today when a charge is overdue (not posted yet)")
    merchant: str
    merchant_key: str
    amount: MoneyText
    currency: str
    cadence: Literal["weekly", "biweekly", "monthly", "yearly"]
    kind: Literal["expense", "income"]
    category_id: int | None


class UpcomingTotal(BaseModel):
    currency: str
    expenses: MoneyText = Field(description="Sum of expected charges (negative)")
    income: MoneyText
    net: MoneyText


class UpcomingOut(BaseModel):
    today: dt.date
    days: int
    items: list[UpcomingItem]
    totals: list[UpcomingTotal] = Field(description="Per currency")
