"""Schemas of /api/bank-accounts, /api/transactions and /api/analytics."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from backend.schemas.common import Name, PositiveId, RequestModel

# ISO 4217: three letters, stored upper-case.
Currency = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$"),
    Field(description="ISO 4217 code, three letters", examples=["USD"]),
]
# The amount columns are NUMERIC(18, 4) (exact scaled integers on SQLite): 14 digits before the point, 4 after.
Amount = Annotated[
    Decimal,
    Field(
        gt=Decimal("-1e14"),
        lt=Decimal("1e14"),
        decimal_places=4,
        allow_inf_nan=False,
        description='A decimal string such as "-12.34" (at most 4 decimal places); negative = money out',
    ),
]
# Filters are compared with the column in SQL, so they are bound as amounts are (exact on SQLite: scaled integers).
Bound = Annotated[Decimal, Field(gt=Decimal("-1e14"), lt=Decimal("1e14"), decimal_places=4, allow_inf_nan=False)]
# Transaction ids are 64-bit on PostgreSQL.
TransactionId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Institution = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Merchant = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Notes = Annotated[str, StringConstraints(max_length=5000)]
Sort = Literal["-date", "date", "-amount", "amount"]
CategorySource = Literal["rule", "manual", "provider", "learned", "keyword"]
# Manual entries: a sane calendar window (also keeps every backend's date functions happy).
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)
MAX_RANGE_DAYS = 3660


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null (leave the field out to keep it)")
    return value


# --- bank accounts -------------------------------------------------------------------------------------------------


class BankAccountIn(RequestModel):
    name: Name
    currency: Currency
    institution: Institution = ""
    balance: Amount | None = Field(None, description="The current balance, if known")


class BankAccountPatch(RequestModel):
    name: Name | None = None
    institution: Institution | None = None
    balance: Amount | None = Field(None, description="Hand-kept accounts only (synced ones take the bank's)")

    _required = field_validator("name", "institution")(_not_null)


class BankAccountPath(BaseModel):
    bank_account_id: PositiveId


class BankAccountOut(BaseModel):
    id: int
    account_id: int | None = Field(description="The connection it is synced from; null for a hand-kept account")
    name: str
    institution: str
    currency: str
    balance: Decimal | None
    available_balance: Decimal | None
    balance_at: dt.datetime | None
    transaction_count: int
    last_transaction_on: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime


class BankAccountList(BaseModel):
    items: list[BankAccountOut]


class BalanceOut(BaseModel):
    id: int
    account_id: int | None
    name: str
    institution: str
    currency: str
    balance: Decimal | None
    available_balance: Decimal | None
    balance_at: dt.datetime | None


class CurrencyTotal(BaseModel):
    currency: str
    balance: Decimal = Field(description="Sum of the known balances in this currency")
    available_balance: Decimal = Field(description="Sum of the known available balances in this currency")
    accounts: int = Field(description="Accounts in this currency (with or without a known balance)")


class BalancesOut(BaseModel):
    accounts: list[BalanceOut]
    totals: list[CurrencyTotal] = Field(description="Per currency; different currencies are never added")


# --- transactions --------------------------------------------------------------------------------------------------


class TransactionFilters(RequestModel):
    """The filters shared by the list and the export."""

    bank_account_id: PositiveId | None = None
    category_id: PositiveId | None = Field(None, description="This category and its children")
    uncategorized: bool | None = Field(None, description="true: only transactions without a category")
    from_: dt.date | None = Field(None, alias="from", description="First posting date, inclusive")
    to: dt.date | None = Field(None, description="Last posting date, inclusive")
    min_amount: Bound | None = Field(None, description="Signed, inclusive (money out is negative)")
    max_amount: Bound | None = Field(None, description="Signed, inclusive")
    q: str | None = Field(None, min_length=1, max_length=200, description="Text in description, merchant or notes")
    pending: bool | None = None
    is_transfer: bool | None = None
    excluded: bool | None = None
    sort: Sort = Field("-date", description="-date (newest first, the default), date, -amount, amount")

    @model_validator(mode="after")
    def _ranges(self) -> TransactionFilters:
        if self.from_ is not None and self.to is not None and self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        if self.min_amount is not None and self.max_amount is not None and self.max_amount < self.min_amount:
            raise ValueError("max_amount is below min_amount")
        return self


class TransactionsQuery(TransactionFilters):
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, max_length=400, description="next_cursor of the previous page")


class ExportQuery(TransactionFilters):
    format: Literal["csv"] = "csv"


class TransactionPath(BaseModel):
    transaction_id: TransactionId


class TransactionIn(RequestModel):
    bank_account_id: PositiveId
    posted_on: dt.date
    amount: Amount
    currency: Currency | None = Field(None, description="Defaults to the bank account's currency")
    description: Description
    merchant: Merchant = ""
    notes: Notes = ""
    category_id: PositiveId | None = None

    @field_validator("posted_on")
    @classmethod
    def _day(cls, value: dt.date) -> dt.date:
        if not FIRST_DAY <= value <= LAST_DAY:
            raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
        return value


class TransactionPatch(RequestModel):
    category_id: PositiveId | None = Field(None, description="null: uncategorized (a person's choice either way)")
    notes: Notes | None = None
    merchant: Merchant | None = None
    excluded: bool | None = None
    create_rule: bool = Field(False, description="With a category_id: also create a rule for similar transactions")
    apply_to_similar: bool = Field(False, description="With create_rule: apply the new rule to other transactions")

    _required = field_validator("notes", "merchant", "excluded")(_not_null)

    @model_validator(mode="after")
    def _rule_needs_category(self) -> TransactionPatch:
        if self.create_rule and self.category_id is None:
            raise ValueError("create_rule needs a category_id")
        if self.apply_to_similar and not self.create_rule:
            raise ValueError("apply_to_similar needs create_rule")
        return self


class PairIn(RequestModel):
    peer_id: TransactionId


class TransactionOut(BaseModel):
    id: int
    bank_account_id: int
    posted_on: dt.date
    amount: Decimal
    currency: str
    description: str
    merchant: str
    pending: bool
    category_id: int | None
    category_source: CategorySource | None
    category_confidence: Decimal | None
    category_rule_id: int | None
    notes: str
    excluded: bool
    is_transfer: bool
    transfer_peer_id: int | None
    transfer_locked: bool = Field(description="Paired or unpaired by a person: automatic pairing leaves it alone")
    import_id: int | None
    external_id: str
    created_at: dt.datetime


class TransactionPage(BaseModel):
    items: list[TransactionOut]
    next_cursor: str | None


class TransactionDetail(TransactionOut):
    raw: dict[str, Any] = Field(description="The source row, as the bank or the statement gave it")


class TransactionPatched(TransactionDetail):
    created_rule_id: int | None = Field(None, description="The rule create_rule made")
    applied_to: int | None = Field(None, description="How many other transactions the new rule categorized")


# --- analytics -----------------------------------------------------------------------------------------------------


class RangeQuery(RequestModel):
    from_: dt.date = Field(alias="from", description="First posting date, inclusive")
    to: dt.date = Field(description="Last posting date, inclusive")

    @model_validator(mode="after")
    def _range(self) -> RangeQuery:
        if self.to < self.from_:
            raise ValueError("'to' is before 'from'")
        if (self.to - self.from_).days > MAX_RANGE_DAYS:
            raise ValueError(f"the range is limited to {MAX_RANGE_DAYS} days")
        return self


class TopMerchantsQuery(RangeQuery):
    limit: int = Field(10, ge=1, le=100, description="Merchants per currency")


class CategorySpendQuery(RangeQuery):
    interval: Literal["month", "day"] = Field("month", description="One row per category and month, or per day")


class CategorySpend(BaseModel):
    month: str = Field(description="YYYY-MM of the posting date")
    day: dt.date | None = Field(None, description="The posting date, with interval=day; null otherwise")
    currency: str
    category_id: int | None = Field(description="null: uncategorized")
    parent_id: int | None = Field(description="The parent category; null for a top-level one")
    spend: Decimal = Field(description="Money out put directly in this category")
    count: int
    total: Decimal = Field(description="spend plus its children's (a top-level category's roll-up)")
    total_count: int


class SpendingByCategoryOut(BaseModel):
    from_: dt.date = Field(serialization_alias="from")
    to: dt.date
    items: list[CategorySpend]


class MonthFlow(BaseModel):
    month: str = Field(description="YYYY-MM of the posting date")
    currency: str
    income: Decimal
    expense: Decimal
    net: Decimal
    count: int


class IncomeExpenseOut(BaseModel):
    from_: dt.date = Field(serialization_alias="from")
    to: dt.date
    items: list[MonthFlow]


class MerchantSpend(BaseModel):
    merchant: str = Field(description="The merchant, else the description")
    currency: str
    spend: Decimal
    count: int


class TopMerchantsOut(BaseModel):
    from_: dt.date = Field(serialization_alias="from")
    to: dt.date
    items: list[MerchantSpend]
