"""Manual accounts: usage typed in through the API or uploaded as CSV, for providers without a usage API."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from backend.models import DailySpend, ProviderAccount, SyncRun
from backend.models import UsageRecord as UsageRow
from integrations.providers import PROVIDERS
from integrations.providers.manual import ManualProvider
from integrations.records import SyncWindow
from jobs.sync import SyncDispatcher
from tests.conftest import Api

TODAY = dt.datetime.now(dt.UTC).date()
D1, D2, D3 = (str(TODAY - dt.timedelta(days=n)) for n in (12, 11, 10))
HEADER = "date,model,project,input_tokens,output_tokens,requests,cost,currency"


@pytest.fixture
def token(owner: dict[str, Any]) -> str:
    return str(owner["access_token"])


@pytest.fixture
def manual(api: Api, token: str) -> int:
    body = {"kind": "manual", "name": "Groq", "credentials": {}, "config": {"vendor": "groq"}}
    response = api.call("POST", "/api/accounts", token, json=body)
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def _entries(api: Api, token: str, account_id: int, **params: Any) -> list[dict[str, Any]]:
    response = api.call("GET", f"/api/accounts/{account_id}/entries", token, query_string=params)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["items"])


def _post(api: Api, token: str, account_id: int, *entries: dict[str, Any]) -> Any:
    return api.call("POST", f"/api/accounts/{account_id}/entries", token, json={"entries": list(entries)})


def _upload(api: Api, token: str, account_id: int, content: bytes | str, **form: Any) -> Any:
    data = content.encode() if isinstance(content, str) else content
    return api.call(
        "POST",
        f"/api/accounts/{account_id}/entries/import",
        token,
        data={"file": (io.BytesIO(data), "usage.csv"), **form},
        content_type="multipart/form-data",
    )


def _summary(api: Api, token: str, account_id: int, group_by: str = "model") -> dict[str, Any]:
    params = {"from": D1, "to": str(TODAY), "group_by": group_by, "account_id": account_id}
    response = api.call("GET", "/api/usage/summary", token, query_string=params)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _count(app: Any) -> int:
    with app.extensions["spendwatch"].db.system_session() as session:
        return int(session.scalar(select(func.count()).select_from(UsageRow)) or 0)


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"]["code"] == code, body
    return dict(body["error"])


# -- the provider ---------------------------------------------------------------------------------------------


def test_the_manual_provider_needs_nothing_and_fetches_nothing():
    assert PROVIDERS["manual"] is ManualProvider
    assert ManualProvider.credential_fields == () and ManualProvider.syncs is False
    assert ManualProvider.validate_credentials({}) == {}
    assert ManualProvider.validate_credentials({"api_key": "x"}) == {"api_key": "unknown field for this provider"}
    provider = ManualProvider({}, config={"vendor": "groq"})
    result = provider.test_connection()
    assert (result.ok, result.message) == (True, "Manual account: nothing to connect to")
    window = SyncWindow(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    assert list(provider.fetch_usage(window)) == []


def test_a_manual_account_is_created_without_credentials_and_never_synced(app, api, token, manual):
    kinds = {p["kind"]: p for p in api.call("GET", "/api/providers", token).get_json()["items"]}
    assert kinds["manual"]["label"] == "Manual entries / CSV upload"
    assert kinds["manual"]["credential_fields"] == [] and kinds["manual"]["capabilities"] == ["costs", "usage"]

    account = api.call("GET", f"/api/accounts/{manual}", token).get_json()
    assert account["credentials"] == {} and account["config"] == {"vendor": "groq"}
    assert account["next_sync_at"] is None and account["synced_until"] is None
    tested = api.call("POST", f"/api/accounts/{manual}/test", token).get_json()
    assert tested == {"ok": True, "message": "Manual account: nothing to connect to", "status": "ok"}
    _error(api.call("POST", f"/api/accounts/{manual}/sync", token), 409, "not_syncable")
    patched = api.call("PATCH", f"/api/accounts/{manual}", token, json={"credentials": {}, "enabled": True})
    assert patched.status_code == 200 and patched.get_json()["next_sync_at"] is None
    _error(
        api.call("PATCH", f"/api/accounts/{manual}", token, json={"credentials": {"api_key": "sk-x"}}),
        422,
        "invalid",
    )

    # A demo account beside it is claimed; the manual one never is, not even with its sync state cleared.
    demo = {"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-manual-test-key-00"}}
    assert api.call("POST", "/api/accounts", token, json=demo).status_code == 201
    state = app.extensions["spendwatch"]
    for _ in range(2):
        dispatcher = SyncDispatcher(state.db, state.settings)
        try:
            dispatcher(wait_for_completion=True)
        finally:
            dispatcher.shutdown()
    with state.db.system_session() as session:
        account = session.get(ProviderAccount, manual)
        assert account.next_sync_at is None and account.claimed_by is None and account.last_sync_at is None
        runs = session.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.account_id == manual))
        assert runs == 0
        assert session.scalar(select(func.count()).select_from(SyncRun)) == 1  # the demo account's backfill


# -- entries through the JSON API -----------------------------------------------------------------------------


def test_entries_show_in_the_summary_as_provider_cost(api, token, manual):
    response = _post(
        api,
        token,
        manual,
        {"date": D1, "model": "llama-3.1-70b", "input_tokens": 1000, "output_tokens": 200, "cost": "12.34"},
        {"date": D2, "model": "llama-3.1-70b", "project": "web", "requests": 7, "cost": "0.0000000001"},
        {"date": D2, "model": "mixtral-8x7b", "cost": "3", "currency": "usd"},
    )
    assert response.status_code == 201 and response.get_json() == {"stored": 3}

    summary = _summary(api, token, manual)
    by_model = {i["model"]: i for i in summary["items"]}
    assert Decimal(by_model["llama-3.1-70b"]["cost"]) == Decimal("12.3400000001")
    assert Decimal(by_model["mixtral-8x7b"]["cost"]) == Decimal(3)
    assert {i["cost_source"] for i in summary["items"]} == {"provider"}
    assert by_model["llama-3.1-70b"]["input_tokens"] == 1000 and by_model["llama-3.1-70b"]["requests"] == 7
    assert Decimal(summary["totals"]["USD"]) == Decimal("15.3400000001")

    records = api.call(
        "GET", "/api/usage/records", token, query_string={"from": D1, "to": str(TODAY), "account_id": manual}
    ).get_json()["items"]
    assert {(r["kind"], r["bucket_width"], r["provider"], r["cost_source"]) for r in records} == {
        ("manual", "1d", "manual", "provider")
    }
    assert {r["bucket_start"] for r in records} == {f"{D1}T00:00:00Z", f"{D2}T00:00:00Z"}

    items = _entries(api, token, manual)
    assert items[0]["date"] == D2  # newest day first
    assert sorted((e["date"], e["model"], e["project"], Decimal(e["cost"])) for e in items) == [
        (D1, "llama-3.1-70b", "", Decimal("12.34")),
        (D2, "llama-3.1-70b", "web", Decimal("0.0000000001")),
        (D2, "mixtral-8x7b", "", Decimal(3)),
    ]


def test_posting_the_same_date_model_and_project_replaces_the_entry(app, api, token, manual):
    assert _post(api, token, manual, {"date": D1, "model": "m", "cost": "10.00"}).status_code == 201
    assert _post(api, token, manual, {"date": D1, "model": "m", "project": "p", "cost": "1"}).status_code == 201
    again = _post(api, token, manual, {"date": D1, "model": "m", "cost": "7.50", "input_tokens": 5})
    assert again.status_code == 201 and again.get_json() == {"stored": 1}
    items = _entries(api, token, manual)
    assert sorted((e["project"], Decimal(e["cost"]), e["input_tokens"]) for e in items) == [
        ("", Decimal("7.5"), 5),
        ("p", Decimal(1), 0),
    ]
    assert Decimal(_summary(api, token, manual)["totals"]["USD"]) == Decimal("8.5")
    assert _count(app) == 2


def test_bad_entries_are_422_and_store_nothing(app, api, token, manual):
    tomorrow_plus = str(TODAY + dt.timedelta(days=2))
    for entry in (
        {"date": tomorrow_plus, "model": "m", "cost": "1"},
        {"date": "1999-12-31", "model": "m", "cost": "1"},
        {"date": "2026-02-30", "model": "m", "cost": "1"},
        {"date": D1, "model": "  ", "cost": "1"},
        {"date": D1, "model": "m" * 201, "cost": "1"},
        {"date": D1, "model": "m", "cost": "-1"},
        {"date": D1, "model": "m", "cost": "NaN"},
        {"date": D1, "model": "m", "cost": "abc"},
        {"date": D1, "model": "m", "cost": "0.00000000001"},
        {"date": D1, "model": "m", "cost": "10000000000"},
        {"date": D1, "model": "m"},
        {"date": D1, "model": "m", "cost": "1", "currency": "US$"},
        {"date": D1, "model": "m", "cost": "1", "input_tokens": -1},
        {"date": D1, "model": "m", "cost": "1", "note": "not stored anywhere"},
    ):
        response = _post(api, token, manual, {"date": D2, "model": "fine", "cost": "1"}, entry)
        _error(response, 422, "validation_error")
    _error(api.call("POST", f"/api/accounts/{manual}/entries", token, json={"entries": []}), 422, "validation_error")
    too_many = [{"date": D1, "model": f"m{i}", "cost": "1"} for i in range(1001)]
    _error(_post(api, token, manual, *too_many), 422, "validation_error")

    duplicate = _post(
        api,
        token,
        manual,
        {"date": D1, "model": "m", "cost": "1"},
        {"date": D1, "model": "other", "cost": "1"},
        {"date": D1, "model": " m ", "cost": "2"},
    )
    error = _error(duplicate, 422, "duplicate_entry")
    assert error["details"] == [
        {"loc": ["entries", "2"], "msg": "same date, model and project as entries.0", "type": "duplicate"}
    ]
    assert _count(app) == 0


def test_delete_removes_one_entry_and_rebuilds_that_day(app, api, token, manual):
    _post(
        api,
        token,
        manual,
        {"date": D1, "model": "m", "cost": "1.25"},
        {"date": D1, "model": "m", "project": "p", "cost": "2"},
        {"date": D2, "model": "m", "cost": "4"},
    )
    path = f"/api/accounts/{manual}/entries"
    assert api.call("DELETE", path, token, query_string={"date": D1, "model": "m", "project": "p"}).status_code == 204
    assert sorted((e["date"], e["project"]) for e in _entries(api, token, manual)) == [(D1, ""), (D2, "")]
    by_day = {i["day"]: Decimal(i["cost"]) for i in _summary(api, token, manual, "day")["items"]}
    assert by_day == {D1: Decimal("1.25"), D2: Decimal(4)}

    assert api.call("DELETE", path, token, query_string={"date": D1, "model": "m"}).status_code == 204
    assert {i["day"] for i in _summary(api, token, manual, "day")["items"]} == {D2}
    with app.extensions["spendwatch"].db.system_session() as session:
        days = session.scalars(select(DailySpend.day).where(DailySpend.account_id == manual)).all()
    assert [str(d) for d in days] == [D2]

    _error(api.call("DELETE", path, token, query_string={"date": D1, "model": "m"}), 404, "entry_not_found")
    _error(api.call("DELETE", path, token, query_string={"model": "m"}), 422, "validation_error")

    # Deleting the account deletes its entries and their spend.
    assert api.call("DELETE", f"/api/accounts/{manual}", token).status_code == 204
    assert _count(app) == 0
    with app.extensions["spendwatch"].db.system_session() as session:
        assert session.scalar(select(func.count()).select_from(DailySpend)) == 0


def test_entries_list_by_range_and_page(api, token, manual):
    days = [str(TODAY - dt.timedelta(days=n)) for n in range(1, 8)]
    _post(api, token, manual, *({"date": d, "model": m, "cost": "1"} for d in days for m in ("a", "b")))
    assert {e["date"] for e in _entries(api, token, manual, **{"from": days[2], "to": days[1]})} == {
        days[1],
        days[2],
    }
    seen: list[tuple[str, str]] = []
    cursor = None
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = api.call("GET", f"/api/accounts/{manual}/entries", token, query_string=params).get_json()
        seen += [(e["date"], e["model"]) for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 14
    assert [d for d, _ in seen] == sorted((d for d, _ in seen), reverse=True)
    bad = api.call("GET", f"/api/accounts/{manual}/entries", token, query_string={"from": D2, "to": D1})
    _error(bad, 422, "validation_error")


# -- CSV import -----------------------------------------------------------------------------------------------


def test_csv_import_stores_every_row_with_exact_totals(app, api, token, manual):
    content = "\r\n".join(
        [
            HEADER,
            f"{D1},llama-3.1-70b,,1200,300,4,0.1,USD",
            f"{D1},llama-3.1-70b,web,10,2,1,0.2,usd",
            f'{D2},"mixtral-8x7b",,0,0,0,"1234.5678901234",',
            f"{D3},deepseek-chat,batch,5,5,,$12.34,",
            "",
            "",
        ]
    )
    response = _upload(api, token, manual, content)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"rows": 4, "stored": 4, "dry_run": False, "errors": [], "errors_not_shown": 0}
    summary = _summary(api, token, manual)
    assert Decimal(summary["totals"]["USD"]) == Decimal("1247.2078901234")
    assert {i["model"]: Decimal(i["cost"]) for i in summary["items"]} == {
        "deepseek-chat": Decimal("12.34"),
        "llama-3.1-70b": Decimal("0.3"),
        "mixtral-8x7b": Decimal("1234.5678901234"),
    }
    assert {i["cost_source"] for i in summary["items"]} == {"provider"}
    entries = {(e["date"], e["model"], e["project"]): e for e in _entries(api, token, manual)}
    assert entries[(D3, "deepseek-chat", "batch")]["requests"] == 0
    assert entries[(D1, "llama-3.1-70b", "")]["input_tokens"] == 1200

    # Importing the same file again changes nothing (same natural keys); a changed row replaces its entry.
    assert _upload(api, token, manual, content).status_code == 201
    assert _count(app) == 4
    changed = f"{HEADER}\n{D3},deepseek-chat,batch,5,5,,$2.00,\n"
    assert _upload(api, token, manual, changed).get_json()["stored"] == 1
    assert Decimal(_summary(api, token, manual)["totals"]["USD"]) == Decimal("1236.8678901234")


def test_csv_with_a_bom_columns_in_any_order_and_optional_columns_left_out(api, token, manual):
    content = f"\ufeffCost , Model,DATE,output_tokens,input_tokens\n$12.34,llama,{D1},1,2\n0.66,llama,{D2},0,0\n"
    response = _upload(api, token, manual, content.encode("utf-8"))
    assert response.status_code == 201, response.get_json()
    items = _entries(api, token, manual)
    assert sorted((e["date"], e["project"], e["currency"], Decimal(e["cost"])) for e in items) == [
        (D1, "", "USD", Decimal("12.34")),
        (D2, "", "USD", Decimal("0.66")),
    ]
    assert Decimal(_summary(api, token, manual)["totals"]["USD"]) == Decimal(13)


def test_csv_with_any_bad_row_stores_nothing_and_reports_every_row(app, api, token, manual):
    _post(api, token, manual, {"date": D1, "model": "kept", "cost": "5"})
    content = "\n".join(
        [
            HEADER,
            f"{D1},good,,1,1,1,1.00,USD",
            f"{D1},bad-cost,,1,1,1,abc,USD",
            "01/02/2026,bad-date,,1.5,1,1,1,USD",
            f"{D2},,,1,1,1,1,EUR",
            f"{D2},euro,,1,1,1,$3,EUR",
            f'{D2},comma,,1,1,1,"3,50",USD',
            f"{D2},short,1,1",
            f"{D2},kept,,1,1,1,99,USD",
        ]
    )
    response = _upload(api, token, manual, content)
    error = _error(response, 422, "csv_invalid")
    assert "nothing was stored" in error["message"]
    report = error["details"]
    assert (report["rows"], report["stored"], report["dry_run"]) == (8, 0, False)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [
        (3, "cost"),
        (4, "date"),
        (4, "input_tokens"),
        (5, "model"),
        (6, "cost"),
        (7, "cost"),
        (8, None),
    ]
    messages = {(e["row"], e["column"]): e["message"] for e in report["errors"]}
    assert messages[(3, "cost")] == "not a number: 'abc'"
    assert messages[(4, "date")] == "not a date in the form YYYY-MM-DD: '01/02/2026'"
    assert messages[(4, "input_tokens")] == "not a whole number: '1.5'"
    assert messages[(5, "model")] == "is required"
    assert messages[(6, "cost")] == "'$' given for a EUR amount: '$3'"
    assert "'.' as the decimal separator" in messages[(7, "cost")]
    assert messages[(8, None)] == "has 4 values but the header has 8 columns"
    # The good rows were not stored and the entry stored before is untouched.
    items = _entries(api, token, manual)
    assert [(e["model"], Decimal(e["cost"])) for e in items] == [("kept", Decimal(5))]
    assert _count(app) == 1


def test_dry_run_checks_and_reports_without_storing(app, api, token, manual):
    good = f"{HEADER}\n{D1},llama,,1,1,1,$1.50,USD\n{D2},llama,,1,1,1,2.50,USD\n"
    response = _upload(api, token, manual, good, dry_run="true")
    assert response.status_code == 200
    assert response.get_json() == {"rows": 2, "stored": 0, "dry_run": True, "errors": [], "errors_not_shown": 0}
    bad = f"{HEADER}\n{D1},llama,,1,1,1,x,USD\n"
    response = _upload(api, token, manual, bad, dry_run="true")
    assert response.status_code == 200
    body = response.get_json()
    assert body["stored"] == 0 and [(e["row"], e["column"]) for e in body["errors"]] == [(2, "cost")]
    assert _count(app) == 0
    assert _upload(api, token, manual, good, dry_run="false").status_code == 201
    assert _count(app) == 2


def test_duplicate_rows_in_one_file_are_an_error_on_the_later_row(app, api, token, manual):
    content = f"{HEADER}\n{D1},llama,,1,1,1,1,USD\n{D1},other,,1,1,1,1,USD\n{D1}, llama ,,2,2,2,2,USD\n"
    report = _error(_upload(api, token, manual, content), 422, "csv_invalid")["details"]
    assert report["errors"] == [
        {"row": 4, "column": None, "message": "same date, model and project as row 2; each may appear only once"}
    ]
    assert _count(app) == 0


def test_a_header_with_wrong_columns_names_the_expected_ones(api, token, manual):
    report = _error(
        _upload(api, token, manual, f"date,model,tokens,output_tokens,cost\n{D1},m,1,1,1\n"), 422, "csv_invalid"
    )["details"]
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(1, "tokens"), (1, "input_tokens")]
    assert report["errors"][0]["message"].startswith("unknown column; expected columns: date, model, input_tokens")
    assert "project, requests, currency (optional)" in report["errors"][0]["message"]
    assert report["errors"][1]["message"].startswith("missing column")

    twice = _error(_upload(api, token, manual, f"{HEADER},cost\n"), 422, "csv_invalid")["details"]
    assert twice["errors"] == [{"row": 1, "column": "cost", "message": "this column appears twice"}]
    semicolons = _error(_upload(api, token, manual, HEADER.replace(",", ";") + "\n"), 422, "csv_invalid")
    assert "';'" in semicolons["details"]["errors"][0]["message"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "csv_empty"),
        (b"\xef\xbb\xbf \r\n\r\n", "csv_empty"),
        (HEADER.encode() + b"\n", "csv_empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "csv_not_text"),
        (b"PK\x03\x04\x14\x00\x06\x00", "csv_not_text"),
        ("date,model,input_tokens,output_tokens,cost\n2026-01-01,café,1,1,1\n".encode("latin-1"), "csv_not_text"),
        (f'{HEADER}\n{D1},"unterminated,,1,1,1,1,USD\n'.encode(), "csv_invalid"),
    ],
)
def test_files_that_are_not_usable_csv_are_422(app, api, token, manual, content, code):
    error = _error(_upload(api, token, manual, content), 422, code)
    assert error["details"]["stored"] == 0 and error["details"]["errors"]
    assert _count(app) == 0


def test_the_upload_must_be_a_file_and_no_larger_than_the_request_limit(make_app, api, token, manual):
    path = f"/api/accounts/{manual}/entries/import"
    missing = api.call("POST", path, token, data={"dry_run": "true"}, content_type="multipart/form-data")
    _error(missing, 422, "validation_error")
    as_text = api.call("POST", path, token, data={"file": f"{HEADER}\n"}, content_type="multipart/form-data")
    _error(as_text, 422, "validation_error")
    as_json = _error(api.call("POST", path, token, json={"file": "x"}), 422, "validation_error")
    assert as_json["details"] == [{"loc": ["file"], "msg": "Field required", "type": "missing"}]

    small = make_app(max_request_bytes=2048)
    small_api = Api(small.test_client())
    big = f"{HEADER}\n" + "".join(f"{D1},model-{i},,1,1,1,1,USD\n" for i in range(200))
    response = _upload(small_api, token, manual, big)
    _error(response, 413, "payload_too_large")


# -- who may do what ------------------------------------------------------------------------------------------


def _routes(account_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    csv_file = {"data": {"file": (io.BytesIO(f"{HEADER}\n".encode()), "x.csv")}, "content_type": "multipart/form-data"}
    return [
        ("GET", f"/api/accounts/{account_id}/entries", {}),
        ("POST", f"/api/accounts/{account_id}/entries", {"json": {"entries": [{"date": D1, "model": "m", "cost": 1}]}}),
        ("DELETE", f"/api/accounts/{account_id}/entries", {"query_string": {"date": D1, "model": "m"}}),
        ("POST", f"/api/accounts/{account_id}/entries/import", csv_file),
    ]


def test_viewers_read_entries_but_cannot_write(api, token, owner, manual):
    _post(api, token, manual, {"date": D1, "model": "m", "cost": "1"})
    ws = owner["workspaces"][0]["workspace_id"]
    invite = api.call("POST", f"/api/workspaces/{ws}/invites", token, json={"email": "v@example.com", "role": "viewer"})
    viewer = api.register("v@example.com", invite_token=invite.get_json()["token"])["access_token"]
    for method, path, kwargs in _routes(manual):
        response = api.call(method, path, viewer, **kwargs)
        if method == "GET":
            assert response.status_code == 200 and len(response.get_json()["items"]) == 1
        else:
            _error(response, 403, "forbidden")
    assert len(_entries(api, token, manual)) == 1


def test_synced_accounts_take_no_entries(app, api, token):
    body = {"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-not-manual-000000"}}
    demo = api.call("POST", "/api/accounts", token, json=body).get_json()["id"]
    for method, path, kwargs in _routes(demo):
        error = _error(api.call(method, path, token, **kwargs), 409, "not_manual_account")
        assert "demo" in error["message"]
    assert _count(app) == 0


def test_another_workspace_gets_404_for_the_entries(app, api, token, manual):
    _post(api, token, manual, {"date": D1, "model": "m", "cost": "1"})
    api.call("PATCH", "/api/admin/settings", token, json={"registration_mode": "open"})
    other = api.register("other@example.com")["access_token"]
    for method, path, kwargs in _routes(manual):
        _error(api.call(method, path, other, **kwargs), 404, "not_found")
    for method, path, kwargs in _routes(2**31 - 1):
        _error(api.call(method, path, other, **kwargs), 404, "not_found")
    assert len(_entries(api, token, manual)) == 1 and _count(app) == 1


# -- fuzzing the entry routes on a manual account -----------------------------------------------------------
# tests/test_openapi_fuzz.py fuzzes every operation against a demo account, where these routes answer 409
# before reading their input; here the account at the small ids Hypothesis favours is a manual one.


@pytest.fixture
def manual_schema(request: pytest.FixtureRequest, app: Any) -> Any:
    if not hasattr(request.node, "_nodeid"):  # see tests/test_openapi_fuzz.py
        request.node._nodeid = request.node.nodeid
    config = SchemathesisConfig.from_dict({"generation": {"with-security-parameters": False}})
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)


entry_routes = schemathesis.pytest.from_fixture("manual_schema").include(path_regex=r"/entries")
FUZZ_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@entry_routes.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_entry_routes_conform_to_the_openapi_document(case: Any, token: str, manual: int) -> None:
    assert manual == 1
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=FUZZ_CHECKS)
