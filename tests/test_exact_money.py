"""Money is exact on both backends (SQLite keeps scaled integers, see backend.db.ExactDecimal): the extremes round
trip through the API, sums of sub-cent costs are exact, and a value past a column's range is a 422, never a 500."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from backend.errors import out_of_range
from backend.migrate import downgrade, upgrade
from backend.models import AlertRule, BankAccount, PriceOverride, ProviderAccount, SyncRun, Transaction
from backend.models.transactions import Amount
from backend.models.usage import Money
from backend.services.ingest import ingest
from backend.services.sync import OUT_OF_RANGE
from integrations.records import UsageRecord
from jobs.sync import SyncDispatcher
from tests.conftest import Api
from tests.fakes.banks import PLAID_ACCESS_TOKEN, PLAID_CLIENT_ID, PLAID_SECRET, FakeBanks

BIG = "99999999999999.99"  # the amount the attack review stored and read back as …9.9844
TOP = "99999999999999.9999"  # the largest bank amount (NUMERIC(18, 4))
MONEY_TOP = "922337203.6854775807"  # the largest cost, price or budget (2**63 - 1 scaled by 10**10)
TINY_COST = "0.0000000001"
DAY = "2024-08-01"


def _error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    body = response.get_json()
    assert response.status_code == status, body
    assert set(body) == {"error"}
    if code is not None:
        assert body["error"]["code"] == code, body
    return dict(body["error"])


@pytest.fixture
def token(owner: dict[str, Any]) -> str:
    return str(owner["access_token"])


@pytest.fixture
def bank(api: Api, token: str) -> int:
    made = api.call("POST", "/api/bank-accounts", token, json={"name": "Vault", "currency": "USD", "balance": BIG})
    assert made.status_code == 201, made.get_json()
    return int(made.get_json()["id"])


def _add(api: Api, token: str, bank: int, amount: str, day: str = DAY) -> Any:
    body = {"bank_account_id": bank, "posted_on": day, "amount": amount, "description": f"amount {amount}"}
    return api.call("POST", "/api/transactions", token, json=body)


def _stored(app: Any, model: Any, column: Any) -> list[Decimal]:
    with app.extensions["spendwatch"].db.system_session() as s:
        return list(s.scalars(select(column).order_by(model.id)))


def test_extreme_bank_amounts_round_trip_exactly(app: Any, api: Api, token: str, bank: int) -> None:
    amounts = [BIG, f"-{BIG}", TOP, f"-{TOP}", "0.0001", "-0.0001", "0.01"]
    made = []
    for amount in amounts:
        response = _add(api, token, bank, amount)
        assert response.status_code == 201, response.get_json()
        made.append(response.get_json()["id"])
    for txn_id, amount in zip(made, amounts, strict=True):
        read = api.call("GET", f"/api/transactions/{txn_id}", token).get_json()
        assert Decimal(read["amount"]) == Decimal(amount), (amount, read["amount"])
    assert _stored(app, Transaction, Transaction.amount) == [Decimal(a) for a in amounts]
    (account,) = api.call("GET", "/api/bank-accounts", token).get_json()["items"]
    assert Decimal(account["balance"]) == Decimal(BIG)
    assert _stored(app, BankAccount, BankAccount.balance) == [Decimal(BIG)]

    # The SQL sums (analytics) are exact too (a float sum would be off in the third decimal here).
    flows = api.call("GET", "/api/analytics/income-expense", token, query_string={"from": DAY, "to": DAY}).get_json()
    (month,) = flows["items"]
    assert Decimal(month["income"]) == Decimal("200000000000000.0000") == sum(Decimal(a) for a in amounts[::2])
    assert Decimal(month["expense"]) == Decimal("199999999999999.99") == -sum(Decimal(a) for a in amounts[1::2])
    assert Decimal(month["net"]) == Decimal("0.01")
    # A filter on the extreme amount finds exactly it (comparisons bind the same scaled integers).
    listed = api.call("GET", "/api/transactions", token, query_string={"min_amount": TOP}).get_json()["items"]
    assert [i["id"] for i in listed] == [made[2]]


@pytest.mark.parametrize("amount", ["100000000000000", "-100000000000000", "99999999999999.99995", "1e20"])
def test_a_bank_amount_past_the_range_is_422(app: Any, api: Api, token: str, bank: int, amount: str) -> None:
    _error(_add(api, token, bank, amount), 422)
    params = {"min_amount": amount}
    _error(api.call("GET", "/api/transactions", token, query_string=params), 422)
    assert _stored(app, Transaction, Transaction.amount) == []


def test_a_total_past_what_sqlite_can_sum_is_422_not_500(api: Api, token: str, bank: int, db_kind: str) -> None:
    # Ten of the largest amounts sum past 2**63 / 10**4: SQLite's integer SUM overflows; PostgreSQL's does not.
    for _ in range(10):
        assert _add(api, token, bank, TOP).status_code == 201
    response = api.call("GET", "/api/analytics/income-expense", token, query_string={"from": DAY, "to": DAY})
    if db_kind == "sqlite":
        _error(response, 422, "amount_out_of_range")
    else:
        assert Decimal(response.get_json()["items"][0]["income"]) == Decimal(TOP) * 10
    # The rows themselves stay readable.
    assert api.call("GET", "/api/transactions", token).status_code == 200


@pytest.fixture
def manual(api: Api, token: str) -> int:
    body = {"kind": "manual", "name": "Groq", "credentials": {}, "config": {"vendor": "groq"}}
    response = api.call("POST", "/api/accounts", token, json=body)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def _entries(api: Api, token: str, account: int, entries: list[dict[str, Any]]) -> Any:
    return api.call("POST", f"/api/accounts/{account}/entries", token, json={"entries": entries})


def test_a_thousand_sub_cent_costs_sum_exactly(api: Api, token: str, manual: int) -> None:
    day = str(dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3))
    params = {"from": day, "to": day, "group_by": "day", "account_id": manual}
    expected = Decimal(0)
    # A float sum gets the first right by luck and the second wrong (123456.7890122999).
    for name, cost in (("tiny", TINY_COST), ("odd", "123.4567890123")):
        entries = [{"date": day, "model": f"{name}{i}", "cost": cost} for i in range(1000)]
        response = _entries(api, token, manual, entries)
        assert response.status_code in (200, 201), response.get_json()
        expected += Decimal(cost) * 1000
        summary = api.call("GET", "/api/usage/summary", token, query_string=params).get_json()
        assert Decimal(summary["totals"]["USD"]) == expected
        (item,) = summary["items"]
        assert Decimal(item["cost"]) == expected
    assert expected == Decimal("123456.7890124")


def test_costs_at_and_past_the_range(app: Any, api: Api, token: str, manual: int) -> None:
    day = str(dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3))
    top = _entries(api, token, manual, [{"date": day, "model": "big", "cost": MONEY_TOP}])
    assert top.status_code in (200, 201), top.get_json()
    read = api.call("GET", f"/api/accounts/{manual}/entries", token).get_json()["items"]
    assert [Decimal(e["cost"]) for e in read] == [Decimal(MONEY_TOP)]
    # Past what SQLite's scaled integer holds (PostgreSQL's NUMERIC(20, 10) would take it): refused on both.
    for cost in ("922337203.6854775808", "9999999999", "1e10"):
        _error(_entries(api, token, manual, [{"date": day, "model": "over", "cost": cost}]), 422)


def test_budget_amounts_at_and_past_the_range(app: Any, api: Api, token: str) -> None:
    made = api.call("POST", "/api/budgets", token, json={"name": "Everything", "amount": MONEY_TOP})
    assert made.status_code == 201, made.get_json()
    tiny = api.call("POST", "/api/budgets", token, json={"name": "Tiny", "amount": TINY_COST})
    assert tiny.status_code == 201, tiny.get_json()
    assert _stored(app, AlertRule, AlertRule.amount) == [Decimal(MONEY_TOP), Decimal(TINY_COST)]
    # 9999999999 fitted PostgreSQL's column but not SQLite's integer; 1e10 overflowed PostgreSQL (a 500 before).
    for amount in ("922337203.6854775808", "9999999999", "10000000000"):
        _error(api.call("POST", "/api/budgets", token, json={"name": "Over", "amount": amount}), 422)
        threshold = {"name": "T", "amount": "10", "thresholds": [{"type": "absolute", "value": amount}]}
        _error(api.call("POST", "/api/budgets", token, json=threshold), 422)


def test_price_overrides_keep_every_decimal(app: Any, api: Api, token: str) -> None:
    price = {
        "provider": "openai",
        "model": "tiny-model",
        "valid_from": DAY,
        "input_per_million": TINY_COST,
        "output_per_million": "999999.9999999999",
    }
    created = api.call("POST", "/api/admin/prices", token, json=price)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert Decimal(body["input_per_million"]) == Decimal(TINY_COST)
    assert Decimal(body["output_per_million"]) == Decimal("999999.9999999999")
    assert _stored(app, PriceOverride, PriceOverride.output_per_million) == [Decimal("999999.9999999999")]


def test_the_column_type_rounds_and_refuses_as_documented() -> None:
    assert Amount.limit == Decimal(TOP) and Money.limit == Decimal(MONEY_TOP)
    assert Amount.exact(Decimal("0.00005")) == Decimal("0.0001")  # half away from zero, as PostgreSQL rounds
    assert Amount.exact(Decimal("-0.00005")) == Decimal("-0.0001")
    assert Money.clamp(Decimal("1e15")) == Money.limit


def test_migration_0009_converts_stored_sqlite_money_exactly(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0007")
    raw = sqlite3.connect(tmp_path / "old.db")
    now = "2024-01-01 00:00:00"
    raw.execute(
        "INSERT INTO price_overrides (provider, model, valid_from, input_per_million, output_per_million, "
        "cache_read_per_million, note, created_at, updated_at) "
        "VALUES ('openai', 'm', '2024-01-01', ?, ?, NULL, '', ?, ?)",
        (0.0000000001, 123.4567890123, now, now),
    )
    raw.commit()
    raw.close()
    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as s:
        row = s.scalars(select(PriceOverride)).one()
        assert (row.input_per_million, row.output_per_million, row.cache_read_per_million) == (
            Decimal(TINY_COST),
            Decimal("123.4567890123"),
            None,
        )
    engine.dispose()
    downgrade(url, "0007")
    raw = sqlite3.connect(tmp_path / "old.db")
    (back,) = raw.execute("SELECT output_per_million FROM price_overrides").fetchone()
    raw.close()
    assert back == pytest.approx(123.4567890123)


def test_a_bank_reporting_an_amount_past_the_range_fails_the_sync_clearly(make_app: Any, fake_banks: FakeBanks) -> None:
    app = make_app(provider_base_urls={"plaid": fake_banks.plaid_url})
    api = Api(app.test_client())
    token = api.register("owner@example.com")["access_token"]
    assert api.call("PATCH", "/api/admin/settings", token, json={"allow_private_webhooks": True}).status_code == 200
    credentials = {"client_id": PLAID_CLIENT_ID, "secret": PLAID_SECRET, "access_token": PLAID_ACCESS_TOKEN}
    body = {"kind": "plaid", "name": "Bank", "credentials": credentials}
    account = api.call("POST", "/api/accounts", token, json=body).get_json()["id"]
    fake_banks.plaid_add(PLAID_ACCESS_TOKEN, "100000000000000", name="Impossible")
    state = app.extensions["spendwatch"]
    dispatcher = SyncDispatcher(state.db, state.settings)
    try:
        dispatcher(wait_for_completion=True)
    finally:
        dispatcher.shutdown()
    with state.db.system_session() as s:
        run = s.scalars(select(SyncRun).where(SyncRun.account_id == account)).one()
        assert (run.status, run.error) == ("failed", OUT_OF_RANGE)
        assert s.get(ProviderAccount, account) is not None
    assert _stored(app, Transaction, Transaction.amount) == []  # the batch is all or nothing


def test_an_ingested_cost_past_the_range_is_recognised_on_every_path(app: Any, api: Api, manual: int) -> None:
    # SQLite refuses it in the column type; PostgreSQL's bulk path (psycopg, no column type) in NUMERIC(20, 10).
    record = UsageRecord(
        bucket_start=dt.datetime(2024, 8, 1, tzinfo=dt.UTC), bucket_width="1d", kind="manual", cost=Decimal("1e11")
    )
    db = app.extensions["spendwatch"].db
    with pytest.raises(Exception) as caught, db.system_session() as s:
        ingest(session=s, account=s.get(ProviderAccount, manual), records=[record])
    assert out_of_range(caught.value), repr(caught.value)
