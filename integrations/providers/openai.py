"""OpenAI: the organization Usage and Costs API (Administration API, admin keys only).

Every usage endpoint and the costs endpoint are read in daily buckets, grouped by project, API key and
model, one week at a time. Amounts arrive as JSON numbers in dollars and become `Decimal(str(value))`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
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

LABEL = "OpenAI"
CHUNK = dt.timedelta(days=7)
ADMIN_KEY_HINT = (
    " The usage and costs API needs an organization Admin key (sk-admin-…, from the organization settings"
    " → Admin keys), not a project key."
)

Row = Mapping[str, Any]


_error_message = fields.error_message


def _count(row: Row, key: str, where: str) -> int:
    return fields.count(LABEL, row, key, where)


def _decimal(value: Any, where: str) -> Decimal:
    return fields.decimal(LABEL, value, where)


def _text(row: Row, key: str, where: str) -> str:
    return fields.text(LABEL, row, key, where)


def _quantity(row: Row, key: str, unit: str, where: str) -> dict[str, Any]:
    value = row.get(key)
    if value is None:
        return {}
    return {"quantity": _decimal(value, f"{where}.{key}"), "quantity_unit": unit}


def _dimensions(row: Row, where: str) -> dict[str, Any]:
    return {
        "model": _text(row, "model", where),
        "project": _text(row, "project_id", where),
        "api_key": _text(row, "api_key_id", where),
        "service_tier": _text(row, "service_tier", where),
    }


def _completions(row: Row, where: str) -> dict[str, Any]:
    audio = {key: _count(row, key, where) for key in ("input_audio_tokens", "output_audio_tokens")}
    extra = {key: str(count) for key, count in audio.items() if count}
    return {
        # input_tokens already includes the cached and the cache-write tokens.
        "input_tokens": _count(row, "input_tokens", where),
        "cache_read_tokens": _count(row, "input_cached_tokens", where),
        # OpenAI has one kind of cache write; it is the short-lived (default) one.
        "cache_write_5m_tokens": _count(row, "input_cache_write_tokens", where),
        "output_tokens": _count(row, "output_tokens", where),
        "requests": _count(row, "num_model_requests", where),
        "extra": extra,
    }


def _input_only(row: Row, where: str) -> dict[str, Any]:
    return {"input_tokens": _count(row, "input_tokens", where), "requests": _count(row, "num_model_requests", where)}


def _units(key: str, unit: str) -> Callable[[Row, str], dict[str, Any]]:
    def fields(row: Row, where: str) -> dict[str, Any]:
        return {"requests": _count(row, "num_model_requests", where), **_quantity(row, key, unit, where)}

    return fields


_ALL = ("project_id", "api_key_id", "model")
# endpoint → (group_by, result mapper). Never grouped by user_id or batch: records have no such dimension,
# so those rows would collide on the record's natural key; ungrouped, OpenAI sums them for us.
USAGE_ENDPOINTS: dict[str, tuple[tuple[str, ...], Callable[[Row, str], dict[str, Any]]]] = {
    "completions": ((*_ALL, "service_tier"), _completions),
    "embeddings": (_ALL, _input_only),
    "moderations": (_ALL, _input_only),
    "images": (_ALL, _units("images", "images")),
    "audio_speeches": (_ALL, _units("characters", "characters")),
    "audio_transcriptions": (_ALL, _units("seconds", "seconds")),
    "vector_stores": (("project_id",), _units("usage_bytes", "bytes")),
    "code_interpreter_sessions": (("project_id",), _units("num_sessions", "sessions")),
}
COSTS_GROUP_BY = ("project_id", "line_item", "api_key_id")


def usage_record(endpoint: str, start: dt.datetime, row: Row) -> UsageRecord:
    """One result of a daily bucket of usage ENDPOINT (e.g. "completions") starting at START, as a record.

    Pure (no HTTP): the sync and the ingest benchmark share it. Raises ProviderError on a malformed result.
    """
    fields = USAGE_ENDPOINTS[endpoint][1]
    return UsageRecord(
        bucket_start=start, bucket_width="1d", kind=endpoint, **_dimensions(row, endpoint), **fields(row, endpoint)
    )


_utc_day = fields.utc_day


def _unix(moment: dt.datetime) -> int:
    return int(moment.timestamp())


class OpenAIProvider(Provider):
    kind = "openai"
    label = "OpenAI"
    description = (
        "Token usage and the organization's billed costs from OpenAI's Usage and Costs API, by project, "
        "API key and model. Needs an organization Admin key."
    )
    capabilities = frozenset({Capability.USAGE, Capability.COSTS})
    credential_fields = (
        CredentialField(
            "api_key",
            "Admin key",
            secret=True,
            placeholder="sk-admin-…",
            help=(
                "An organization Admin key (starts with sk-admin-), created under Organization settings → "
                "Admin keys by an organization owner. A project key (sk-proj-…) cannot read usage or costs."
            ),
        ),
    )
    default_base_url = "https://api.openai.com/v1"
    address_overridable = True

    #: Buckets asked for per page (usage 1d: at most 31; costs: at most 180). Tests lower it to see pages.
    page_limit = 7

    # -- plumbing ---------------------------------------------------------------------------------------

    def _key(self) -> str:
        return self.require_credential("api_key", "No OpenAI admin key is configured." + ADMIN_KEY_HINT)

    def _client(self) -> httpx.Client:
        return http.build_client(
            base_url=self.base_url,
            policy=self.outbound,
            headers={"Authorization": f"Bearer {self._key()}"},
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

    def _pages(self, client: httpx.Client, path: str, params: list[tuple[str, str | int]]) -> Iterator[Row]:
        """Every bucket of PATH, following `next_page` in order until `has_more` is false."""
        return http.cursor_pages(lambda page: self._get(client, path, page), path, params, LABEL)

    def _buckets(
        self, client: httpx.Client, path: str, params: list[tuple[str, str | int]]
    ) -> Iterator[tuple[dt.datetime, list[Row]]]:
        """(bucket start, results) for every bucket of PATH."""
        for bucket in self._pages(client, path, params):
            start: Any = bucket.get("start_time")
            http.expect(isinstance(start, int) and not isinstance(start, bool), LABEL, f"{path} bucket start_time")
            results: Any = bucket.get("results")
            http.expect(isinstance(results, list), LABEL, f"{path} bucket has no results list")
            http.expect(all(isinstance(r, dict) for r in results), LABEL, f"{path} has a result that is not an object")
            yield dt.datetime.fromtimestamp(start, tz=dt.UTC), results

    # -- the contract -----------------------------------------------------------------------------------

    def test_connection(self) -> ConnectionResult:
        """Read one day of completions usage: only an admin key may, so a project key fails here."""
        now = dt.datetime.now(dt.UTC)
        params: list[tuple[str, str | int]] = [
            ("start_time", _unix(_utc_day(now) - dt.timedelta(days=1))),
            ("bucket_width", "1d"),
            ("limit", 1),
        ]
        with self._client() as client:
            body = self._get(client, "/organization/usage/completions", params)
        http.expect(isinstance(body, dict) and isinstance(body.get("data"), list), LABEL, "usage has no data list")
        return ConnectionResult(ok=True, message="Connected to OpenAI: the admin key can read usage and costs.")

    def fetch_usage(self, window: SyncWindow) -> Iterator[UsageBatch]:
        """One batch per week of WINDOW: every usage endpoint plus costs, each read to its last page.

        The window starts at its first UTC midnight so each day is one bucket with a stable key: fetching a
        day again replaces that day's records instead of adding a partial second copy.
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
            ("start_time", _unix(chunk.start)),
            ("end_time", _unix(chunk.end)),
            ("bucket_width", "1d"),
        ]
        records: list[UsageRecord] = []
        for endpoint, (group_by, _) in USAGE_ENDPOINTS.items():
            path = f"/organization/usage/{endpoint}"
            params = [*span, ("limit", min(self.page_limit, 31)), *(("group_by", g) for g in group_by)]
            for start, results in self._buckets(client, path, params):
                records.extend(usage_record(endpoint, start, row) for row in results)
        params = [*span, ("limit", min(self.page_limit, 180)), *(("group_by", g) for g in COSTS_GROUP_BY)]
        for start, results in self._buckets(client, "/organization/costs", params):
            for row in results:
                records.append(self._cost(start, row))
        return records

    @staticmethod
    def _cost(start: dt.datetime, row: Row) -> UsageRecord:
        amount: Any = row.get("amount")
        http.expect(isinstance(amount, dict), LABEL, "costs result has no amount object")
        currency = amount.get("currency") or "usd"
        http.expect(isinstance(currency, str), LABEL, "costs amount.currency is not a string")
        quantity = row.get("quantity")
        return UsageRecord(
            bucket_start=start,
            bucket_width="1d",
            kind="cost",
            project=_text(row, "project_id", "costs"),
            api_key=_text(row, "api_key_id", "costs"),
            line_item=_text(row, "line_item", "costs"),  # a free-text label; never parsed
            cost=_decimal(amount.get("value"), "costs amount.value"),
            currency=str(currency).upper(),
            quantity=None if quantity is None else _decimal(quantity, "costs quantity"),
            quantity_unit=_text(row, "quantity_unit", "costs") if quantity is not None else "",
        )
