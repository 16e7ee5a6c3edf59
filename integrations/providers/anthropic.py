"""Anthropic: the Admin API's usage report (messages) and cost report.

Usage comes in daily buckets grouped by API key, workspace, model and service tier; costs grouped by
description and workspace. The cost report's `amount` is a decimal string in CENTS: it is divided by 100
(exactly, as a Decimal) before it becomes a record's dollar cost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
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
    ProviderMalformedError,
)
from integrations.records import SyncWindow, UsageBatch, UsageRecord

LABEL = "Anthropic"
API_VERSION = "2023-06-01"
CHUNK = dt.timedelta(days=7)
ADMIN_KEY_HINT = (
    " The usage and cost reports need an Admin API key (sk-ant-admin01-…, from Console → Settings → Admin keys),"
    " not a workspace API key."
)
USAGE_PATH = "/v1/organizations/usage_report/messages"
COST_PATH = "/v1/organizations/cost_report"
USAGE_GROUP_BY = ("api_key_id", "workspace_id", "model", "service_tier")
COST_GROUP_BY = ("description", "workspace_id")

Row = Mapping[str, Any]


_error_message = fields.error_message


def _count(row: Row, key: str, where: str) -> int:
    return fields.count(LABEL, row, key, where)


def _text(row: Row, key: str, where: str) -> str:
    return fields.text(LABEL, row, key, where)


def _nested(row: Row, key: str, where: str) -> Row:
    """An optional nested object (null or absent → {})."""
    value = row.get(key)
    if value is None:
        return {}
    http.expect(isinstance(value, dict), LABEL, f"{where}.{key} is not an object")
    return dict(value)


def _cents_to_dollars(value: Any) -> Decimal:
    """The cost report's amount (a decimal string of cents, e.g. "123.45" = $1.2345) as exact dollars."""
    return fields.decimal(LABEL, value, "cost amount").scaleb(-2)


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any, where: str) -> dt.datetime:
    http.expect(isinstance(value, str), LABEL, f"{where} is not a timestamp")
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ProviderMalformedError(f"{LABEL} sent an unexpected response: {where} is not a timestamp.") from None
    http.expect(moment.tzinfo is not None, LABEL, f"{where} has no time zone")
    return moment.astimezone(dt.UTC)


_utc_day = fields.utc_day


def _usage(start: dt.datetime, row: Row) -> UsageRecord:
    where = "usage result"
    uncached = _count(row, "uncached_input_tokens", where)
    cache_read = _count(row, "cache_read_input_tokens", where)
    creation = _nested(row, "cache_creation", where)  # nested, unlike the Messages API's flat usage
    write_5m = _count(creation, "ephemeral_5m_input_tokens", f"{where}.cache_creation")
    write_1h = _count(creation, "ephemeral_1h_input_tokens", f"{where}.cache_creation")
    tools = _nested(row, "server_tool_use", where)
    searches = None if tools.get("web_search_requests") is None else _count(tools, "web_search_requests", where)
    context_window = _text(row, "context_window", where)
    return UsageRecord(
        bucket_start=start,
        bucket_width="1d",
        kind="messages",
        model=_text(row, "model", where),
        project=_text(row, "workspace_id", where),
        api_key=_text(row, "api_key_id", where),
        service_tier=_text(row, "service_tier", where),
        input_tokens=uncached + cache_read + write_5m + write_1h,  # the total input, cache reads and writes in
        cache_read_tokens=cache_read,
        cache_write_5m_tokens=write_5m,
        cache_write_1h_tokens=write_1h,
        output_tokens=_count(row, "output_tokens", where),
        requests=0,  # the usage report has no request count
        quantity=None
        if searches is None
        else Decimal(_count(tools, "web_search_requests", f"{where}.server_tool_use")),
        quantity_unit="" if searches is None else "web_search_requests",
        extra={"context_window": context_window} if context_window else {},
    )


def _cost(start: dt.datetime, row: Row) -> UsageRecord:
    where = "cost result"
    currency = row.get("currency") or "USD"
    http.expect(isinstance(currency, str), LABEL, f"{where}.currency is not a string")
    extra = {key: _text(row, key, where) for key in ("cost_type", "token_type", "context_window")}
    return UsageRecord(
        bucket_start=start,
        bucket_width="1d",
        kind="cost",
        model=_text(row, "model", where),
        project=_text(row, "workspace_id", where),
        line_item=_text(row, "description", where),  # a free-text label; never parsed
        service_tier=_text(row, "service_tier", where),
        cost=_cents_to_dollars(row.get("amount")),
        currency=str(currency).upper(),
        extra={key: value for key, value in extra.items() if value},
    )


