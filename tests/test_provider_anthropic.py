"""The Anthropic provider against the fake Admin API (usage + cost reports) over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from integrations.http import RetryPolicy
from integrations.providers import PROVIDERS
from integrations.providers.anthropic import AnthropicProvider
from integrations.providers.base import (
    ProviderAuthError,
    ProviderMalformedError,
    ProviderTransientError,
)
from integrations.records import SyncWindow, UsageBatch, UsageRecord
from tests.fakes.providers import ANTHROPIC_ADMIN_KEY, FakeProviders

DAY = dt.timedelta(days=1)
USAGE = "/v1/organizations/usage_report/messages"
COSTS = "/v1/organizations/cost_report"


def make(fake: FakeProviders, sleeps: list[float] | None = None, *, key: str = ANTHROPIC_ADMIN_KEY, attempts: int = 4):
    sleeps = [] if sleeps is None else sleeps
    return AnthropicProvider(
        {"api_key": key}, base_url=fake.anthropic_url, retry=RetryPolicy(attempts=attempts, sleep=sleeps.append)
    )


def last_days(fake: FakeProviders, days: int) -> SyncWindow:
    return SyncWindow(fake.dataset.end - days * DAY, fake.dataset.end)


def records(batches: list[UsageBatch], kind: str | None = None) -> list[UsageRecord]:
    return [r for b in batches for r in b.records if kind is None or r.kind == kind]


def tokens(items: list[UsageRecord], attribute: str) -> int:
    return sum(getattr(r, attribute) for r in items)


def test_registered_with_an_admin_key_form():
    assert PROVIDERS["anthropic"] is AnthropicProvider
    (field,) = AnthropicProvider.credential_fields
    assert field.name == "api_key" and field.secret and "sk-ant-admin01-" in field.help
    assert AnthropicProvider.default_base_url == "https://api.anthropic.com"
    assert ANTHROPIC_ADMIN_KEY not in repr(AnthropicProvider({"api_key": ANTHROPIC_ADMIN_KEY}))


def test_ninety_days_match_the_dataset_exactly(fake_providers: FakeProviders):
    ds = fake_providers.dataset
    window = last_days(fake_providers, 90)
    batches = list(make(fake_providers).fetch_usage(window))
    assert [b.complete_until for b in batches] == [min(window.start + 7 * DAY * (i + 1), window.end) for i in range(13)]

    def raw(field: str) -> int:
        return int(ds.total("anthropic", field, window.start, window.end))

    messages = records(batches, "messages")
    uncached, read = raw("uncached_input_tokens"), raw("cache_read_input_tokens")
    write_5m, write_1h = raw("ephemeral_5m_input_tokens"), raw("ephemeral_1h_input_tokens")
    assert tokens(messages, "input_tokens") == uncached + read + write_5m + write_1h  # the total input
    assert tokens(messages, "cache_read_tokens") == read
    assert tokens(messages, "cache_write_5m_tokens") == write_5m  # nested under cache_creation on the wire
    assert tokens(messages, "cache_write_1h_tokens") == write_1h
    assert write_1h > 0 and write_5m > 0
    assert tokens(messages, "output_tokens") == raw("output_tokens")
    assert sum((r.quantity or 0 for r in messages), Decimal(0)) == raw("web_search_requests")
    assert {r.quantity_unit for r in messages} == {"web_search_requests"}
    assert all(r.requests == 0 and r.cost is None for r in messages)  # no request count in the report

    costs = records(batches, "cost")
    dollars = sum((r.cost or Decimal(0) for r in costs), Decimal(0))
    assert dollars == ds.anthropic_cost_total_usd(window.start, window.end)
    assert (
        dollars == ds.anthropic_cost_total_cents(window.start, window.end) / 100
    )  # cents → dollars, not 100 times more
    assert all(r.currency == "USD" and r.input_tokens == 0 for r in costs)
    assert sorted((r.bucket_start, r.project, r.line_item, r.model, r.service_tier, r.cost) for r in costs) == sorted(
        (
            row["time"],
            row["workspace_id"] or "",
            row["description"],
            row["model"] or "",
            row["service_tier"] or "",
            row["amount_cents"] / 100,
        )
        for row in ds.anthropic_costs()
        if window.start <= row["time"] < window.end
    )
    assert fake_providers.max_in_flight == 1
    assert fake_providers.errors == []


def test_usage_is_broken_down_by_key_workspace_model_and_tier(fake_providers: FakeProviders):
    ds = fake_providers.dataset
    window = last_days(fake_providers, 14)
    messages = records(list(make(fake_providers).fetch_usage(window)), "messages")
    for key_id, workspace in ds.anthropic_api_keys.items():
        mine = [r for r in messages if r.api_key == key_id]
        assert {r.project for r in mine} == {workspace or ""}  # the default workspace has no id
        for tier in ("standard", "batch"):
            expected = ds.total(
                "anthropic", "output_tokens", window.start, window.end, api_key_id=key_id, service_tier=tier
            )
            assert tokens([r for r in mine if r.service_tier == tier], "output_tokens") == expected
    keys = [(r.bucket_start, r.project, r.api_key, r.model, r.service_tier) for r in messages]
    assert len(keys) == len(set(keys))  # context windows are summed, not split into colliding records


def test_group_by_and_headers(fake_providers: FakeProviders):
    list(make(fake_providers).fetch_usage(last_days(fake_providers, 3)))
    usage, costs = fake_providers.requests
    assert usage.path == USAGE and costs.path == COSTS
    assert usage.query["group_by[]"] == ["api_key_id", "workspace_id", "model", "service_tier"]
    assert costs.query["group_by[]"] == ["description", "workspace_id"]
    start = fake_providers.dataset.end - 3 * DAY
    assert usage.query["starting_at"] == [start.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert usage.query["bucket_width"] == ["1d"]
    for request in fake_providers.requests:
        assert request.headers["x-api-key"] == ANTHROPIC_ADMIN_KEY
        assert request.headers["anthropic-version"] == "2023-06-01"
        assert "authorization" not in request.headers


def test_pages_are_followed_in_order(fake_providers: FakeProviders):
    fake_providers.page_cap = 3
    ds = fake_providers.dataset
    window = last_days(fake_providers, 7)
    batches = list(make(fake_providers).fetch_usage(window))
    paths = [r.path for r in fake_providers.requests]
    assert paths == [USAGE] * 3 + [COSTS] * 3
    pages = [r.query.get("page") for r in fake_providers.requests]
    assert pages[0] is None and pages[3] is None and all(p and p[0].startswith("page_") for p in pages[1:3] + pages[4:])
    assert tokens(records(batches, "messages"), "output_tokens") == ds.total(
        "anthropic", "output_tokens", window.start, window.end
    )
    assert sum((r.cost or 0 for r in records(batches, "cost")), Decimal(0)) == ds.anthropic_cost_total_usd(
        window.start, window.end
    )


def test_cost_report_cents_become_exact_dollars(fake_providers: FakeProviders):
    day = fake_providers.dataset.end - DAY
    page = {
        "data": [
            {
                "starting_at": day.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "ending_at": (day + DAY).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "results": [
                    {"amount": "123.78912", "currency": "USD", "cost_type": "tokens",
                     "description": "Claude Sonnet 4 Usage - Input Tokens", "model": "claude-sonnet-4-20250514",
                     "token_type": "uncached_input_tokens", "service_tier": "standard",
                     "context_window": "0-200k", "workspace_id": "wrkspc_01abc"},
                    {"amount": "123.45", "currency": "usd", "cost_type": "web_search",
                     "description": "Web Search Usage", "model": None, "token_type": None, "service_tier": None,
                     "context_window": None, "workspace_id": None},
                    {"amount": "0.0003", "currency": "USD", "description": "Claude Haiku 3.5 Usage - Output Tokens",
                     "workspace_id": None},
                ],
            }
        ],
        "has_more": False,
        "next_page": None,
    }  # fmt: skip
    fake_providers.malformed("anthropic", path_contains="cost_report", body=json.dumps(page))
    (batch,) = make(fake_providers).fetch_usage(SyncWindow(day, day + DAY))
    tokens_row, search_row, tiny = records([batch], "cost")
    assert tokens_row.cost == Decimal("1.2378912") and str(tokens_row.cost) == "1.2378912"
    assert (tokens_row.model, tokens_row.line_item, tokens_row.project, tokens_row.service_tier) == (
        "claude-sonnet-4-20250514",
        "Claude Sonnet 4 Usage - Input Tokens",
        "wrkspc_01abc",
        "standard",
    )
    assert tokens_row.extra == {
        "cost_type": "tokens",
        "token_type": "uncached_input_tokens",
        "context_window": "0-200k",
    }
    assert search_row.cost == Decimal("1.2345") and search_row.currency == "USD"
    assert (search_row.model, search_row.project, search_row.service_tier) == ("", "", "")
    assert tiny.cost == Decimal("0.000003")


def test_test_connection(fake_providers: FakeProviders):
    result = make(fake_providers).test_connection()
    assert result.ok and "admin key" in result.message
    (request,) = fake_providers.requests
    assert request.path == USAGE and request.query["limit"] == ["1"]


def test_wrong_key_is_an_auth_error_without_the_key(fake_providers: FakeProviders):
    secret = "sk-ant-admin01-not-the-right-one-42"
    with pytest.raises(ProviderAuthError) as exc:
        make(fake_providers, key=secret).test_connection()
    assert "401" in exc.value.message and secret not in str(exc.value)
    body = {"type": "error", "error": {"type": "authentication_error", "message": f"bad key {secret}"}}
    fake_providers.fail("anthropic", 401, body=json.dumps(body))
    with pytest.raises(ProviderAuthError) as exc:
        list(make(fake_providers, key=secret).fetch_usage(last_days(fake_providers, 2)))
    assert secret not in str(exc.value) and "[redacted]" in str(exc.value)


def test_a_workspace_key_is_told_to_use_an_admin_key(fake_providers: FakeProviders):
    with pytest.raises(ProviderAuthError) as exc:
        make(fake_providers, key="sk-ant-api03-workspace-key").test_connection()
    assert "403" in exc.value.message and "Admin API key" in exc.value.message
    assert "sk-ant-api03-workspace-key" not in exc.value.message


def test_overloaded_waits_exactly_retry_after_then_succeeds(fake_providers: FakeProviders):
    sleeps: list[float] = []
    fake_providers.fail("anthropic", 529, times=1, retry_after="3")
    fake_providers.fail("anthropic", 429, times=1, retry_after="11", path_contains="cost_report")
    window = last_days(fake_providers, 7)
    batches = list(make(fake_providers, sleeps).fetch_usage(window))
    assert sleeps == [3.0, 11.0]
    assert sum((r.cost or 0 for r in records(batches, "cost")), Decimal(0)) == (
        fake_providers.dataset.anthropic_cost_total_usd(window.start, window.end)
    )


def test_server_errors_give_up_as_transient(fake_providers: FakeProviders):
    sleeps: list[float] = []
    fake_providers.fail("anthropic", 500, times=5)
    with pytest.raises(ProviderTransientError) as exc:
        list(make(fake_providers, sleeps, attempts=4).fetch_usage(last_days(fake_providers, 7)))
    assert "HTTP 500" in exc.value.message and "4 attempts" in exc.value.message
    assert len(sleeps) == 3 and len(fake_providers.requests) == 4


def test_malformed_page_stores_nothing_of_its_chunk(fake_providers: FakeProviders):
    fake_providers.page_cap = 2
    window = last_days(fake_providers, 14)
    second_week = (window.start + 7 * DAY).strftime("%Y-%m-%dT%H%%3A%M%%3A%SZ")
    # The second week's cost report is cut short after all of that week's usage pages were read.
    fake_providers.malformed("anthropic", path_contains=f"cost_report?starting_at={second_week}")
    batches: list[UsageBatch] = []
    with pytest.raises(ProviderMalformedError):
        for batch in make(fake_providers).fetch_usage(window):
            batches.append(batch)
    assert [b.complete_until for b in batches] == [window.start + 7 * DAY]
    assert len(fake_providers.requests_for("anthropic", "usage_report")) == 8  # 4 pages a week, all read


def test_naive_or_missing_bucket_times_are_malformed(fake_providers: FakeProviders):
    body = {"data": [{"starting_at": "2025-08-01T00:00:00", "results": []}], "has_more": False}
    fake_providers.malformed("anthropic", body=json.dumps(body))
    with pytest.raises(ProviderMalformedError):
        list(make(fake_providers).fetch_usage(last_days(fake_providers, 1)))
    body = {"data": [{"starting_at": "2025-08-01T00:00:00Z", "results": [{"cache_creation": 5}]}], "has_more": False}
    fake_providers.malformed("anthropic", body=json.dumps(body))
    with pytest.raises(ProviderMalformedError):
        list(make(fake_providers).fetch_usage(last_days(fake_providers, 1)))
