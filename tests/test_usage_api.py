"""Usage reads: summaries from the rollup, cursor pages of records, streamed exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backend.models import UsageRecord as UsageRow
from jobs.sync import SyncDispatcher


@pytest.fixture
def synced(app, api):
    owner = api.register("owner@example.com")
    token = owner["access_token"]
    body = {"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-usage-api-key-000000"}}
    account = api.call("POST", "/api/accounts", token, json=body).get_json()
    state = app.extensions["spendwatch"]
    dispatcher = SyncDispatcher(state.db, state.settings)
    dispatcher(wait_for_completion=True)
    dispatcher.shutdown()
    return token, account["id"]


def _range(days=30):
    today = dt.datetime.now(dt.UTC).date()
    return {"from": str(today - dt.timedelta(days=days - 1)), "to": str(today)}


def _db_total(app, start: str, end: str) -> Decimal:
    lo = dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC)
    hi = dt.datetime.fromisoformat(end).replace(tzinfo=dt.UTC) + dt.timedelta(days=1)
    with app.extensions["spendwatch"].db.system_session() as session:
        return session.scalar(
            select(func.sum(UsageRow.cost)).where(UsageRow.bucket_start >= lo, UsageRow.bucket_start < hi)
        )


def test_summary_by_model_matches_the_records(app, api, synced):
    token, _ = synced
    params = _range() | {"group_by": "model"}
    response = api.call("GET", "/api/usage/summary", token, query_string=params)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["from"], body["to"]) == (params["from"], params["to"])
    assert [i["model"] for i in body["items"]] == ["demo-embed", "demo-large", "demo-small"]
    total = sum(Decimal(i["cost"]) for i in body["items"])
    assert Decimal(body["totals"]["USD"]) == total == _db_total(app, params["from"], params["to"])
    assert {i["cost_source"] for i in body["items"]} == {"provider"}


def test_summary_by_day_and_project(api, synced):
    token, _ = synced
    body = api.call("GET", "/api/usage/summary", token, query_string=_range(7) | {"group_by": "day,project"}).get_json()
    assert len(body["items"]) == 7 * 2
    assert body["group_by"] == ["day", "project"]
    assert {i["project"] for i in body["items"]} == {"web-app", "batch-jobs"}


def test_summary_rejects_bad_parameters(api, synced):
    token, _ = synced
    for params in (
        {"from": "2026-02-01", "to": "2026-01-01"},
        {"from": "2026-01-01", "to": "2026-02-01", "group_by": "color"},
        {"from": "2026-01-01", "to": "2026-02-01", "group_by": "day,model,project"},
        {"from": "yesterday", "to": "2026-02-01"},
        {"to": "2026-02-01"},
    ):
        response = api.call("GET", "/api/usage/summary", token, query_string=params)
        assert response.status_code == 422, params


def test_records_pages_cover_everything_once(api, synced):
    token, _ = synced
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = _range(10) | {"limit": 25} | ({"cursor": cursor} if cursor else {})
        page = api.call("GET", "/api/usage/records", token, query_string=params).get_json()
        seen += [r["id"] for r in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 10 * 6
    assert pages == 3
    bad = api.call("GET", "/api/usage/records", token, query_string=_range() | {"cursor": "not-ours"})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "bad_cursor"


def test_export_csv_and_json(app, api, synced):
    token, _ = synced
    params = _range(5)
    response = api.call("GET", "/api/usage/export", token, query_string=params)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 5 * 6
    assert sum(Decimal(r["cost"]) for r in rows) == _db_total(app, params["from"], params["to"])

    lines = api.call("GET", "/api/usage/export", token, query_string=params | {"format": "json"}).get_data(as_text=True)
    parsed = [json.loads(line) for line in lines.splitlines()]
    assert len(parsed) == 5 * 6 and {p["model"] for p in parsed} == {"demo-large", "demo-small", "demo-embed"}


def test_filters(api, synced):
    token, account_id = synced
    params = _range(5) | {"group_by": "model", "model": "demo-large", "account_id": account_id}
    body = api.call("GET", "/api/usage/summary", token, query_string=params).get_json()
    assert [i["model"] for i in body["items"]] == ["demo-large"]
    other = api.call("GET", "/api/usage/summary", token, query_string=params | {"account_id": 999}).get_json()
    assert other["items"] == [] and other["totals"] == {}


def test_other_workspaces_usage_is_invisible(app, api, synced):
    owner_token, _ = synced
    api.call("PATCH", "/api/admin/settings", owner_token, json={"registration_mode": "open"})
    other = api.register("other@example.com")
    token = other["access_token"]
    params = _range(30)
    summary = api.call("GET", "/api/usage/summary", token, query_string=params | {"group_by": "model"}).get_json()
    assert summary["items"] == [] and summary["totals"] == {}
    assert api.call("GET", "/api/usage/records", token, query_string=params).get_json()["items"] == []
    with api.call("GET", "/api/usage/export", token, query_string=params) as response:
        assert response.get_data(as_text=True).strip().count("\n") == 0  # the header line only
    owner_ws = api.call("GET", "/api/workspaces", owner_token).get_json()["items"][0]["id"]
    for path in ("/api/usage/summary", "/api/usage/records", "/api/usage/export"):
        response = api.call("GET", path, token, owner_ws, query_string=params)
        assert response.status_code == 404, path
