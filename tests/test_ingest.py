"""Ingest: idempotent upserts on natural keys, provider cost over estimates, daily rollups in the same transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backend.db import set_workspace
from backend.models import DailySpend, ProviderAccount
from backend.models import UsageRecord as UsageRow
from backend.services.ingest import ingest
from backend.services.pricing import estimate_cost
from integrations.providers.demo import DemoProvider
from integrations.records import SyncWindow, UsageRecord

DAY = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)


@pytest.fixture
def account(app, api):
    owner = api.register("owner@example.com")
    body = {"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-key-for-ingest-tests"}}
    account_id = api.call("POST", "/api/accounts", owner["access_token"], json=body).get_json()["id"]
    return account_id, owner["workspaces"][0]["workspace_id"]


@pytest.fixture
def session(app, account):
    with app.extensions["spendwatch"].db.session() as session:
        set_workspace(session, account[1])
        yield session


def _account(session, account):
    return session.get(ProviderAccount, account[0])


def _counts(session):
    return (
        session.scalar(select(func.count()).select_from(UsageRow)),
        session.scalar(select(func.coalesce(func.sum(DailySpend.cost), 0))),
    )


def test_reingesting_the_same_records_changes_nothing(session, account):
    acct = _account(session, account)
    window = SyncWindow(DAY, DAY + dt.timedelta(days=3))
    records = [r for batch in DemoProvider({"api_key": "demo-x"}).fetch_usage(window) for r in batch.records]
    assert ingest(session=session, account=acct, records=records) == 18
    session.commit()
    first = _counts(session)
    expected = sum((r.cost for r in records if r.cost is not None), Decimal(0))
    assert first == (18, expected)
    ingest(session=session, account=acct, records=records)
    session.commit()
    assert _counts(session) == first


def test_revised_bucket_replaces_the_old_values(session, account):
    acct = _account(session, account)
    record = UsageRecord(bucket_start=DAY, bucket_width="1d", kind="completions", model="m", cost=Decimal("1.5"))
    ingest(session=session, account=acct, records=[record])
    revised = UsageRecord(bucket_start=DAY, bucket_width="1d", kind="completions", model="m", cost=Decimal("2.25"))
    ingest(session=session, account=acct, records=[revised])
    session.commit()
    assert _counts(session) == (1, Decimal("2.25"))


def test_distinct_dimensions_are_distinct_records(session, account):
    acct = _account(session, account)
    records = [
        UsageRecord(bucket_start=DAY, bucket_width="1d", kind="completions", model="m", project=p, cost=Decimal("1"))
        for p in ("a", "b")
    ] + [
        UsageRecord(bucket_start=DAY, bucket_width="1h", kind="completions", model="m", project="a", cost=Decimal("1"))
    ]
    ingest(session=session, account=acct, records=records)
    session.commit()
    assert _counts(session)[0] == 3


def test_estimates_price_per_token_and_provider_cost_supersedes_them(session, account):
    acct = _account(session, account)
    acct.kind = "openai"  # priced through genai-prices under the openai provider
    usage = UsageRecord(
        bucket_start=DAY,
        bucket_width="1d",
        kind="completions",
        model="gpt-4o-mini",
        input_tokens=2_000_000,
        cache_read_tokens=1_000_000,
        output_tokens=500_000,
    )
    # gpt-4o-mini: $0.15/M input, $0.075/M cached input, $0.60/M output.
    assert estimate_cost("openai", usage) == Decimal("0.15") + Decimal("0.075") + Decimal("0.30")
    ingest(session=session, account=acct, records=[usage])
    session.commit()
    rows = session.scalars(select(DailySpend)).all()
    assert [(r.cost, r.cost_source) for r in rows] == [(Decimal("0.525"), "estimate")]

    bill = UsageRecord(
        bucket_start=DAY, bucket_width="1d", kind="cost", line_item="gpt-4o-mini, input", cost=Decimal("0.61")
    )
    ingest(session=session, account=acct, records=[bill])
    session.commit()
    rows = session.scalars(select(DailySpend).order_by(DailySpend.model)).all()
    assert sum(r.cost for r in rows) == Decimal("0.61")
    assert {r.cost_source for r in rows} == {"provider"}
    # Tokens still come from the usage record.
    assert sum(r.input_tokens for r in rows) == 2_000_000


def test_unknown_model_is_stored_without_cost(session, account):
    acct = _account(session, account)
    acct.kind = "openai"
    record = UsageRecord(bucket_start=DAY, bucket_width="1d", kind="completions", model="not-a-model", input_tokens=5)
    ingest(session=session, account=acct, records=[record])
    session.commit()
    row = session.scalars(select(UsageRow)).one()
    assert (row.cost, row.cost_source, row.input_tokens) == (None, "none", 5)
    assert session.scalars(select(DailySpend)).one().cost == 0
