"""No credential ever appears in a log line, an API response, or the raw database."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import text

from backend.models import Base

GOOD_KEY = "demo-GOODSECRET-4c1f9e2b7a"
BAD_KEY = "sk-BADSECRET-9d8e7f6a5b4c"
SMTP_PASSWORD = "SMTPSECRET-p4ss-0xdeadbeef"
SECRETS = (GOOD_KEY, BAD_KEY, SMTP_PASSWORD)
# Distinctive middles of the secrets: catch partial leaks too, not only verbatim copies.
FRAGMENTS = ("GOODSECRET", "BADSECRET", "SMTPSECRET", "0xdeadbeef")


def _assert_clean(where: str, blob: str) -> None:
    for fragment in FRAGMENTS:
        assert fragment not in blob, f"secret fragment {fragment!r} found in {where}"


def test_secrets_stay_out_of_logs_responses_and_the_database(app, api, caplog, db_kind, database_url):
    caplog.set_level(logging.DEBUG)  # everything, every logger, SQL statements included
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    bodies: list[str] = []

    def call(method, path, token, **kwargs):
        response = api.call(method, path, token, **kwargs)
        bodies.append(response.get_data(as_text=True))
        return response

    token = api.register("owner@example.com")["access_token"]
    good = call(
        "POST",
        "/api/accounts",
        token,
        json={"kind": "demo", "name": "good", "credentials": {"api_key": GOOD_KEY}},
    )
    bad = call(
        "POST",
        "/api/accounts",
        token,
        json={"kind": "demo", "name": "bad", "credentials": {"api_key": BAD_KEY}},
    )
    assert good.status_code == bad.status_code == 201
    good_id, bad_id = good.get_json()["id"], bad.get_json()["id"]

    assert call("POST", f"/api/accounts/{good_id}/test", token).get_json()["ok"] is True
    failed = call("POST", f"/api/accounts/{bad_id}/test", token).get_json()
    assert failed["ok"] is False and failed["status"] == "needs_attention"
    # Failing writes: an unknown field and an unknown kind, each carrying a secret in the request.
    assert (
        call(
            "POST",
            "/api/accounts",
            token,
            json={"kind": "nope", "name": "x", "credentials": {"api_key": BAD_KEY}},
        ).status_code
        == 422
    )
    assert (
        call(
            "PATCH",
            f"/api/accounts/{good_id}",
            token,
            json={"credentials": {"api_key": GOOD_KEY, "x": BAD_KEY}},
        ).status_code
        == 422
    )
    assert call("PATCH", "/api/admin/settings", token, json={"smtp": {"password": SMTP_PASSWORD}}).status_code == 200
    assert (
        call("PATCH", "/api/admin/settings", token, json={"smtp": {"password": SMTP_PASSWORD, "port": 0}}).status_code
        == 422
    )
    call("GET", "/api/accounts", token)
    call("GET", f"/api/accounts/{bad_id}", token)
    call("GET", "/api/admin/settings", token)

    assert caplog.records, "expected the requests above to log something"
    _assert_clean("log output", caplog.text)
    _assert_clean("log record arguments", " ".join(repr(r.args) for r in caplog.records))
    for body in bodies:
        _assert_clean("an API response", body)

    if db_kind == "sqlite":
        path = Path(database_url.removeprefix("sqlite:///"))
        # WAL mode: recent writes may sit in the -wal file, so read both.
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        _assert_clean("the raw SQLite file", raw.decode("latin-1"))
    else:
        # Every column of every table, cast to text as PostgreSQL stores it.
        with app.extensions["spendwatch"].db.system_session() as session:
            for tbl in Base.metadata.sorted_tables:
                rows = session.execute(text(f"SELECT t::text FROM {tbl.name} t")).scalars().all()
                _assert_clean(f"table {tbl.name}", "\n".join(rows))
