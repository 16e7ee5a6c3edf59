"""Schemas of /api/accounts and /api/providers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from backend.schemas.common import Name, PositiveId, RequestModel

CredentialValue = Annotated[str, StringConstraints(max_length=4096)]
Status = Literal["new", "ok", "failing", "needs_attention"]


class CredentialFieldOut(BaseModel):
    name: str
    label: str
    secret: bool
    required: bool
    help: str
    placeholder: str


class ProviderKindOut(BaseModel):
    kind: str
    label: str
    category: Literal["ai", "money"]
    description: str
    capabilities: list[str]
    credential_fields: list[CredentialFieldOut]


class ProviderKindList(BaseModel):
    items: list[ProviderKindOut]


class AccountIn(RequestModel):
    kind: str = Field(min_length=1, max_length=32)
    name: Name
    credentials: dict[Annotated[str, StringConstraints(max_length=64)], CredentialValue] = Field(
        description="Fields from the provider's credential_fields; secret ones are stored encrypted"
    )
    config: dict[str, Any] = Field(default_factory=dict)
    sync_interval_minutes: int | None = Field(None, ge=1, le=7 * 24 * 60)


class AccountPatch(RequestModel):
    name: Name | None = None
    credentials: dict[Annotated[str, StringConstraints(max_length=64)], CredentialValue] | None = Field(
        None, description="Send a secret's hint back unchanged to keep the stored value"
    )
    config: dict[str, Any] | None = None
    enabled: bool | None = None
    sync_interval_minutes: int | None = Field(None, ge=1, le=7 * 24 * 60)


class AccountPath(BaseModel):
    account_id: PositiveId


class AccountOut(BaseModel):
    id: int
    workspace_id: int
    kind: str
    name: str
    credentials: dict[str, str] = Field(description="Secret fields shown as hints such as sk-…a1b2")
    config: dict[str, Any]
    enabled: bool
    sync_interval_minutes: int
    status: Status
    last_error: str | None
    last_tested_at: dt.datetime | None
    last_sync_at: dt.datetime | None
    last_success_at: dt.datetime | None
    next_sync_at: dt.datetime | None = Field(
        description="null while the account needs attention or is disabled, and always for manual accounts"
    )
    synced_until: dt.datetime | None = Field(description="usage is complete up to this time")
    notices: list[str] = Field(
        default_factory=list, description="what the source last said about the connection (SimpleFIN errors[])"
    )
    created_at: dt.datetime
    updated_at: dt.datetime


class AccountList(BaseModel):
    items: list[AccountOut]


class ConnectionTestOut(BaseModel):
    ok: bool
    message: str
    status: Status


class SyncRequested(BaseModel):
    account_id: int
    next_sync_at: dt.datetime
    message: str


class SyncRunOut(BaseModel):
    id: int
    trigger: Literal["schedule", "manual"]
    status: Literal["running", "ok", "failed", "abandoned"]
    started_at: dt.datetime
    finished_at: dt.datetime | None
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    records: int
    error: str | None
    error_kind: str | None


class SyncRunList(BaseModel):
    items: list[SyncRunOut]


class SyncRunQuery(BaseModel):
    limit: int = Field(20, ge=1, le=100)
