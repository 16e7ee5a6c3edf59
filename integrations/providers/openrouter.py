"""OpenRouter: daily activity (spend, requests and tokens per model and upstream provider).

`/activity` serves only the last 30 completed UTC days, one date per request. A window reaching further back
is clamped to what is still available, with a warning, rather than failing the sync; today is not served
until it is over.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx

# A module import, not `from integrations.http import …`: integrations.http imports providers.base, which
# loads this package's registry, so the names are looked up when called, not while the modules load.
from integrations import http
from integrations.providers import fields
from integrations.providers.base import (
    Capability,
    ConnectionResult,
    CredentialField,
    Provider,
)
from integrations.records import SyncWindow, UsageBatch, UsageRecord

log = logging.getLogger(__name__)

LABEL = "OpenRouter"
CHUNK = dt.timedelta(days=7)
HISTORY_DAYS = 30
KEY_HINT = " Activity needs a Management (provisioning) key from OpenRouter's settings, not an inference key."

Row = Mapping[str, Any]


_error_message = fields.error_message


def _count(row: Row, key: str) -> int:
    return fields.count(LABEL, row, key, "activity")


def _text(row: Row, key: str) -> str:
    return fields.text(LABEL, row, key, "activity")


def _dollars(value: Any) -> Decimal:
    """`usage` (USD, a JSON number) as the exact Decimal of its text."""
    return Decimal(0) if value is None else fields.decimal(LABEL, value, "activity usage")


_utc_day = fields.utc_day


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _merge(records: list[UsageRecord]) -> list[UsageRecord]:
    """Sum rows that share a record's natural key (e.g. one model served through two endpoints of the same
    provider), so that storing them by that key keeps every dollar instead of the last row."""
    merged: dict[tuple[object, ...], UsageRecord] = {}
    for record in records:
        key = (record.bucket_start, record.model, record.line_item)
        seen = merged.get(key)
        if seen is None:
            merged[key] = record
            continue
        reasoning = int(seen.extra.get("reasoning_tokens", "0")) + int(record.extra.get("reasoning_tokens", "0"))
        merged[key] = replace(
            seen,
            input_tokens=seen.input_tokens + record.input_tokens,
            output_tokens=seen.output_tokens + record.output_tokens,
            requests=seen.requests + record.requests,
            cost=(seen.cost or Decimal(0)) + (record.cost or Decimal(0)),
            extra={**seen.extra, "reasoning_tokens": str(reasoning)} if reasoning else dict(seen.extra),
        )
    return list(merged.values())


class OpenRouterProvider(Provider):
    kind = "openrouter"
    label = "OpenRouter"
    description = (
        "Daily spend, requests and tokens per model and upstream provider from OpenRouter's activity API "
        "(the last 30 completed UTC days). Needs a Management (provisioning) key."
    )
    capabilities = frozenset({Capability.USAGE, Capability.COSTS})
    credential_fields = (
        CredentialField(
            "api_key",
            "Management/provisioning key",
            secret=True,
            placeholder="sk-or-v1-…",
            help=(
                "A Management (provisioning) key from OpenRouter's settings → Management keys. An ordinary "
                "inference key cannot read account activity."
            ),
        ),
    )
    default_base_url = "https://openrouter.ai/api/v1"
    address_overridable = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: What "now" is (the 30-day limit is counted from today, UTC); replaceable in tests.
        self.clock: Callable[[], dt.datetime] = _utc_now
        #: Things the last fetch wants the user to know (e.g. the window was clamped); also logged.
        self.notices: list[str] = []

    def _key(self) -> str:
        return self.require_credential("api_key", "No OpenRouter key is configured." + KEY_HINT)

    def _client(self) -> httpx.Client:
        return http.build_client(
            base_url=self.base_url,
            policy=self.outbound,
            headers={"Authorization": f"Bearer {self._key()}"},
            transport=self.transport,
        )

    def _get(self, client: httpx.Client, path: str, params: list[tuple[str, str]] | None = None) -> Any:
        """One GET through the shared retrying seam; errors come back without the key, auth ones with a hint."""
        return http.get_json(
            client,
            path,
            label=LABEL,
            secret=self._key(),
            auth_hint=KEY_HINT,
            params=params,
            retry=self.retry,
            error_message=_error_message,
        )

    def test_connection(self) -> ConnectionResult:
        """Ask OpenRouter about the key itself (`/key`)."""
        with self._client() as client:
            body = self._get(client, "/key")
        http.expect(isinstance(body, dict) and isinstance(body.get("data"), dict), LABEL, "/key has no data object")
        label = body["data"].get("label")
        named = f" (key {label!r})" if isinstance(label, str) and label and self._key() not in label else ""
        return ConnectionResult(ok=True, message=f"Connected to OpenRouter{named}.")

    def available(self, window: SyncWindow) -> SyncWindow | None:
        """WINDOW in whole UTC days, clamped to the last 30 completed days; None when nothing of it is served."""
        today = _utc_day(self.clock())
        start = max(_utc_day(window.start), today - dt.timedelta(days=HISTORY_DAYS))
        end = min(_utc_day(window.end), today)
        return SyncWindow(start, end) if start < end else None

    def fetch_usage(self, window: SyncWindow) -> Iterator[UsageBatch]:
        """One batch per week of the available part of WINDOW, one `/activity?date=` request per day."""
        self.notices = []
        today = _utc_day(self.clock())
        oldest = today - dt.timedelta(days=HISTORY_DAYS)
        if window.start < oldest:
            notice = (
                f"OpenRouter only serves the last {HISTORY_DAYS} completed UTC days: usage before "
                f"{oldest.date().isoformat()} is no longer available and was skipped."
            )
            self.notices.append(notice)
            log.warning("%s", notice)
        days = self.available(window)
        if days is None:
            if window.end <= oldest:  # entirely too old: nothing will ever come, let the watermark move on
                yield UsageBatch(records=[], complete_until=window.end)
            return  # otherwise only today (not served until it is over)
        with self._client() as client:
            for chunk in days.chunks(CHUNK):
                records: list[UsageRecord] = []
                day = chunk.start
                while day < chunk.end:
                    records.extend(self._day(client, day))
                    day += dt.timedelta(days=1)
                yield UsageBatch(records=_merge(records), complete_until=chunk.end)

    def _day(self, client: httpx.Client, day: dt.datetime) -> list[UsageRecord]:
        date = day.date().isoformat()
        body = self._get(client, "/activity", [("date", date)])
        http.expect(isinstance(body, dict), LABEL, "/activity did not return an object")
        data = body.get("data")
        http.expect(isinstance(data, list), LABEL, "/activity has no data list")
        records = []
        for row in data:
            http.expect(isinstance(row, dict), LABEL, "/activity has a row that is not an object")
            row_date = row.get("date")
            http.expect(row_date is None or isinstance(row_date, str), LABEL, "activity date is not a string")
            if row_date is not None and row_date[:10] != date:
                log.debug("OpenRouter: skipping an activity row of %s in the answer for %s", row_date[:10], date)
                continue  # it belongs to (and is fetched with) its own date
            reasoning = _count(row, "reasoning_tokens")
            records.append(
                UsageRecord(
                    bucket_start=day,
                    bucket_width="1d",
                    kind="activity",
                    model=_text(row, "model"),
                    line_item=_text(row, "provider_name"),  # the upstream provider that served the model
                    input_tokens=_count(row, "prompt_tokens"),
                    output_tokens=_count(row, "completion_tokens"),
                    requests=_count(row, "requests"),
                    cost=_dollars(row.get("usage")),
                    currency="USD",
                    extra={"reasoning_tokens": str(reasoning)} if reasoning else {},
                )
            )
        return records
