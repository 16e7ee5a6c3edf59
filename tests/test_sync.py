"""Syncing accounts end to end with the demo provider: claim, backfill, watermark, lookback, failures, API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backend.config import SyncSettings
from backend.db import utcnow
from backend.models import DailySpend, ProviderAccount, SyncRun
from backend.models import UsageRecord as UsageRow
from backend.services.sync import claim_due, sync_window
from jobs.sync import SyncDispatcher


@pytest.fixture
def owner_token(api):
    return api.register("owner@example.com")["access_token"]


def _add(api, token, key="demo-sync-key-000000000000"):
    body = {"kind": "demo", "name": "Demo", "credentials": {"api_key": key}}
    response = api.call("POST", "/api/accounts", token, json=body)
    assert response.status_code == 201
    return response.get_json()


def _dispatch(app):
    state = app.extensions["spendwatch"]
    dispatcher = SyncDispatcher(state.db, state.settings)
    try:
        return dispatcher(wait_for_completion=True)
    finally:
        dispatcher.shutdown()


def test_first_sync_backfills_90_days_and_records_the_run(app, api, owner_token):
    account = _add(api, owner_token)
    assert account["next_sync_at"] is not None and account["synced_until"] is None
    assert _dispatch(app)["started"] == 1

    shown = api.call("GET", f"/api/accounts/{account['id']}", owner_token).get_json()
    assert shown["status"] == "ok" and shown["last_error"] is None
    assert shown["synced_until"] is not None and shown["last_success_at"] is not None
    runs = api.call("GET", f"/api/accounts/{account['id']}/syncs", owner_token).get_json()["items"]
    assert len(runs) == 1
    run = runs[0]
    assert run["status"] == "ok" and run["trigger"] == "schedule" and run["error"] is None
    window = dt.datetime.fromisoformat(run["window_end"]) - dt.datetime.fromisoformat(run["window_start"])
    assert dt.timedelta(days=90) <= window < dt.timedelta(days=91)
    # 91 calendar days touched (90 days back to midnight, plus today) x 3 models x 2 projects.
    assert run["records"] == 91 * 6
    with app.extensions["spendwatch"].db.system_session() as session:
        assert session.scalar(select(func.count()).select_from(UsageRow)) == 91 * 6
        spend = session.scalar(select(func.sum(DailySpend.cost)))
        usage_cost = session.scalar(select(func.sum(UsageRow.cost)))
    assert spend == usage_cost and spend > Decimal(0)


def test_a_second_sync_rereads_only_the_lookback_and_changes_nothing(app, api, owner_token):
    account = _add(api, owner_token)
    _dispatch(app)
    db = app.extensions["spendwatch"].db
    with db.system_session() as session:
        before = session.scalar(select(func.count()).select_from(UsageRow))
        total = session.scalar(select(func.sum(DailySpend.cost)))
    assert _dispatch(app)["started"] == 0  # not due again until the interval has passed
    assert api.call("POST", f"/api/accounts/{account['id']}/sync", owner_token).status_code == 202
    _dispatch(app)
    runs = api.call("GET", f"/api/accounts/{account['id']}/syncs", owner_token).get_json()["items"]
    assert [r["status"] for r in runs] == ["ok", "ok"]
    window = dt.datetime.fromisoformat(runs[0]["window_end"]) - dt.datetime.fromisoformat(runs[0]["window_start"])
    assert dt.timedelta(days=2) <= window < dt.timedelta(days=3)
    with db.system_session() as session:
        assert session.scalar(select(func.count()).select_from(UsageRow)) == before
        assert session.scalar(select(func.sum(DailySpend.cost))) == total


def test_rejected_credentials_need_attention_until_they_change(app, api, owner_token):
    account = _add(api, owner_token, key="wrong-key-for-the-demo-provider")
    _dispatch(app)
    shown = api.call("GET", f"/api/accounts/{account['id']}", owner_token).get_json()
    assert shown["status"] == "needs_attention"
    assert "demo keys start with" in shown["last_error"]
    assert shown["next_sync_at"] is None  # never retried on its own
    run = api.call("GET", f"/api/accounts/{account['id']}/syncs", owner_token).get_json()["items"][0]
    assert (run["status"], run["error_kind"]) == ("failed", "auth")
    assert _dispatch(app)["started"] == 0

    patch = {"credentials": {"api_key": "demo-now-correct-key-123456"}}
    assert api.call("PATCH", f"/api/accounts/{account['id']}", owner_token, json=patch).status_code == 200
    _dispatch(app)
    assert api.call("GET", f"/api/accounts/{account['id']}", owner_token).get_json()["status"] == "ok"


def test_claims_are_exclusive_and_leases_lapse(app, api, owner_token):
    _add(api, owner_token)
    db = app.extensions["spendwatch"].db
    config = SyncSettings(lease_seconds=60)
    with db.system_session() as session:
        first = claim_due(session=session, worker="w1", limit=10, config=config)
    with db.system_session() as session:
        second = claim_due(session=session, worker="w2", limit=10, config=config)
    assert len(first) == 1 and second == []
    with db.system_session() as session:
        session.get(ProviderAccount, first[0].account_id).claimed_until = utcnow() - dt.timedelta(seconds=1)
    with db.system_session() as session:
        assert [c.account_id for c in claim_due(session=session, worker="w2", limit=10, config=config)] == [
            first[0].account_id
        ]


def test_a_claim_takes_at_most_its_limit_oldest_due_first_and_closes_abandoned_runs(app, api, owner_token):
    ids = [_add(api, owner_token, key=f"demo-sync-key-{n:012d}")["id"] for n in range(7)]
    db = app.extensions["spendwatch"].db
    config = SyncSettings(lease_seconds=60)
    with db.system_session() as session:
        for offset, account_id in enumerate(ids):  # the last account added is the longest overdue
            session.get(ProviderAccount, account_id).next_sync_at = utcnow() - dt.timedelta(minutes=offset)
        account = session.get(ProviderAccount, ids[-1])
        left = SyncRun(
            workspace_id=account.workspace_id,
            account_id=account.id,
            trigger="schedule",
            status="running",
            started_at=utcnow(),
        )
        session.add(left)
    with db.system_session() as session:
        first = claim_due(session=session, worker="w1", limit=3, config=config)
    with db.system_session() as session:
        rest = claim_due(session=session, worker="w2", limit=10, config=config)
    assert sorted(c.account_id for c in first) == sorted(ids[-3:])
    assert sorted(c.account_id for c in rest) == sorted(ids[:-3])
    with db.system_session() as session:
        closed = session.get(SyncRun, left.id)
        assert closed.status == "abandoned" and closed.finished_at is not None


def test_windows(settings):
    now = dt.datetime(2026, 11, 22, 10, 30, tzinfo=dt.UTC)
    account = ProviderAccount(synced_until=None)
    first = sync_window(account, settings.sync, now)
    assert (first.start, first.end) == (dt.datetime(2026, 8, 24, tzinfo=dt.UTC), now)
    account.synced_until = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
    later = sync_window(account, settings.sync, now)
    assert later.start == dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


def test_sync_endpoints_respect_roles_and_tenancy(api, owner_token):
    account = _add(api, owner_token)
    ws = api.call("GET", "/api/workspaces", owner_token).get_json()["items"][0]["id"]
    invite = api.call(
        "POST", f"/api/workspaces/{ws}/invites", owner_token, json={"email": "v@example.com", "role": "viewer"}
    )
    viewer = api.register("v@example.com", invite_token=invite.get_json()["token"])["access_token"]
    assert api.call("POST", f"/api/accounts/{account['id']}/sync", viewer).status_code == 403
    assert api.call("GET", f"/api/accounts/{account['id']}/syncs", viewer).status_code == 200
    assert api.call("POST", "/api/accounts/999999/sync", owner_token).status_code == 404
    assert api.call("GET", f"/api/accounts/{account['id']}/syncs?limit=1000", owner_token).status_code == 422


def test_job_cli_runs_a_sync_cycle(app, api, owner_token, runner):
    from backend.cli import main

    account = _add(api, owner_token)
    result = runner.invoke(main, ["jobs", "run", "sync"])
    assert result.exit_code == 0, result.output
    assert "'started': 1" in result.output
    with app.extensions["spendwatch"].db.system_session() as session:
        run = session.scalars(select(SyncRun).where(SyncRun.account_id == account["id"])).one()
    assert run.status == "ok"
