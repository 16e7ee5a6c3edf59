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
    created_at: dt.datetime
    updated_at: dt.datetime


class AccountList(BaseModel):
    items: list[AccountOut]


class ConnectionTestOut(BaseModel):
    ok: bool
    message: str
    status: Status
