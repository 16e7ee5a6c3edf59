"""Schemas of /api/admin."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from backend.schemas.common import Email, RequestModel
from integrations.providers import PROVIDERS


class SmtpOut(BaseModel):
    host: str
    port: int
    security: Literal["none", "starttls", "tls"]
    username: str
    from_address: str
    password: str = Field(description="A hint of the stored password, or empty when none is set")


class SyncIntervalsModel(BaseModel):
    ai_minutes: int = Field(ge=1, le=24 * 60)
    money_minutes: int = Field(ge=15, le=7 * 24 * 60)


class SettingsOut(BaseModel):
    registration_mode: Literal["open", "invite", "closed"]
    sync_intervals: SyncIntervalsModel
    smtp: SmtpOut
    allow_private_webhooks: bool
    base_url: str | None
    provider_urls: dict[str, str] = Field(
        description="API address per provider kind set by the instance admin (the server's "
        "SPENDWATCH_PROVIDER_URL_<KIND> wins over it)"
    )
    updated_at: dt.datetime | None


class SmtpPatch(RequestModel):
    host: str | None = Field(None, max_length=255)
    port: int | None = Field(None, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] | None = None
    username: str | None = Field(None, max_length=255)
    from_address: str | None = Field(None, max_length=320)
    password: str | None = Field(None, max_length=1024, description="Send the hint back to keep; '' clears")


class SyncIntervalsPatch(RequestModel):
    ai_minutes: int | None = Field(None, ge=1, le=24 * 60)
    money_minutes: int | None = Field(None, ge=15, le=7 * 24 * 60)


class SettingsPatch(RequestModel):
    registration_mode: Literal["open", "invite", "closed"] | None = None
    sync_intervals: SyncIntervalsPatch | None = None
    smtp: SmtpPatch | None = None
    allow_private_webhooks: bool | None = None
    base_url: str | None = Field(
        None, max_length=500, description="Public URL of this instance; null or '' falls back to BASE_URL"
    )

    provider_urls: dict[str, str | None] | None = Field(
        None,
        description="API address per provider kind (openai, anthropic, openrouter, plaid) instead of the kind's own, "
        "e.g. a proxy; null or '' removes one. Spendwatch sends that kind's credentials there.",
    )

    @field_validator("provider_urls")
    @classmethod
    def _check_provider_urls(cls, value: dict[str, str | None] | None) -> dict[str, str | None] | None:
        if value is None:
            return None
        kinds = sorted(k for k, p in PROVIDERS.items() if p.address_overridable)
        checked: dict[str, str | None] = {}
        for kind, url in value.items():
            if kind not in kinds:
                raise ValueError(f"{kind[:40]!r} is not a provider kind with an API address: one of {', '.join(kinds)}")
            url = (url or "").strip() or None
            if url is not None and (len(url) > 500 or not re.fullmatch(r"https?://[^\s/@]+(/\S*)?", url)):
                raise ValueError(
                    f"{kind}: must be an http(s) URL without a user name, such as https://proxy.example/v1"
                )
            checked[kind] = url
        return checked

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value.strip()):
            raise ValueError("must be an http(s) URL such as https://spend.example.com")
        return value.strip()


class KeyStatusOut(BaseModel):
    keys: int
    secrets_current: int
    secrets_stale: int
    secrets_unreadable: int = Field(
        description="secrets no configured key opens (a key removed too early): their accounts need attention"
    )


PerMillion = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=20, decimal_places=10)]


class PriceIn(RequestModel):
    provider: str = Field(min_length=1, max_length=32, description="Provider kind, e.g. openai, anthropic, manual")
    model: str = Field(min_length=1, max_length=200)
    valid_from: dt.date = Field(description="First UTC day the price applies to")
    input_per_million: PerMillion
    output_per_million: PerMillion
    cache_read_per_million: PerMillion | None = None
    cache_write_per_million: PerMillion | None = None
    note: str = Field("", max_length=300)


class PriceOut(BaseModel):
    id: int
    provider: str
    model: str
    valid_from: dt.date
    input_per_million: Decimal
    output_per_million: Decimal
    cache_read_per_million: Decimal | None
    cache_write_per_million: Decimal | None
    note: str
    created_at: dt.datetime


class PriceList(BaseModel):
    items: list[PriceOut]


class PricePath(BaseModel):
    price_id: int = Field(ge=1, le=2**31 - 1)


class SmtpTestIn(RequestModel):
    to: Email = Field(description="Who receives the test email")


class SmtpTestOut(BaseModel):
    """How a test email went. A mail server that cannot be reached or refuses is `ok: false` with the reason in
    `error`, not an HTTP error: the request itself was fine."""

    ok: bool
    via: Literal["smtp", "outbox"] = Field(description="outbox: no SMTP host is set; the .eml file was written")
    server: str | None = Field(description='"host:port (security)" tried, null for the outbox')
    status_code: int | None = Field(description="The SMTP reply code, when the server answered")
    error: str | None = Field(description="Why it failed: connection refused, timed out, TLS, login refused…")
    note: str | None = None
    duration_ms: int
