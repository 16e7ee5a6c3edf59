"""A write lock held elsewhere never makes a request fail with a 500 (issue 12, item 5): on SQLite a short write waits
for the lock (busy_timeout), one that waits too long is a 503 database_busy with Retry-After, and an import's commit
is all or nothing."""

from __future__ import annotations

import io
import sqlite3
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.models import ImportBatch, Transaction
from tests.conftest import Api

# SQLite's database-wide write lock and busy_timeout; PostgreSQL locks rows (deselected on the PostgreSQL run).
pytestmark = pytest.mark.sqlite_only

STATEMENT = b"Date,Description,Amount\n" + b"".join(
    b"2024-02-%02d,%s,-%d.50\n" % (i % 28 + 1, b"BOOM" if i == 250 else b"Shop %d" % i, i + 1) for i in range(500)
)


def _path(app: Any) -> str:
    return str(app.extensions["spendwatch"].db.engine.url.database)


class WriteLock:
    """Another connection holding SQLite's write lock (BEGIN IMMEDIATE) until released."""

    def __init__(self, app: Any) -> None:
        self.connection = sqlite3.connect(_path(app), isolation_level=None, check_same_thread=False)
        self.connection.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.connection.execute("ROLLBACK")
        self.connection.close()


def _tenant(api: Api, email: str) -> tuple[str, int]:
    token = str(api.register(email)["access_token"])
    made = api.call("POST", "/api/bank-accounts", token, json={"name": "Checking", "currency": "USD"})
    assert made.status_code == 201, made.get_json()
    return token, int(made.get_json()["id"])


def _post_transaction(api: Api, token: str, bank: int) -> Any:
    body = {"bank_account_id": bank, "posted_on": "2024-02-03", "amount": "-4.20", "description": "Lunch"}
    return api.call("POST", "/api/transactions", token, json=body)


def _count(app: Any, model: Any, **where: Any) -> int:
    with app.extensions["spendwatch"].db.system_session() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.scalar(query) or 0)


def test_a_short_write_waits_for_the_lock_instead_of_failing(app: Any, api: Api) -> None:
    token, bank = _tenant(api, "other@example.com")
    lock = WriteLock(app)
    # Released while the request below waits on it (well within the 5 s busy timeout).
    timer = threading.Timer(0.3, lock.release)
    timer.start()
    try:
        response = _post_transaction(api, token, bank)
    finally:
        timer.join()
    assert response.status_code == 201, response.get_json()


def test_a_write_that_waits_too_long_is_a_503_with_retry_after(make_app: Any) -> None:
    app = make_app(sqlite_busy_timeout_ms=50)
    api = Api(app.test_client())
    token, bank = _tenant(api, "other@example.com")
    lock = WriteLock(app)  # as a big import's commit holds it
    try:
        response = _post_transaction(api, token, bank)
    finally:
        lock.release()
    body = response.get_json()
    assert response.status_code == 503, body
    assert body["error"]["code"] == "database_busy"
    assert int(response.headers["Retry-After"]) >= 1
    assert "Traceback" not in response.get_data(as_text=True) and "sqlite" not in str(body).lower()
    assert _count(app, Transaction) == 0
    assert _post_transaction(api, token, bank).status_code == 201  # sent again, it goes through


def _upload(api: Api, token: str, bank: int) -> int:
    form = {"file": (io.BytesIO(STATEMENT), "statement.csv"), "bank_account_id": str(bank)}
    uploaded = api.call("POST", "/api/imports", token, data=form, content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    return int(uploaded.get_json()["batch"]["id"])


def test_an_import_commit_that_cannot_get_the_lock_is_a_503_and_stores_nothing(make_app: Any) -> None:
    app = make_app(sqlite_busy_timeout_ms=50)
    api = Api(app.test_client())
    token, bank = _tenant(api, "big@example.com")
    batch = _upload(api, token, bank)
    lock = WriteLock(app)
    try:
        response = api.call("POST", f"/api/imports/{batch}/commit", token, json={})
    finally:
        lock.release()
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "database_busy"
    assert _count(app, Transaction) == 0
    assert _count(app, ImportBatch, id=batch, status="preview") == 1
    committed = api.call("POST", f"/api/imports/{batch}/commit", token, json={})
    assert committed.status_code == 200, committed.get_json()
    assert committed.get_json()["rows_added"] == 500


def test_an_import_failing_midway_leaves_no_rows(app: Any, api: Api) -> None:
    token, bank = _tenant(api, "big@example.com")
    batch = _upload(api, token, bank)
    # The database refuses row 251 of 500 while the commit inserts them (a disk or constraint failure midway).
    raw = sqlite3.connect(_path(app), isolation_level=None)
    raw.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON transactions WHEN NEW.description = 'BOOM' "
        "BEGIN SELECT RAISE(ABORT, 'refused midway'); END"
    )
    try:
        failed = api.call("POST", f"/api/imports/{batch}/commit", token, json={})
    finally:
        raw.execute("DROP TRIGGER boom")
        raw.close()
    assert failed.status_code == 409, failed.get_json()  # an integrity failure: "nothing was added"
    assert "Traceback" not in failed.get_data(as_text=True)
    assert _count(app, Transaction) == 0
    assert _count(app, ImportBatch, id=batch, status="preview") == 1
    committed = api.call("POST", f"/api/imports/{batch}/commit", token, json={})
    assert committed.status_code == 200, committed.get_json()
    assert _count(app, Transaction, import_id=batch) == 500