class AnthropicProvider(Provider):
    kind = "anthropic"
    label = "Anthropic"
    description = (
        "Token usage (with prompt-cache reads and writes) and billed costs from Anthropic's Admin API usage and "
        "cost reports, by workspace, API key and model. Needs an Admin API key."
    )
    capabilities = frozenset({Capability.USAGE, Capability.COSTS})
    credential_fields = (
        CredentialField(
            "api_key",
            "Admin API key",
            secret=True,
            placeholder="sk-ant-admin01-…",
            help=(
                "An Admin API key (starts with sk-ant-admin01-), created by an organization admin under "
                "Console → Settings → Admin keys. A regular workspace key (sk-ant-api03-…) cannot read reports."
            ),
        ),
    )
    default_base_url = "https://api.anthropic.com"
    address_overridable = True

    #: Buckets asked for per page (1d: at most 31). Tests lower it to see pagination.
    page_limit = 7

    def _key(self) -> str:
        return self.require_credential("api_key", "No Anthropic admin key is configured." + ADMIN_KEY_HINT)

    def _client(self) -> httpx.Client:
        return http.build_client(
            base_url=self.base_url,
            policy=self.outbound,
            headers={"x-api-key": self._key(), "anthropic-version": API_VERSION},
            transport=self.transport,
        )

    def _get(self, client: httpx.Client, path: str, params: list[tuple[str, str | int]]) -> Any:
        """One GET through the shared retrying seam; errors come back without the key, auth ones with a hint."""
        return http.get_json(
            client,
            path,
            label=LABEL,
            secret=self._key(),
            auth_hint=ADMIN_KEY_HINT,
            params=params,
            retry=self.retry,
            error_message=_error_message,
        )

    def _buckets(
        self, client: httpx.Client, path: str, params: list[tuple[str, str | int]]
    ) -> Iterator[tuple[dt.datetime, list[Row]]]:
        """(bucket start, results) for every bucket of PATH, following `next_page` in order."""
        for bucket in http.cursor_pages(lambda page: self._get(client, path, page), path, params, LABEL):
            results: Any = bucket.get("results")
            http.expect(isinstance(results, list), LABEL, f"{path} bucket has no results list")
            http.expect(all(isinstance(r, dict) for r in results), LABEL, f"{path} has a non-object result")
            yield _parse_time(bucket.get("starting_at"), f"{path} bucket starting_at"), results

    def test_connection(self) -> ConnectionResult:
        """Read one day of the usage report: only an admin key may."""
        today = _utc_day(dt.datetime.now(dt.UTC))
        params: list[tuple[str, str | int]] = [
            ("starting_at", _rfc3339(today - dt.timedelta(days=1))),
            ("ending_at", _rfc3339(today)),
            ("bucket_width", "1d"),
            ("limit", 1),
        ]
        with self._client() as client:
            body = self._get(client, USAGE_PATH, params)
        http.expect(isinstance(body, dict) and isinstance(body.get("data"), list), LABEL, "usage has no data list")
        return ConnectionResult(ok=True, message="Connected to Anthropic: the admin key can read usage and costs.")

    def fetch_usage(self, window: SyncWindow) -> Iterator[UsageBatch]:
        """One batch per week of WINDOW: the usage report and the cost report, each read to its last page.

        The window starts at its first UTC midnight (Anthropic snaps buckets to the day anyway), so each day is
        one bucket with a stable key and fetching it again replaces it.
        """
        if window.start >= window.end:
            return
        days = SyncWindow(_utc_day(window.start), window.end)
        with self._client() as client:
            for chunk in days.chunks(CHUNK):
                records = self._chunk_records(client, chunk)
                yield UsageBatch(records=records, complete_until=chunk.end)

    def _chunk_records(self, client: httpx.Client, chunk: SyncWindow) -> list[UsageRecord]:
        """Every record of CHUNK; raises before returning anything when any page is malformed."""
        span: list[tuple[str, str | int]] = [
            ("starting_at", _rfc3339(chunk.start)),
            ("ending_at", _rfc3339(chunk.end)),
            ("bucket_width", "1d"),
            ("limit", min(self.page_limit, 31)),
        ]
        records: list[UsageRecord] = []
        usage_params = [*span, *(("group_by[]", g) for g in USAGE_GROUP_BY)]
        for start, results in self._buckets(client, USAGE_PATH, usage_params):
            records.extend(_usage(start, row) for row in results)
        cost_params = [*span, *(("group_by[]", g) for g in COST_GROUP_BY)]
        for start, results in self._buckets(client, COST_PATH, cost_params):
            records.extend(_cost(start, row) for row in results)
        return records
