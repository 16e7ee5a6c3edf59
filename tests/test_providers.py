"""The provider registry and the demo provider (no network)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from integrations.providers import PROVIDERS, get_provider
from integrations.providers.base import Provider, ProviderAuthError
from integrations.providers.demo import DemoProvider
from integrations.records import SyncWindow

WINDOW = SyncWindow(dt.datetime(2026, 10, 1, tzinfo=dt.UTC), dt.datetime(2026, 10, 4, tzinfo=dt.UTC))


def test_registry_is_keyed_by_kind():
    assert PROVIDERS["demo"] is DemoProvider
    assert set(PROVIDERS) == {"demo", "openai", "anthropic", "openrouter", "manual", "simplefin", "plaid"}
    assert get_provider("demo") is DemoProvider
    assert get_provider("nope") is None
    for kind, cls in PROVIDERS.items():
        # Every kind that syncs needs credentials; manual entries have nothing to connect to.
        assert issubclass(cls, Provider) and cls.kind == kind and (bool(cls.credential_fields) == cls.syncs)


def test_credential_validation():
    assert DemoProvider.validate_credentials({"api_key": "demo-1"}) == {}
    assert DemoProvider.validate_credentials({}) == {"api_key": "is required"}
    assert DemoProvider.validate_credentials({"api_key": "  "}) == {"api_key": "is required"}
    assert DemoProvider.validate_credentials({"api_key": "demo-1", "x": "y"}) == {
        "x": "unknown field for this provider"
    }


def test_demo_connection():
    assert DemoProvider({"api_key": "demo-abc"}).test_connection().ok is True
    with pytest.raises(ProviderAuthError) as exc:
        DemoProvider({"api_key": "sk-live-secret"}).test_connection()
    assert "sk-live-secret" not in str(exc.value)
    assert "sk-live-secret" not in repr(DemoProvider({"api_key": "sk-live-secret"}))


def test_demo_usage_is_deterministic_decimal_and_daily():
    batches = list(DemoProvider({"api_key": "demo-abc"}).fetch_usage(WINDOW))
    again = list(DemoProvider({"api_key": "demo-other"}).fetch_usage(WINDOW))
    assert batches == again
    assert len(batches) == 3  # one batch per day of the window
    assert [b.complete_until.day for b in batches] == [2, 3, 4]
    records = [r for batch in batches for r in batch.records]
    assert len(records) == 3 * 3 * 2  # days * models * projects
    assert all(isinstance(r.cost, Decimal) and r.cost > 0 for r in records)
    assert all(r.bucket_start.tzinfo is not None and r.bucket_width == "1d" for r in records)
    # The cost is the stated per-million rates applied to the tokens.
    large = next(r for r in records if r.model == "demo-large")
    assert (
        large.cost
        == (Decimal(large.input_tokens) * Decimal("2.50") + Decimal(large.output_tokens) * Decimal("10.00")) / 1_000_000
    )
    assert {r.kind for r in records} == {"completions", "embeddings"}


def test_window_must_be_aware_and_ordered():
    with pytest.raises(ValueError):
        SyncWindow(dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2))
    with pytest.raises(ValueError):
        SyncWindow(WINDOW.end, WINDOW.start)
