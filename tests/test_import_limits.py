"""Hostile statement files are refused early and cheaply (issue 12, item 4): bounds on line length, fields per line
and rows before layout detection, a time limit inside the parse, and a cap on parses at once (503 beyond it)."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest

from backend.config import ImportSettings
from backend.models import ImportBatch
from tests.conftest import Api

HEADER = b"Date,Description,Amount\n"
COMMAS = b"," * 4_900_000  # the attack: one 4.9 MB line of commas (under the 5 MB upload limit)


def _bank(api: Api, token: str) -> int:
    made = api.call("POST", "/api/bank-accounts", token, json={"name": "Checking", "currency": "USD"})
    assert made.status_code == 201, made.get_json()
    return int(made.get_json()["id"])


def _upload(client: Any, token: str, bank: int, data: bytes, **form: str) -> Any:
    fields: dict[str, Any] = {"file": (io.BytesIO(data), "statement.csv"), "bank_account_id": str(bank), **form}
    return client.post(
        "/api/imports",
        data=fields,
        headers=Api.headers(token),
        content_type="multipart/form-data",
    )


def _refused(response: Any, code: str) -> dict[str, Any]:
    body = response.get_json()
    assert response.status_code == 422, body
    assert body["error"]["code"] == code, body
    assert "Traceback" not in response.get_data(as_text=True)
    return dict(body["error"])


@pytest.fixture
def token(owner: dict[str, Any]) -> str:
    return str(owner["access_token"])


def _no_batches(app: Any) -> None:
    with app.extensions["spendwatch"].db.system_session() as session:
        assert session.query(ImportBatch).count() == 0


def test_a_line_of_commas_is_refused_before_layout_detection(app: Any, api: Api, token: str) -> None:
    error = _refused(_upload(api.client, token, _bank(api, token), COMMAS), "line_too_long")
    assert "line 1 is 4,900,000 characters long" in error["message"]
    assert error["details"] == {"limit": 10_000, "line": 1}
    _no_batches(app)


def test_too_many_fields_and_an_over_long_line_are_refused(app: Any, api: Api, token: str) -> None:
    bank = _bank(api, token)
    wide = HEADER + b"2024-01-02,Coffee,-3.50\n2024-01-03,Tea," + b"1;" * 250 + b"\n"
    error = _refused(_upload(api.client, token, bank, wide), "too_many_fields")
    assert "line 3 splits into 251 fields at ';'" in error["message"]
    long_line = HEADER + b"2024-01-02," + b"x" * 20_000 + b",-3.50\n"
    _refused(_upload(api.client, token, bank, long_line), "line_too_long")
    # With a mapping given, the same bounds hold (there is no detection to skip to).
    mapping = '{"date_column": "Date", "amount_column": "Amount", "description_columns": ["Description"]}'
    _refused(_upload(api.client, token, bank, long_line, mapping=mapping), "line_too_long")
    _no_batches(app)


def test_too_many_rows_are_refused(make_app: Any) -> None:
    app = make_app(imports=ImportSettings(max_rows=50))
    api = Api(app.test_client())
    token = api.register("rows@example.com")["access_token"]
    bank = _bank(api, token)
    rows = [b"2024-01-%02d,Coffee %d,-3.50\n" % (i % 28 + 1, i) for i in range(51)]
    error = _refused(_upload(api.client, token, bank, HEADER + b"".join(rows)), "too_many_rows")
    assert "more than 50 rows" in error["message"]
    assert _upload(api.client, token, bank, HEADER + b"".join(rows[:50])).status_code == 201


def test_a_parse_past_its_time_limit_is_refused(make_app: Any) -> None:
    app = make_app(imports=ImportSettings(parse_seconds=0.000001))
    api = Api(app.test_client())
    token = api.register("slow@example.com")["access_token"]
    statement = HEADER + b"".join(b"2024-01-%02d,Coffee %d,-3.50\n" % (i % 28 + 1, i) for i in range(200))
    error = _refused(_upload(api.client, token, _bank(api, token), statement), "parse_timeout")
    assert "took longer than the time allowed" in error["message"]
    _no_batches(app)


def test_uploads_beyond_the_parse_cap_get_503_with_retry_after(make_app: Any) -> None:
    app = make_app(imports=ImportSettings(max_parses=1, slot_wait_seconds=0.05))
    api = Api(app.test_client())
    token = api.register("busy@example.com")["access_token"]
    bank = _bank(api, token)
    statement = HEADER + b"2024-01-02,Coffee,-3.50\n"
    parser = app.extensions["spendwatch"].statements
    parser._slots.acquire()  # the one slot, taken as a parse that is still running holds it
    try:
        busy = _upload(api.client, token, bank, statement)
    finally:
        parser._slots.release()
    assert busy.status_code == 503, busy.get_json()
    assert busy.get_json()["error"]["code"] == "import_busy"
    assert int(busy.headers["Retry-After"]) >= 1
    assert _upload(api.client, token, bank, statement).status_code == 201


def test_healthz_answers_while_hostile_uploads_run_in_parallel(app: Any, api: Api, token: str) -> None:
    bank = _bank(api, token)
    in_flight = 0
    lock = threading.Lock()
    statuses: list[int] = []

    def attack() -> None:
        nonlocal in_flight
        client = app.test_client()
        for _ in range(3):
            with lock:
                in_flight += 1
            try:
                statuses.append(_upload(client, token, bank, COMMAS).status_code)
            finally:
                with lock:
                    in_flight -= 1

    attackers = [threading.Thread(target=attack) for _ in range(8)]
    for thread in attackers:
        thread.start()
    probe = app.test_client()
    answered_during_attack = 0
    while any(t.is_alive() for t in attackers):
        with lock:
            attacked = in_flight > 0
        response = probe.get("/healthz")
        assert response.status_code == 200, response.get_data(as_text=True)
        answered_during_attack += attacked
    for thread in attackers:
        thread.join()
    assert answered_during_attack > 0
    assert statuses == [422] * 24
