"""Schemas of /api/alert-rules: anomaly and sync-health rules (budgets have their own, /api/budgets)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from backend.schemas.common import Name, PositiveId, RequestModel

RuleKind = Literal["anomaly", "sync_health"]
MAX_CHANNELS = 50
MAX_REPEAT_MINUTES = 30 * 24 * 60


class ScopeIn(RequestModel):
    """What a rule watches; every field left out (null) means "any"."""

    provider: str | None = Field(None, min_length=1, max_length=32, description="A provider kind, e.g. openai")
    account_id: PositiveId | None = None
    model: str | None = Field(None, min_length=1, max_length=200, description="Anomaly rules only")
    project: str | None = Field(None, min_length=1, max_length=200, description="Anomaly rules only")


class ScopeOut(BaseModel):
    provider: str | None
    account_id: int | None
    model: str | None
    project: str | None


ChannelIds = Annotated[list[PositiveId], Field(max_length=MAX_CHANNELS, description="Ids of the workspace's channels")]


def _unique(value: list[int] | None) -> list[int] | None:
    if value is not None and len(set(value)) != len(value):
        raise ValueError("channel ids must not repeat")
    return value


class AlertRuleIn(RequestModel):
    name: Name
    kind: RuleKind
    scope: ScopeIn = Field(default_factory=ScopeIn)
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="anomaly: z_threshold (1-20, default 3.5), min_amount (≥ 0, default 5.00), baseline_days "
        "(7-90, default 28), currency (default USD); sync_health: failures (1-100, default 3), stale_hours "
        "(1-720, default 24)",
    )
    channels: ChannelIds = Field(default_factory=list)
    muted: bool = False
    snoozed_until: AwareDatetime | None = Field(None, description="Notify nobody until this time")
    repeat_minutes: int | None = Field(None, ge=1, le=MAX_REPEAT_MINUTES, description="Re-notify while firing")
    notify_on_resolve: bool | None = Field(None, description="Default: true for sync_health, false for anomaly")

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[int] | None) -> list[int] | None:
        return _unique(value)


class AlertRulePatch(RequestModel):
    name: Name | None = None
    scope: ScopeIn | None = Field(None, description="Replaces the whole scope")
    params: dict[str, Any] | None = Field(None, description="Merged into the stored params")
    channels: ChannelIds | None = Field(None, description="Replaces the rule's channels")
    muted: bool | None = None
    snoozed_until: AwareDatetime | None = None
    repeat_minutes: int | None = Field(None, ge=1, le=MAX_REPEAT_MINUTES)
    notify_on_resolve: bool | None = None

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[int] | None) -> list[int] | None:
        return _unique(value)


class AlertRulePath(BaseModel):
    rule_id: PositiveId


class AlertRuleQuery(BaseModel):
    kind: RuleKind | None = None


class RuleStateOut(BaseModel):
    period_key: str = Field(description='The day ("2026-11-21") for anomaly rules, "-" for sync health')
    threshold_key: str = Field(description='"anomaly", or "account:<id>" for sync health')
    state: Literal["ok", "firing"]
    firing: bool
    since: dt.datetime
    value: Decimal | None = Field(description="anomaly: the day's spend; sync health: failures in a row")
    last_notified_at: dt.datetime | None


class AlertRuleOut(BaseModel):
    id: int
    workspace_id: int
    name: str
    kind: RuleKind
    scope: ScopeOut
    params: dict[str, Any]
    channels: list[int]
    muted: bool
    snoozed_until: dt.datetime | None
    repeat_minutes: int | None
    notify_on_resolve: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class AlertRuleDetail(AlertRuleOut):
    firing: bool = Field(description="Whether any of the rule's states is firing")
    states: list[RuleStateOut] = Field(description="Newest periods first (at most 50)")


class AlertRuleList(BaseModel):
    items: list[AlertRuleOut]
