"""End to end: real provider clients, through the sync worker, against the fake provider APIs over HTTP."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backend.models import DailySpend, ProviderAccount
from backend.models import UsageRecord as UsageRow
from jobs.sync import SyncDispatcher
from tests.conftest import Api
from tests.fakes.providers import ANTHROPIC_ADMIN_KEY, OPENAI_ADMIN_KEY, OPENROUTER_KEY

KEYS = {"openai": OPENAI_ADMIN_KEY, "anthropic": ANTHROPIC_ADMIN_KEY, "openrouter": OPENROUTER_KEY}


@pytest.fixture
def world(make_app, fake_providers):
    urls = {
        "openai": fake_providers.openai_url,
        "anthropic": fake_providers.anthropic_url,
        "openrouter": fake_providers.openrouter_url,
    }
    app = make_app(provider_base_urls=urls)
    api = Api(app.test_client())
    token = api.register("owner@example.com")["access_token"]
    return app, api, token, fake_providers


def _add(api, token, kind):
    body = {"kind": kind, "name": kind, "credentials": {"api_key": KEYS[kind]}}
    response = api.call("POST", "/api/accounts", token, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _sync(app):
    state = app.extensions["spendwatch"]
    dispatcher = SyncDispatcher(state.db, state.settings)
    try:
        return dispatcher(wait_for_completion=True)
    finally:
        dispatcher.shutdown()


def _spend(app, account_id):
    with app.extensions["spendwatch"].db.system_session() as session:
        total = session.scalar(select(func.sum(DailySpend.cost)).where(DailySpend.account_id == account_id))
        sources = set(session.scalars(select(DailySpend.cost_source).where(DailySpend.account_id == account_id)))
        account = session.get(ProviderAccount, account_id)
        return total, sources, account.synced_until, account.status


def _window_start(run_window_start: str) -> dt.datetime:
    return dt.datetime.fromisoformat(run_window_start)


def test_each_provider_syncs_exact_billed_totals(world):
    app, api, token, fake = world
    ids = {kind: _add(api, token, kind) for kind in KEYS}
    assert _sync(app)["started"] == 3
    dataset = fake.dataset
    for kind, account_id in ids.items():
        run = api.call("GET", f"/api/accounts/{account_id}/syncs", token).get_json()["items"][0]
        assert run["status"] == "ok", (kind, run)
        start = _window_start(run["window_start"])
        total, sources, synced_until, status = _spend(app, account_id)
        assert status == "ok"
        assert synced_until is not None
        if kind == "openai":
            expected = dataset.openai_cost_total(start, dataset.end)
        elif kind == "anthropic":
            expected = dataset.anthropic_cost_total_usd(start, dataset.end)
        else:
            expected = dataset.openrouter_usage_total(dataset.end - dt.timedelta(days=30), dataset.end)
        assert total == expected, kind
        assert sources == {"provider"}, kind


def test_a_resync_is_idempotent(world):
    app, api, token, _fake = world
    account_id = _add(api, token, "anthropic")
    _sync(app)
    with app.extensions["spendwatch"].db.system_session() as session:
        before = session.scalar(select(func.count()).select_from(UsageRow))
    first_total = _spend(app, account_id)[0]
    api.call("POST", f"/api/accounts/{account_id}/sync", token)
    _sync(app)
    with app.extensions["spendwatch"].db.system_session() as session:
        assert session.scalar(select(func.count()).select_from(UsageRow)) == before
    assert _spend(app, account_id)[0] == first_total


def test_rate_limits_and_server_errors_are_retried_then_reported(world):
    app, api, token, fake = world
    account_id = _add(api, token, "openai")
    fake.fail("openai", 503, times=50)  # more than any retry budget
    _sync(app)
    shown = api.call("GET", f"/api/accounts/{account_id}", token).get_json()
    assert shown["status"] == "failing"
    assert "HTTP 503" in shown["last_error"]
    next_sync = dt.datetime.fromisoformat(shown["next_sync_at"])
    assert next_sync > dt.datetime.now(dt.UTC)  # backed off, not hammered
    run = api.call("GET", f"/api/accounts/{account_id}/syncs", token).get_json()["items"][0]
    assert run["error_kind"] == "transient"


def test_a_project_key_needs_attention_and_is_not_retried(world):
    app, api, token, _fake = world
    body = {"kind": "openai", "name": "wrong key", "credentials": {"api_key": "sk-proj-not-an-admin-key-0000000000"}}
    account_id = api.call("POST", "/api/accounts", token, json=body).get_json()["id"]
    _sync(app)
    shown = api.call("GET", f"/api/accounts/{account_id}", token).get_json()
    assert shown["status"] == "needs_attention" and shown["next_sync_at"] is None
    assert "sk-proj-not-an-admin-key" not in shown["last_error"]
    assert "admin" in shown["last_error"].lower()


def test_malformed_response_fails_the_sync_without_a_partial_chunk(world):
    app, api, token, fake = world
    account_id = _add(api, token, "openai")
    fake.malformed("openai", path_contains="/organization/costs")
    _sync(app)
    shown = api.call("GET", f"/api/accounts/{account_id}", token).get_json()
    assert shown["status"] == "failing"
    assert "not valid JSON" in shown["last_error"]
    # The first chunk's costs were malformed: nothing of that chunk is stored and the watermark did not move.
    with app.extensions["spendwatch"].db.system_session() as session:
        assert session.scalar(select(func.count()).select_from(UsageRow)) == 0
        assert session.get(ProviderAccount, account_id).synced_until is None
    assert _spend(app, account_id)[0] in (None, Decimal(0))
