"""The OpenRouter provider against the fake activity API over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from integrations.http import RetryPolicy
from integrations.providers import PROVIDERS
from integrations.providers.base import ProviderAuthError, ProviderMalformedError, ProviderTransientError
from integrations.providers.openrouter import OpenRouterProvider
from integrations.records import SyncWindow, UsageBatch, UsageRecord
from tests.fakes.providers import OPENROUTER_KEY, Dataset, FakeProviders

DAY = dt.timedelta(days=1)


def make(fake: FakeProviders, sleeps: list[float] | None = None, *, key: str = OPENROUTER_KEY, attempts: int = 4):
    sleeps = [] if sleeps is None else sleeps
    provider = OpenRouterProvider(
        {"api_key": key}, base_url=fake.openrouter_url, retry=RetryPolicy(attempts=attempts, sleep=sleeps.append)
    )
    now = fake.dataset.end + dt.timedelta(hours=9)  # the fake's "today" is the day that starts at dataset.end
    provider.clock = lambda: now
    return provider


def records(batches: list[UsageBatch]) -> list[UsageRecord]:
    return [r for b in batches for r in b.records]


def dollars(items: list[UsageRecord]) -> Decimal:
    return sum((r.cost or Decimal(0) for r in items), Decimal(0))


def test_registered_with_a_management_key_form():
    assert PROVIDERS["openrouter"] is OpenRouterProvider
    (field,) = OpenRouterProvider.credential_fields
    assert field.name == "api_key" and field.secret and field.label == "Management/provisioning key"
    assert OpenRouterProvider.default_base_url == "https://openrouter.ai/api/v1"
    assert OPENROUTER_KEY not in repr(OpenRouterProvider({"api_key": OPENROUTER_KEY}))


def test_a_ninety_day_window_is_clamped_to_the_last_thirty_days(fake_providers: FakeProviders):
    ds = fake_providers.dataset
    provider = make(fake_providers)
    window = SyncWindow(ds.end - 90 * DAY, ds.end + dt.timedelta(hours=9))  # up to "now", today included
    batches = list(provider.fetch_usage(window))

    oldest = ds.end - 30 * DAY
    assert [r.query["date"] for r in fake_providers.requests] == [[d.isoformat()] for d in ds.openrouter_dates()]
    assert [b.complete_until for b in batches] == [oldest + 7 * DAY * i for i in (1, 2, 3, 4)] + [ds.end]
    assert any("30" in n and oldest.date().isoformat() in n for n in provider.notices)  # said so, did not fail

    found = records(batches)
    assert dollars(found) == ds.openrouter_usage_total(oldest, ds.end)
    for field, attribute in (
        ("requests", "requests"),
        ("prompt_tokens", "input_tokens"),
        ("completion_tokens", "output_tokens"),
    ):
        assert sum(getattr(r, attribute) for r in found) == ds.total("openrouter", field, oldest, ds.end)
    reasoning = sum(int(r.extra.get("reasoning_tokens", "0")) for r in found)
    assert reasoning == ds.total("openrouter", "reasoning_tokens", oldest, ds.end)
    assert all(r.kind == "activity" and r.bucket_width == "1d" and r.currency == "USD" for r in found)
    # One record per (date, model, upstream provider), exact to the cent fraction.
    assert sorted((r.bucket_start.date().isoformat(), r.model, r.line_item, r.cost) for r in found) == sorted(
        (row["date"], row["model"], row["provider_name"], row["usage"])
        for row in ds.openrouter_activity()
        if row["date"] >= oldest.date().isoformat()
    )
    assert {r.line_item for r in found if r.model == "anthropic/claude-sonnet-4"} == {"Anthropic", "Google Vertex"}
    assert fake_providers.max_in_flight == 1
    assert fake_providers.errors == []


def test_rows_that_share_a_record_key_are_summed(fake_providers: FakeProviders):
    fake_providers.dataset = Dataset(scale=3)  # the same model and provider several times a day
    ds = fake_providers.dataset
    window = SyncWindow(ds.end - 7 * DAY, ds.end)
    found = records(list(make(fake_providers).fetch_usage(window)))
    keys = [(r.bucket_start, r.model, r.line_item) for r in found]
    assert len(keys) == len(set(keys))
    assert len(found) < len(ds.rows("openrouter", window.start, window.end))
    assert dollars(found) == ds.openrouter_usage_total(window.start, window.end)
    assert sum(r.requests for r in found) == ds.total("openrouter", "requests", window.start, window.end)


def test_windows_outside_the_thirty_days(fake_providers: FakeProviders):
    ds = fake_providers.dataset
    too_old = SyncWindow(ds.end - 60 * DAY, ds.end - 40 * DAY)
    provider = make(fake_providers)
    assert [(b.records, b.complete_until) for b in provider.fetch_usage(too_old)] == [([], too_old.end)]
    assert provider.notices
    today_only = SyncWindow(ds.end, ds.end + dt.timedelta(hours=9))
    assert list(provider.fetch_usage(today_only)) == []  # today is served once it is over
    assert provider.notices == []
    assert fake_providers.requests == []


def test_a_partial_day_is_left_for_later(fake_providers: FakeProviders):
    ds = fake_providers.dataset
    window = SyncWindow(ds.end - 3 * DAY + dt.timedelta(hours=5), ds.end - DAY + dt.timedelta(hours=2))
    (batch,) = make(fake_providers).fetch_usage(window)
    assert [r.query["date"][0] for r in fake_providers.requests] == [
        (ds.end - 3 * DAY).date().isoformat(),
        (ds.end - 2 * DAY).date().isoformat(),
    ]
    assert batch.complete_until == ds.end - DAY


def test_test_connection_reads_the_key(fake_providers: FakeProviders):
    result = make(fake_providers).test_connection()
    assert result.ok and "OpenRouter" in result.message
    (request,) = fake_providers.requests
    assert request.path == "/key" and request.headers["authorization"] == f"Bearer {OPENROUTER_KEY}"


def test_wrong_key_is_an_auth_error_without_the_key(fake_providers: FakeProviders):
    secret = "sk-or-v1-wrong-key-000000000000"
    with pytest.raises(ProviderAuthError) as exc:
        make(fake_providers, key=secret).test_connection()
    assert "401" in exc.value.message and "Management" in exc.value.message and secret not in str(exc.value)
    fake_providers.fail("openrouter", 401, body=json.dumps({"error": {"code": 401, "message": f"no {secret}"}}))
    with pytest.raises(ProviderAuthError) as exc:
        list(
            make(fake_providers, key=secret).fetch_usage(
                SyncWindow(fake_providers.dataset.end - DAY, fake_providers.dataset.end)
            )
        )
    assert secret not in str(exc.value)


def test_rate_limit_waits_exactly_retry_after_then_succeeds(fake_providers: FakeProviders):
    ds = fake_providers.dataset
    sleeps: list[float] = []
    fake_providers.fail("openrouter", 429, times=2, retry_after="2")
    window = SyncWindow(ds.end - 3 * DAY, ds.end)
    batches = list(make(fake_providers, sleeps).fetch_usage(window))
    assert sleeps == [2.0, 2.0]
    assert dollars(records(batches)) == ds.openrouter_usage_total(window.start, window.end)


def test_server_errors_give_up_as_transient(fake_providers: FakeProviders):
    sleeps: list[float] = []
    fake_providers.fail("openrouter", 502, times=3)
    with pytest.raises(ProviderTransientError):
        make(fake_providers, sleeps, attempts=3).test_connection()
    assert len(sleeps) == 2 and len(fake_providers.requests) == 3


def test_malformed_day_stores_nothing_of_its_chunk(fake_providers: FakeProviders):
    ds = fake_providers.dataset
    window = SyncWindow(ds.end - 14 * DAY, ds.end)
    fake_providers.malformed("openrouter", path_contains=f"date={(ds.end - DAY).date().isoformat()}")
    batches: list[UsageBatch] = []
    with pytest.raises(ProviderMalformedError):
        for batch in make(fake_providers).fetch_usage(window):
            batches.append(batch)
    assert [b.complete_until for b in batches] == [ds.end - 7 * DAY]
    fake_providers.malformed("openrouter", body='{"data": [{"model": "x", "usage": "lots"}]}')
    with pytest.raises(ProviderMalformedError):
        list(make(fake_providers).fetch_usage(SyncWindow(ds.end - DAY, ds.end)))
