"""The OpenAI provider against the fake Usage/Costs API over real HTTP (tests/fakes/providers.py)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from integrations.http import RetryPolicy
from integrations.providers import PROVIDERS
from integrations.providers.base import (
    ProviderAuthError,
    ProviderMalformedError,
    ProviderTransientError,
)
from integrations.providers.openai import USAGE_ENDPOINTS, OpenAIProvider
from integrations.records import SyncWindow, UsageBatch, UsageRecord
from tests.fakes.providers import OPENAI_ADMIN_KEY, FakeProviders

DAY = dt.timedelta(days=1)
# endpoint → (raw dataset field, UsageRecord attribute) pairs the client must carry over exactly
METRICS = {
    "completions": [
        ("input_tokens", "input_tokens"),
        ("input_cached_tokens", "cache_read_tokens"),
        ("input_cache_write_tokens", "cache_write_5m_tokens"),
        ("output_tokens", "output_tokens"),
        ("num_model_requests", "requests"),
    ],
    "embeddings": [("input_tokens", "input_tokens"), ("num_model_requests", "requests")],
    "moderations": [("input_tokens", "input_tokens"), ("num_model_requests", "requests")],
    "images": [("images", "quantity"), ("num_model_requests", "requests")],
    "audio_speeches": [("characters", "quantity"), ("num_model_requests", "requests")],
    "audio_transcriptions": [("seconds", "quantity"), ("num_model_requests", "requests")],
    "vector_stores": [("usage_bytes", "quantity")],
    "code_interpreter_sessions": [("num_sessions", "quantity")],
}
UNITS = {
    "images": "images",
    "audio_speeches": "characters",
    "audio_transcriptions": "seconds",
    "vector_stores": "bytes",
    "code_interpreter_sessions": "sessions",
}


def make(fake: FakeProviders, sleeps: list[float] | None = None, *, key: str = OPENAI_ADMIN_KEY, attempts: int = 4):
    sleeps = [] if sleeps is None else sleeps
    return OpenAIProvider(
        {"api_key": key}, base_url=fake.openai_url, retry=RetryPolicy(attempts=attempts, sleep=sleeps.append)
    )


def last_days(fake: FakeProviders, days: int) -> SyncWindow:
    return SyncWindow(fake.dataset.end - days * DAY, fake.dataset.end)


def records(batches: list[UsageBatch], kind: str | None = None) -> list[UsageRecord]:
    return [r for b in batches for r in b.records if kind is None or r.kind == kind]


def total(items: list[UsageRecord], attribute: str) -> int | Decimal:
    values = [getattr(r, attribute) or 0 for r in items]
    return sum(values, Decimal(0)) if attribute in ("quantity", "cost") else sum(values, 0)


def test_registered_with_an_admin_key_form():
    assert PROVIDERS["openai"] is OpenAIProvider
    (field,) = OpenAIProvider.credential_fields
    assert field.name == "api_key" and field.secret and "sk-admin-" in field.help and "project key" in field.help
    assert OpenAIProvider.default_base_url == "https://api.openai.com/v1"
    assert OPENAI_ADMIN_KEY not in repr(OpenAIProvider({"api_key": OPENAI_ADMIN_KEY}))


def test_ninety_days_match_the_dataset_exactly(fake_providers: FakeProviders):
    ds = fake_providers.dataset
    window = last_days(fake_providers, 90)
    batches = list(make(fake_providers).fetch_usage(window))

    # One batch per week, in time order, each complete up to its chunk's end.
    ends = [b.complete_until for b in batches]
    assert ends == [min(window.start + 7 * DAY * (i + 1), window.end) for i in range(13)]
    for batch in batches:
        assert all(batch.complete_until - 7 * DAY <= r.bucket_start < batch.complete_until for r in batch.records)

    for endpoint, pairs in METRICS.items():
        found = records(batches, endpoint)
        assert found, endpoint
        for field, attribute in pairs:
            expected = ds.total("openai", field, window.start, window.end, endpoint=endpoint)
            assert total(found, attribute) == expected, (endpoint, field)
        if endpoint in UNITS:
            assert {r.quantity_unit for r in found} == {UNITS[endpoint]}
        assert all(r.cost is None and r.bucket_width == "1d" for r in found)

    costs = records(batches, "cost")
    assert total(costs, "cost") == ds.openai_cost_total(window.start, window.end)
    assert all(isinstance(r.cost, Decimal) and r.currency == "USD" for r in costs)
    assert all(r.input_tokens == r.output_tokens == r.requests == 0 for r in costs)
    # Grouped by project, line item and API key: one record per raw cost row, each amount exact.
    assert sorted((r.bucket_start, r.project, r.line_item, r.api_key, r.cost) for r in costs) == sorted(
        (row["time"], row["project_id"], row["line_item"], row["api_key_id"] or "", row["amount"])
        for row in ds.openai_costs()
        if window.start <= row["time"] < window.end
    )
    assert fake_providers.max_in_flight == 1
    assert fake_providers.errors == []


def test_usage_is_broken_down_by_model_project_api_key_and_tier(fake_providers: FakeProviders):
    ds = fake_providers.dataset
    window = last_days(fake_providers, 14)
    found = records(list(make(fake_providers).fetch_usage(window)), "completions")
    for model in {r.model for r in found}:
        for tier in ("default", "flex"):
            mine = [r for r in found if r.model == model and r.service_tier == tier]
            expected = ds.total("openai", "output_tokens", window.start, window.end, model=model, service_tier=tier)
            assert total(mine, "output_tokens") == expected
    for key_id, project in ds.openai_api_keys.items():
        mine = [r for r in found if r.api_key == key_id]
        assert {r.project for r in mine} == {project}
        assert total(mine, "input_tokens") == ds.total(
            "openai", "input_tokens", window.start, window.end, api_key_id=key_id
        )
    # Never split by user or batch: each (day, project, key, model, tier) is one record, the natural key.
    keys = [(r.bucket_start, r.project, r.api_key, r.model, r.service_tier) for r in found]
    assert len(keys) == len(set(keys))
    assert all(r.model and r.project and r.api_key and r.service_tier for r in found)
    assert all(r.cache_read_tokens + r.cache_write_5m_tokens <= r.input_tokens for r in found)
    stores = records(list(make(fake_providers).fetch_usage(window)), "vector_stores")
    assert stores and all(r.project and r.model == r.api_key == "" for r in stores)


def test_group_by_is_sent_as_repeated_keys(fake_providers: FakeProviders):
    list(make(fake_providers).fetch_usage(last_days(fake_providers, 3)))
    (completions,) = fake_providers.requests_for("openai", "/usage/completions")
    assert completions.query["group_by"] == ["project_id", "api_key_id", "model", "service_tier"]
    assert "group_by[]" not in completions.query
    assert completions.query["bucket_width"] == ["1d"]
    (costs,) = fake_providers.requests_for("openai", "/organization/costs")
    assert costs.query["group_by"] == ["project_id", "line_item", "api_key_id"]
    (stores,) = fake_providers.requests_for("openai", "/usage/vector_stores")
    assert stores.query["group_by"] == ["project_id"]
    paths = [r.path for r in fake_providers.requests]
    assert paths == [f"/organization/usage/{name}" for name in USAGE_ENDPOINTS] + ["/organization/costs"]
    assert all(r.headers["authorization"] == f"Bearer {OPENAI_ADMIN_KEY}" for r in fake_providers.requests)
    assert all(r.headers["user-agent"].startswith("Spendwatch/") for r in fake_providers.requests)


def test_pages_are_followed_in_order(fake_providers: FakeProviders):
    fake_providers.page_cap = 2  # the server returns at most two buckets per page, whatever limit says
    ds = fake_providers.dataset
    window = last_days(fake_providers, 14)
    batches = list(make(fake_providers).fetch_usage(window))

    log = fake_providers.requests
    completions = [i for i, r in enumerate(log) if r.path.endswith("/completions")]
    assert len(completions) == 8  # two weeks of 7 buckets: 4 pages each
    for week in (completions[:4], completions[4:]):
        assert week == list(range(week[0], week[0] + 4))  # one endpoint's pages back to back
        assert "page" not in log[week[0]].query
        cursors = [log[i].query["page"][0] for i in week[1:]]
        assert all(c.startswith("page_") for c in cursors) and len(set(cursors)) == 3
    assert total(records(batches, "completions"), "input_tokens") == ds.total(
        "openai", "input_tokens", window.start, window.end
    )
    assert total(records(batches, "cost"), "cost") == ds.openai_cost_total(window.start, window.end)


def test_empty_buckets_give_no_records(fake_providers: FakeProviders):
    ds = fake_providers.dataset
    window = last_days(fake_providers, 30)
    found = records(list(make(fake_providers).fetch_usage(window)))
    empty = {d for d in ds.empty_days if window.start.date() <= d < window.end.date()}
    assert empty  # the dataset leaves every 9th day empty: the fake answers those with results: []
    assert not {r.bucket_start.date() for r in found} & empty
    served_days = {r.bucket_start.date() for r in found}
    assert served_days == {d for d in ds.usage_days() if window.start.date() <= d < window.end.date()}


def test_window_starts_at_its_first_utc_midnight(fake_providers: FakeProviders):
    ds = fake_providers.dataset
    day = ds.end - 3 * DAY
    window = SyncWindow(day + dt.timedelta(hours=13, minutes=7), ds.end)
    batches = list(make(fake_providers).fetch_usage(window))
    assert {r.query["start_time"][0] for r in fake_providers.requests} == {str(int(day.timestamp()))}
    assert all(r.bucket_start.time() == dt.time(0) for r in records(batches))
    assert total(records(batches, "completions"), "output_tokens") == ds.total("openai", "output_tokens", day, ds.end)
    assert [b.complete_until for b in batches] == [ds.end]


def test_cost_amounts_are_exact_dollars(fake_providers: FakeProviders):
    day = fake_providers.dataset.end - DAY
    page = {
        "object": "page",
        "data": [
            {
                "object": "bucket",
                "start_time": int(day.timestamp()),
                "end_time": int((day + DAY).timestamp()),
                "results": [
                    {"object": "organization.costs.result", "amount": {"value": 0.06, "currency": "usd"},
                     "line_item": "ft-gpt-4o-2024-08-06, input", "project_id": "proj_a", "api_key_id": None,
                     "organization_id": "org-x", "quantity": None, "quantity_unit": None},
                    {"object": "organization.costs.result",
                     "amount": {"value": 12.3456789012, "currency": "usd"},
                     "line_item": "assistants api | file search", "project_id": None, "api_key_id": "key_b",
                     "quantity": 3, "quantity_unit": "gb_days"},
                ],
            }
        ],
        "has_more": False,
        "next_page": None,
    }  # fmt: skip
    fake_providers.malformed("openai", path_contains="/organization/costs", body=json.dumps(page))
    (batch,) = make(fake_providers).fetch_usage(SyncWindow(day, day + DAY))
    first, second = records([batch], "cost")
    assert first.cost == Decimal("0.06") and str(first.cost) == "0.06"
    assert (first.line_item, first.project, first.api_key, first.currency) == (
        "ft-gpt-4o-2024-08-06, input",
        "proj_a",
        "",
        "USD",
    )
    assert second.cost == Decimal("12.3456789012") and second.quantity == Decimal(3)
    assert second.quantity_unit == "gb_days" and second.line_item == "assistants api | file search"


def test_test_connection_reads_one_bucket_of_completions(fake_providers: FakeProviders):
    result = make(fake_providers).test_connection()
    assert result.ok and "admin key" in result.message
    (request,) = fake_providers.requests
    assert request.path == "/organization/usage/completions"
    assert request.query["limit"] == ["1"]


def test_wrong_key_is_an_auth_error_without_the_key(fake_providers: FakeProviders):
    secret = "sk-admin-not-a-real-key-9876543210"
    with pytest.raises(ProviderAuthError) as exc:
        make(fake_providers, key=secret).test_connection()
    assert "401" in exc.value.message and "Admin key" in exc.value.message
    assert secret not in str(exc.value) and secret not in repr(exc.value)
    with pytest.raises(ProviderAuthError):
        list(make(fake_providers, key=secret).fetch_usage(last_days(fake_providers, 2)))
    assert len(fake_providers.requests) == 2  # auth errors are not retried


def test_a_provider_message_echoing_the_key_is_redacted(fake_providers: FakeProviders):
    body = {"error": {"message": f"Incorrect API key provided: {OPENAI_ADMIN_KEY}.", "type": "x"}}
    fake_providers.fail("openai", 401, body=json.dumps(body))
    with pytest.raises(ProviderAuthError) as exc:
        make(fake_providers).test_connection()
    assert OPENAI_ADMIN_KEY not in str(exc.value) and "[redacted]" in str(exc.value)


def test_a_project_key_is_told_to_use_an_admin_key(fake_providers: FakeProviders):
    with pytest.raises(ProviderAuthError) as exc:
        make(fake_providers, key="sk-proj-abcdefghijklmnop").test_connection()
    assert "403" in exc.value.message
    assert "Admin key" in exc.value.message and "not a project key" in exc.value.message
    assert "sk-proj-abcdefghijklmnop" not in exc.value.message


def test_rate_limit_waits_exactly_retry_after_then_succeeds(fake_providers: FakeProviders):
    sleeps: list[float] = []
    fake_providers.fail("openai", 429, times=2, retry_after="7", path_contains="/organization/costs")
    window = last_days(fake_providers, 7)
    batches = list(make(fake_providers, sleeps).fetch_usage(window))
    assert sleeps == [7.0, 7.0]
    assert total(records(batches, "cost"), "cost") == fake_providers.dataset.openai_cost_total(window.start, window.end)
    assert len(fake_providers.requests_for("openai", "/organization/costs")) == 3


def test_server_errors_are_retried_then_reported_as_transient(fake_providers: FakeProviders):
    sleeps: list[float] = []
    fake_providers.fail("openai", 500, times=1)
    assert make(fake_providers, sleeps).test_connection().ok
    assert len(sleeps) == 1

    sleeps.clear()
    fake_providers.fail("openai", 503, times=10)
    with pytest.raises(ProviderTransientError) as exc:
        make(fake_providers, sleeps, attempts=3).test_connection()
    assert "503" in exc.value.message and "3 attempts" in exc.value.message
    assert len(sleeps) == 2


def test_malformed_page_stores_nothing_of_its_chunk(fake_providers: FakeProviders):
    window = last_days(fake_providers, 14)
    second_week = int((window.start + 7 * DAY).timestamp())
    # The last request of the second week (costs) is cut short: its usage pages were fine, yet no batch.
    fake_providers.malformed("openai", path_contains=f"/organization/costs?start_time={second_week}")
    batches: list[UsageBatch] = []
    with pytest.raises(ProviderMalformedError):
        for batch in make(fake_providers).fetch_usage(window):
            batches.append(batch)
    assert [b.complete_until for b in batches] == [window.start + 7 * DAY]


def test_unexpected_shape_is_malformed(fake_providers: FakeProviders):
    fake_providers.malformed("openai", body='{"object": "page", "data": [{"start_time": "soon", "results": []}]}')
    with pytest.raises(ProviderMalformedError):
        list(make(fake_providers).fetch_usage(last_days(fake_providers, 1)))
    fake_providers.malformed("openai", body='{"object": "page", "data": [], "has_more": true}')
    with pytest.raises(ProviderMalformedError):
        list(make(fake_providers).fetch_usage(last_days(fake_providers, 1)))


def test_an_empty_window_asks_for_nothing(fake_providers: FakeProviders):
    moment = fake_providers.dataset.end - dt.timedelta(hours=3)
    assert list(make(fake_providers).fetch_usage(SyncWindow(moment, moment))) == []
    assert fake_providers.requests == []
