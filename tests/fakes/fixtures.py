"""Pytest fixtures for the fakes: the provider server (one per session, reset before every test), an SMTP server
and a webhook receiver (one per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.banks import FakeBanks
from tests.fakes.providers import FakeProviders
from tests.fakes.smtp import FakeSmtp
from tests.fakes.webhooks import WebhookReceiver


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


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    """A real SMTP server (aiosmtpd) on loopback; `stop()`/`start()` it to play an outage."""
    server = FakeSmtp()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A real HTTP webhook receiver on loopback that verifies signatures."""
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def fake_banks_server() -> Iterator[FakeBanks]:
    """The session's fake SimpleFIN Bridge / Plaid server (not reset: use `fake_banks` in tests)."""
    server = FakeBanks().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_banks(fake_banks_server: FakeBanks) -> FakeBanks:
    """The fake bank server, reset: no tokens or accesses, the default Plaid item, no failures, empty log."""
    fake_banks_server.reset()
    return fake_banks_server
