"""Bank connections end to end: SimpleFIN and Plaid accounts added through the API, synced by the worker against
the fake banks over HTTP, stored once, pending → posted counted once, needs-attention without retry loops."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.models import BankAccount, ProviderAccount, SyncRun, Transaction
from jobs.sync import SyncDispatcher
from tests.conftest import Api
from tests.fakes.banks import PLAID_ACCESS_TOKEN, PLAID_CLIENT_ID, PLAID_SECRET, FakeBanks

PLAID = {"client_id": PLAID_CLIENT_ID, "secret": PLAID_SECRET, "access_token": PLAID_ACCESS_TOKEN}


@pytest.fixture
def world(make_app: Any, fake_banks: FakeBanks) -> tuple[Any, Api, str, FakeBanks]:
    app = make_app(provider_base_urls={"plaid": fake_banks.plaid_url})
    api = Api(app.test_client())
    token = api.register("owner@example.com")["access_token"]
    # The fake banks listen on loopback: the admin allows private networks, as for webhooks.
    assert api.call("PATCH", "/api/admin/settings", token, json={"allow_private_webhooks": True}).status_code == 200
    return app, api, token, fake_banks


def _add(api: Api, token: str, kind: str, credentials: dict[str, str], **extra: Any) -> Any:
    return api.call(
        "POST", "/api/accounts", token, json={"kind": kind, "name": kind, "credentials": credentials, **extra}
    )


def _sync(app: Any) -> None:
    state = app.extensions["spendwatch"]
    dispatcher = SyncDispatcher(state.db, state.settings)
    try:
        dispatcher(wait_for_completion=True)
    finally:
        dispatcher.shutdown()


def _stored(app: Any, account_id: int) -> dict[tuple[str, str], Transaction]:
    with app.extensions["spendwatch"].db.system_session() as s:
        rows = s.execute(
            select(BankAccount.external_id, Transaction)
            .join(Transaction, Transaction.bank_account_id == BankAccount.id)
            .where(BankAccount.account_id == account_id)
        ).all()
        s.expunge_all()
    return {(bank, t.external_id): t for bank, t in rows}


def test_simplefin_claims_once_syncs_90_days_and_a_resync_adds_nothing(world: Any) -> None:
    app, api, token, fake = world
    setup = fake.setup_token()
    created = _add(api, token, "simplefin", {"setup_token": setup})
    assert created.status_code == 201, created.get_json()
    account = created.get_json()
    assert "simplefin/bridge" not in str(account) and setup not in str(account)  # only hints are shown
    again = _add(api, token, "simplefin", {"setup_token": setup})
    assert again.status_code == 422 and "compromised" in again.get_json()["error"]["message"]

    _sync(app)
    with app.extensions["spendwatch"].db.system_session() as s:
        run = s.scalars(select(SyncRun).where(SyncRun.account_id == account["id"])).one()
        stored = s.get(ProviderAccount, account["id"])
        assert (run.status, stored.status) == ("ok", "ok"), run.error
        window = (run.window_start, run.window_end)
        banks = s.scalars(select(BankAccount).where(BankAccount.account_id == account["id"])).all()
        n = fake.claimed(setup)
        assert sorted(b.external_id for b in banks) == [f"ACT-{n}-CC", f"ACT-{n}-CHK"]
        assert all(b.balance is not None for b in banks)
    expected = fake.simplefin_expected(fake.claimed(setup), *window)
    rows = _stored(app, account["id"])
    assert set(rows) == set(expected.ids)
    assert sum((t.amount for t in rows.values()), Decimal(0)) == expected.total
    assert api.call("POST", f"/api/accounts/{account['id']}/sync", token).status_code == 202
    _sync(app)
    assert len(_stored(app, account["id"])) == len(rows)  # the re-read window changes nothing


def test_plaid_sync_applies_changes_and_counts_a_posted_pending_once(world: Any) -> None:
    app, api, token, fake = world
    account = _add(api, token, "plaid", PLAID).get_json()
    _sync(app)
    first = _stored(app, account["id"])
    upstream = fake.plaid_transactions(PLAID_ACCESS_TOKEN)
    assert len(first) == len(upstream) == 24
    # Plaid's positive amounts are money out: stored negated.
    for (_bank, tid), row in first.items():
        assert row.amount == -Decimal(str(upstream[tid]["amount"]))
    pending = next(t for t in first.values() if t.pending)
    posted_id = fake.plaid_post(PLAID_ACCESS_TOKEN, pending.external_id)
    coffee = fake.plaid_add(PLAID_ACCESS_TOKEN, "4.50", name="Blue Bottle", merchant_name="Blue Bottle")
    api.call("POST", f"/api/accounts/{account['id']}/sync", token)
    _sync(app)
    rows = _stored(app, account["id"])
    ids = {tid for _bank, tid in rows}
    assert pending.external_id not in ids and {posted_id, coffee} <= ids
    assert len(rows) == 25  # 24 - pending + posted + coffee
    posted = next(t for t in rows.values() if t.external_id == posted_id)
    assert posted.pending_external_id == pending.external_id and not posted.pending
    with app.extensions["spendwatch"].db.system_session() as s:
        cursor = s.get(ProviderAccount, account["id"]).sync_cursor
    assert cursor  # saved with the changes


def test_plaid_mutation_during_pagination_restarts_and_stores_once(world: Any) -> None:
    app, api, token, fake = world
    fake.plaid_page_size = 5
    fake.plaid_mutation_on_page(PLAID_ACCESS_TOKEN, 3)
    account = _add(api, token, "plaid", PLAID).get_json()
    _sync(app)
    assert len(_stored(app, account["id"])) == 24


def test_plaid_login_required_needs_attention_without_retrying(world: Any) -> None:
    app, api, token, fake = world
    account = _add(api, token, "plaid", PLAID).get_json()
    fake.plaid_login_required(PLAID_ACCESS_TOKEN)
    _sync(app)
    shown = api.call("GET", f"/api/accounts/{account['id']}", token).get_json()
    assert shown["status"] == "needs_attention" and "re-link" in shown["last_error"].lower()
    before = len(fake.requests_for("plaid", "/transactions/sync"))
    _sync(app)  # not due: no retry loop
    assert len(fake.requests_for("plaid", "/transactions/sync")) == before
    with app.extensions["spendwatch"].db.system_session() as s:
        assert s.scalar(select(func.count()).select_from(Transaction)) == 0


def test_simplefin_quota_429_backs_off(world: Any) -> None:
    app, api, token, fake = world
    account = _add(api, token, "simplefin", {"setup_token": fake.setup_token()}).get_json()
    fake.fail("simplefin", 429, path_contains="/accounts")
    _sync(app)
    with app.extensions["spendwatch"].db.system_session() as s:
        stored = s.get(ProviderAccount, account["id"])
        assert stored.status == "failing" and "quota" in (stored.last_error or "").lower()
        assert stored.next_sync_at > dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)  # the 6-hour interval, not now
    assert len(fake.requests_for("simplefin", "/accounts")) == 1


def test_simplefin_pending_only_when_asked(world: Any) -> None:
    app, api, token, fake = world
    setup = fake.setup_token()
    account = _add(api, token, "simplefin", {"setup_token": setup}, config={"include_pending": True}).get_json()
    _sync(app)
    with app.extensions["spendwatch"].db.system_session() as s:
        run = s.scalars(select(SyncRun).where(SyncRun.account_id == account["id"])).one()
        window = (run.window_start, run.window_end)
    expected = fake.simplefin_expected(fake.claimed(setup), *window, pending=True)
    rows = _stored(app, account["id"])
    assert set(rows) == set(expected.ids) and any(t.pending for t in rows.values())
    assert all(r.query.get("pending") == ["1"] for r in fake.requests_for("simplefin", "/accounts"))


def test_simplefin_errors_are_shown_on_the_account_sanitized(world: Any) -> None:
    app, api, token, fake = world
    setup = fake.setup_token()
    account = _add(api, token, "simplefin", {"setup_token": setup}).get_json()
    fake.simplefin_add_errors(fake.claimed(setup), "Connection to First Bank may need attention\x1b[31m")
    _sync(app)
    shown = api.call("GET", f"/api/accounts/{account['id']}", token).get_json()
    assert shown["status"] == "ok"
    assert shown["notices"] == ["Connection to First Bank may need attention"]
