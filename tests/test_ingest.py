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


def _stored(session, account_id):
    """Every stored usage row and daily_spend row of the account, without ids and timestamps."""
    skip = {"id", "account_id", "updated_at"}
    columns = [c for c in UsageRow.__table__.columns if c.name not in skip]
    usage = session.execute(select(*columns).where(UsageRow.account_id == account_id).order_by(*columns[:10])).all()
    spend_columns = [c for c in DailySpend.__table__.columns if c.name not in {"id", "account_id"}]
    spend = session.execute(
        select(*spend_columns)
        .where(DailySpend.account_id == account_id)
        .order_by(DailySpend.day, DailySpend.model, DailySpend.project)
    ).all()
    return [tuple(r) for r in usage], [tuple(r) for r in spend]


def _mixed_batches():
    """Two batches over three days: estimates, provider costs with 10 decimals, an unknown model, quantities,
    and keys repeated within a batch (the last wins) and across batches (the later batch wins)."""
    day2, day3 = DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)

    def usage(start, model, project, tokens, **more):
        return UsageRecord(
            bucket_start=start,
            bucket_width="1d",
            kind="completions",
            model=model,
            project=project,
            api_key="key_1",
            input_tokens=tokens,
            cache_read_tokens=tokens // 4,
            output_tokens=tokens // 3,
            requests=7,
            **more,
        )

    first = [
        usage(DAY, "gpt-4o-mini", "p1", 1_234_567),
        usage(DAY, "gpt-4o-mini", "p2", 999),
        usage(DAY, "gpt-4o", "p1", 10),
        usage(DAY, "gpt-4o", "p1", 20),  # same key as the row before: this one wins
        usage(day2, "not-a-model", "p1", 5),
        usage(day2, "gpt-4o", "p2", 333_333),
        UsageRecord(
            bucket_start=day2,
            bucket_width="1d",
            kind="cost",
            project="p1",
            line_item="gpt-4o, input",
            cost=Decimal("0.1234567891"),
        ),
        UsageRecord(
            bucket_start=day3,
            bucket_width="1d",
            kind="images",
            model="dall-e-3",
            project="p1",
            quantity=Decimal("12.5000000001"),
            quantity_unit="images",
            requests=3,
        ),
    ]
    second = [
        usage(DAY, "gpt-4o-mini", "p2", 1000),  # revises a row of the first batch
        UsageRecord(
            bucket_start=day2,
            bucket_width="1d",
            kind="cost",
            project="p1",
            line_item="gpt-4o, input",
            cost=Decimal("0.0000000001"),
        ),
        UsageRecord(
            bucket_start=day2,
            bucket_width="1d",
            kind="cost",
            project="p1",
            line_item="gpt-4o, input",
            cost=Decimal("12345.6789012345"),
        ),  # repeats the key just above: this one wins
        UsageRecord(
            bucket_start=day3,
            bucket_width="1d",
            kind="cost",
            project="p2",
            line_item="gpt-4o, output",
            cost=Decimal("0.3333333333"),
            currency="usd",
        ),
    ]
    return first, second


def test_dialect_bulk_path_stores_what_executemany_stores(session, account, monkeypatch):
    """ingest() (COPY + INSERT … SELECT on PostgreSQL) and the executemany upsert (SQLite's path) store the very
    same usage rows and daily_spend rows, with the same values on both databases."""
    from backend.services import ingest as ingest_module

    bulk = _account(session, account)
    bulk.kind = "openai"
    plain = ProviderAccount(workspace_id=bulk.workspace_id, kind="openai", name="plain", credentials={"api_key": "k"})
    session.add(plain)
    session.flush()
    first, second = _mixed_batches()

    # Two ingests in one transaction, then a third after the commit.
    assert ingest(session=session, account=bulk, records=first) == 7
    assert ingest(session=session, account=bulk, records=second[:2]) == 2
    session.commit()
    assert ingest(session=session, account=bulk, records=second[2:]) == 2
    session.commit()
    monkeypatch.setitem(ingest_module.UPSERTS, "postgresql", ingest_module._upsert_executemany)
    ingest(session=session, account=plain, records=first)
    ingest(session=session, account=plain, records=second[:2])
    session.commit()
    ingest(session=session, account=plain, records=second[2:])
    session.commit()

    usage, spend = _stored(session, bulk.id)
    assert (usage, spend) == _stored(session, plain.id)
    assert len(usage) == 8
    names = [c.name for c in UsageRow.__table__.columns if c.name not in {"id", "account_id", "updated_at"}]
    rows = [dict(zip(names, r, strict=True)) for r in usage]
    by_key = {(r["bucket_start"], r["kind"], r["model"], r["project"], r["line_item"]): r for r in rows}
    day2, day3 = DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)
    assert by_key[(DAY, "completions", "gpt-4o", "p1", "")]["input_tokens"] == 20  # the last of the batch won
    bill = by_key[(day2, "cost", "", "p1", "gpt-4o, input")]
    assert (bill["cost"], bill["cost_source"]) == (Decimal("12345.6789012345"), "provider")
    assert by_key[(day2, "completions", "not-a-model", "p1", "")]["cost_source"] == "none"
    assert by_key[(day2, "completions", "not-a-model", "p1", "")]["cost"] is None
    assert by_key[(day3, "images", "dall-e-3", "p1", "")]["quantity"] == Decimal("12.5000000001")
    assert by_key[(day3, "cost", "", "p2", "gpt-4o, output")]["currency"] == "USD"
    revised = by_key[(DAY, "completions", "gpt-4o-mini", "p2", "")]
    assert (revised["input_tokens"], revised["cost"]) == (1000, estimate_cost("openai", second[0]))
    # Estimates carry 10 decimals; a day with a provider cost counts that cost only.
    estimated = sum(r["cost"] for r in rows if r["bucket_start"] == DAY)
    assert estimated == estimated.quantize(Decimal("0.0000000001")) > 0
    spend_names = [c.name for c in DailySpend.__table__.columns if c.name not in {"id", "account_id"}]
    days: dict[dt.date, Decimal] = {}
    for row in spend:
        record = dict(zip(spend_names, row, strict=True))
        days[record["day"]] = days.get(record["day"], Decimal(0)) + record["cost"]
    assert days == {
        DAY.date(): estimated,
        day2.date(): Decimal("12345.6789012345"),
        day3.date(): Decimal("0.3333333333"),
    }
