"""Schemas of /api/budgets and /api/alerts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from backend.errors import ErrorResponse
from backend.models.usage import Money
from backend.schemas.common import Name, PositiveId, RequestModel

Period = Literal["day", "week", "month", "quarter", "year"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Basis = Literal["actual", "forecast", "both"]
RuleName = Name  # the common name rule (1-200 characters, trimmed)
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
# Money columns hold 10 decimal places, and at most 922,337,203.6854775807 (SQLite keeps them as scaled 64-bit
# integers; PostgreSQL's NUMERIC(20, 10) is held to the same bound so both accept the same budgets).
Amount = Annotated[Decimal, Field(gt=0, le=Money.limit, decimal_places=10, allow_inf_nan=False)]
MAX_THRESHOLDS = 10


class ThresholdIn(RequestModel):
    type: Literal["percent", "absolute"]
    value: Amount

    @model_validator(mode="after")
    def _percent_range(self) -> ThresholdIn:
        if self.type == "percent" and self.value > 1000:
            raise ValueError("a percentage threshold is at most 1000")
        return self


class ScopeIn(RequestModel):
    """Omitted fields mean any: the whole workspace's AI spend when all are omitted. `category_id` and/or
    `bank_account_id` make it a money budget: spend of bank transactions (not to be mixed with the AI fields)."""

    provider: str | None = Field(None, min_length=1, max_length=32)
    account_id: PositiveId | None = None
    model: str | None = Field(None, min_length=1, max_length=200)
    project: str | None = Field(None, min_length=1, max_length=200)
    category_id: PositiveId | None = Field(None, description="money budget: a category (and its subcategories)")
    bank_account_id: PositiveId | None = Field(None, description="money budget: one bank account")

    # A field validator, not a model one, so that the error's loc names the money field (["scope",
    # "category_id"]) and the web app shows it there; the AI fields are declared first, so info.data has them.
    @field_validator("category_id", "bank_account_id")
    @classmethod
    def _one_kind_of_spend(cls, value: int | None, info: ValidationInfo) -> int | None:
        ai = ("provider", "account_id", "model", "project")
        if value is not None and any(info.data.get(name) is not None for name in ai):
            raise ValueError(
                "a budget counts AI spend (provider, account, model, project) or bank spending "
                "(category, bank account), not both"
            )
        return value


def _unique_thresholds(value: list[ThresholdIn] | None) -> list[ThresholdIn] | None:
    if value is not None:
        seen = {(t.type, t.value.normalize()) for t in value}
        if len(seen) != len(value):
            raise ValueError("thresholds must not repeat")
    return value


class BudgetIn(RequestModel):
    name: RuleName
    scope: ScopeIn = Field(default_factory=ScopeIn)
    period: Period = "month"
    week_start: Weekday = Field("monday", description="First day of the week of weekly budgets")
    amount: Amount
    currency: Currency = "USD"
    thresholds: list[ThresholdIn] | None = Field(
        None, max_length=MAX_THRESHOLDS, description="Default 50, 80 and 100 %; at most 10"
    )
    basis: Basis = "actual"
    channels: list[PositiveId] = Field(default_factory=list, max_length=50)
    muted: bool = False
    snoozed_until: AwareDatetime | None = None
    repeat_minutes: int | None = Field(None, ge=1, le=60 * 24 * 31)
    notify_on_resolve: bool = False

    _thresholds = field_validator("thresholds")(_unique_thresholds)


class BudgetPatch(RequestModel):
    name: RuleName | None = None
    scope: ScopeIn | None = None
    period: Period | None = None
    week_start: Weekday | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    thresholds: list[ThresholdIn] | None = Field(None, max_length=MAX_THRESHOLDS)
    basis: Basis | None = None
    channels: list[PositiveId] | None = Field(None, max_length=50)
    muted: bool | None = None
    snoozed_until: AwareDatetime | None = Field(None, description="null ends a snooze")
    repeat_minutes: int | None = Field(None, ge=1, le=60 * 24 * 31, description="null: never re-notify")
    notify_on_resolve: bool | None = None

    _thresholds = field_validator("thresholds")(_unique_thresholds)


class BudgetPath(BaseModel):
    rule_id: PositiveId


class ThresholdOut(BaseModel):
    type: Literal["percent", "absolute"]
    value: str


class ScopeOut(BaseModel):
    provider: str | None
    account_id: int | None
    model: str | None
    project: str | None
    category_id: int | None = None
    bank_account_id: int | None = None


class BudgetOut(BaseModel):
    id: int
    workspace_id: int
    name: str
    scope: ScopeOut
    period: Period
    week_start: Weekday
    amount: Decimal
    currency: str
    thresholds: list[ThresholdOut]
    basis: Basis
    channels: list[int]
    muted: bool
    snoozed_until: dt.datetime | None
    repeat_minutes: int | None
    notify_on_resolve: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class PeriodOut(BaseModel):
    key: str
    start: dt.date
    end: dt.date
    timezone: str


class ThresholdStateOut(BaseModel):
    type: Literal["percent", "absolute"]
    value: str
    basis: Literal["actual", "forecast"]
    key: str
    level: Decimal = Field(description="The spend at which it fires")
    state: Literal["ok", "firing"]
    since: dt.datetime | None = Field(description="When it entered this state (null: ok since the period began)")


class BudgetStatus(BaseModel):
    period: PeriodOut
    spent: Decimal
    remaining: Decimal
    percent: Decimal
    forecast: Decimal
    thresholds: list[ThresholdStateOut]


class BudgetDetail(BudgetOut):
    status: BudgetStatus


class BudgetList(BaseModel):
    items: list[BudgetDetail] = Field(
        description="Each budget with its current `status` (the same as GET /api/budgets/{id}), computed for all of "
        "them together: one spend query per period group"
    )


class MuteQuery(BaseModel):
    token: str = Field(min_length=1, max_length=500)


# The mute link answers browsers with a small page and clients that ask for JSON (Accept) with JSON.
HTML_PAGE: dict[str, Any] = {"content": {"text/html": {"schema": {"type": "string"}}}}


class MuteOut(BaseModel):
    model_config = ConfigDict(openapi_extra=HTML_PAGE)  # type: ignore[typeddict-unknown-key]

    rule_id: int
    name: str
    muted: bool
    message: str


class MuteRefused(ErrorResponse):
    """403 `bad_token`: the link is invalid, expired or revoked (an HTML page for browsers)."""

    model_config = ConfigDict(openapi_extra=HTML_PAGE)  # type: ignore[typeddict-unknown-key]


class AlertsQuery(BaseModel):
    rule_id: PositiveId | None = None
    type: str | None = Field(None, max_length=40, description="e.g. budget.threshold_crossed; `test` lists test sends")
    state: Literal["firing", "resolved"] | None = None
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, max_length=40, description="next_cursor of the previous page")


class AlertPath(BaseModel):
    alert_id: PositiveId


class NotificationOut(BaseModel):
    id: int
    channel_id: int
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


class AlertOut(BaseModel):
    id: int
    rule_id: int | None
    type: str
    state: str
    period_key: str
    threshold_key: str
    silenced: str | None = Field(description="muted | snoozed: recorded without notifying anyone")
    created_at: dt.datetime
    notifications: dict[str, int] = Field(description="How many of its notifications are in each status")


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None


class AlertDetail(AlertOut):
    payload: dict[str, Any]
    deliveries: list[NotificationOut]


class AffordIn(RequestModel):
    """Can I afford AMOUNT in this category (and bank account) without breaking a budget?"""

    category_id: PositiveId | None = None
    bank_account_id: PositiveId | None = None
    amount: Amount
    currency: Currency = "USD"

    @model_validator(mode="after")
    def _something_to_check(self) -> AffordIn:
        if self.category_id is None and self.bank_account_id is None:
            raise ValueError("give a category_id, a bank_account_id or both")
        return self


class CrossingOut(BaseModel):
    key: str
    type: Literal["percent", "absolute"]
    value: str
    basis: Literal["actual", "forecast"]
    level: Decimal


class AffordBudgetOut(BaseModel):
    id: int
    name: str
    period: PeriodOut
    amount: Decimal
    spent: Decimal
    remaining: Decimal = Field(description="before the purchase (never below 0)")
    remaining_after: Decimal = Field(description="after the purchase (negative: over budget)")
    percent_after: Decimal
    fits: bool
    would_cross: list[CrossingOut] = Field(description="thresholds now ok that the purchase would make fire")


class AffordOut(BaseModel):
    fits: bool = Field(description="true when no budget covering it would go over")
    amount: Decimal
    currency: str
    budgets: list[AffordBudgetOut]
    message: str
