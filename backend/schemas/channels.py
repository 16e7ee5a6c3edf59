"""Schemas of /api/channels and /api/notifications."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from backend.schemas.common import Email, Name, PositiveId, RequestModel
from integrations.channels.webhook import RESERVED_HEADERS

ChannelKind = Literal["email", "webhook"]
WebhookFormat = Literal["standard", "slack"]
Recipients = Annotated[list[Email], Field(min_length=1, max_length=20, description="1 to 20 email addresses")]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
HeaderName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")]
HeaderValue = Annotated[str, StringConstraints(max_length=1024)]
Headers = Annotated[
    dict[HeaderName, HeaderValue],
    Field(max_length=10, description="Extra request headers; values are stored encrypted and shown as hints"),
]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    if headers is None:
        return None
    for name, value in headers.items():
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"the header {name} is set by Spendwatch and cannot be overridden")
        if _CONTROL.search(value):
            raise ValueError(f"the value of header {name} must not contain control characters (such as newlines)")
    return headers


class ChannelIn(RequestModel):
    name: Name
    kind: ChannelKind
    recipients: Recipients | None = Field(None, description="email channels: where the messages go")
    url: Url | None = Field(None, description="webhook channels: the endpoint (http or https)")
    format: WebhookFormat | None = Field(None, description="webhook channels: standard (signed JSON) or slack")
    headers: Headers | None = None

    _headers = field_validator("headers")(_check_headers)

    @model_validator(mode="after")
    def _fields_of_kind(self) -> ChannelIn:
        if self.kind == "email":
            if not self.recipients:
                raise ValueError("an email channel needs recipients (1 to 20 addresses)")
            if self.url is not None or self.format is not None or self.headers is not None:
                raise ValueError("an email channel has no url, format or headers")
        else:
            if not self.url:
                raise ValueError("a webhook channel needs a url")
            if self.recipients is not None:
                raise ValueError("a webhook channel has no recipients")
        return self


class ChannelPatch(RequestModel):
    name: Name | None = None
    enabled: bool | None = Field(None, description="true re-enables a channel disabled after a 410")
    recipients: Recipients | None = None
    url: Url | None = None
    format: WebhookFormat | None = None
    headers: Headers | None = Field(None, description="Replaces the set; send a hint back to keep that value")

    _headers = field_validator("headers")(_check_headers)


class ChannelPath(BaseModel):
    channel_id: PositiveId


class NotificationPath(BaseModel):
    notification_id: PositiveId


class ChannelOut(BaseModel):
    id: int
    workspace_id: int
    name: str
    kind: ChannelKind
    enabled: bool
    disabled_reason: str | None
    recipients: list[str] | None = None
    url: str | None = Field(
        None,
        description="webhook channels: the URL's origin and first path segment only (the rest is often the "
        "credential, stored encrypted); sending this hint back in a PATCH keeps the URL",
    )
    format: WebhookFormat | None = None
    headers: dict[str, str] | None = Field(None, description="header names with their values as hints")
    previous_secret_valid_until: dt.datetime | None = Field(
        None, description="during a rotation, until when the previous secret also signs"
    )
    last_error: str | None
    last_delivery_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ChannelCreated(ChannelOut):
    secret: str | None = Field(
        None, description="webhook channels: the signing secret (whsec_…), shown this once and never again"
    )


class ChannelList(BaseModel):
    items: list[ChannelOut]


class SecretRotated(BaseModel):
    secret: str = Field(description="the new signing secret, shown this once")
    previous_secret_valid_until: dt.datetime = Field(description="both secrets sign until then")


class TestOutcome(BaseModel):
    ok: bool
    status_code: int | None = Field(description="HTTP status or SMTP reply code")
    error: str | None
    duration_ms: int
    note: str | None = None
    notification_id: int | None
    message_id: str | None


class DeliveryQuery(BaseModel):
    limit: int = Field(50, ge=1, le=200)
    before: PositiveId | None = Field(None, description="cursor: the next_before of the previous page")


class DeliveryOut(BaseModel):
    id: int
    notification_id: int
    event_id: int
    event_type: str
    message_id: str
    notification_status: Literal["pending", "delivered", "dead"]
    attempted_at: dt.datetime
    ok: bool
    response_code: int | None
    duration_ms: int
    error: str | None


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
    next_before: int | None = Field(description="pass as `before` for older attempts; null on the last page")


class NotificationOut(BaseModel):
    id: int
    event_id: int
    channel_id: int
    message_id: str
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None

    @classmethod
    def of(cls, row: Any) -> NotificationOut:
        return cls.model_validate(row, from_attributes=True)
