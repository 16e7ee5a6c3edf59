"""Pytest fixtures for the fake provider server: one server per test session, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.providers import FakeProviders


@pytest.fixture(scope="session")
def fake_providers_server() -> Iterator[FakeProviders]:
    """The session's fake OpenAI / Anthropic / OpenRouter server (not reset: use `fake_providers` in tests)."""
    server = FakeProviders().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_providers(fake_providers_server: FakeProviders) -> FakeProviders:
    """The fake provider server, reset: default dataset, no failures, empty request log, no latency."""
    fake_providers_server.reset()
    return fake_providers_server
