"""Operational endpoints (/healthz, /readyz, /metrics) and structured logging."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.logging_setup import configure_logging


def _samples(body: str, name: str) -> list:
    return [s for family in text_string_to_metric_families(body) for s in family.samples if s.name == name]


def _requests(client) -> list:
    response = client.get("/metrics")
    assert response.status_code == 200
    return _samples(response.get_data(as_text=True), "spendwatch_http_requests_total")


# --- health and readiness ---------------------------------------------------------------------------


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok"}


def test_readyz_when_database_is_migrated(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}


def test_readyz_503_when_database_is_behind(make_app, tmp_path):
    app = make_app(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] != "ok"
    # It says where the database is and what the code expects.
    head = app.config["MIGRATION_HEADS"][0]
    assert head in body["checks"]["migrations"]
    # Liveness does not depend on the database.
    assert app.test_client().get("/healthz").status_code == 200


def test_readyz_503_when_database_is_unreachable(make_app):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(database_url=f"postgresql+psycopg://spendwatch:s3cret-pw@127.0.0.1:{port}/nothing")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] != "ok"
    text = response.get_data(as_text=True)
    assert "s3cret-pw" not in text
    assert "Traceback" not in text


# --- metrics ----------------------------------------------------------------------------------------


def _content_type_params(client) -> list[str]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return [p.strip() for p in response.headers["Content-Type"].split(";")]


def test_metrics_content_type_is_prometheus_text(client):
    params = _content_type_params(client)
    assert params[0] == "text/plain"
    assert "version=0.0.4" in params, params


def test_metrics_content_type_has_each_parameter_once(client):
    # Go's mime.ParseMediaType rejects a duplicate parameter, and Prometheus 3 fails a scrape whose
    # Content-Type it cannot parse.
    params = _content_type_params(client)
    names = [p.split("=", 1)[0].lower() for p in params[1:]]
    assert len(names) == len(set(names)), params


def test_metrics_count_requests_by_route(client):
    client.get("/healthz")
    client.get("/healthz")
    body = client.get("/metrics").get_data(as_text=True)
    assert "# TYPE spendwatch_http_requests_total counter" in body or "# TYPE spendwatch_http_requests counter" in body
    samples = _samples(body, "spendwatch_http_requests_total")
    healthz = [s for s in samples if s.labels["route"] == "/healthz"]
    assert len(healthz) == 1
    assert healthz[0].labels == {"method": "GET", "route": "/healthz", "status": "200"}
    assert healthz[0].value == 2
    # Latency is recorded too.
    durations = _samples(body, "spendwatch_http_request_duration_seconds_count")
    assert any(s.labels["route"] == "/healthz" and s.value == 2 for s in durations)


def test_metrics_route_label_is_the_rule_template(client, api, owner):
    response = api.call("GET", "/api/accounts/123", owner["access_token"])
    assert response.status_code == 404
    samples = [s for s in _requests(client) if "accounts" in s.labels["route"]]
    assert samples, "the request to /api/accounts/123 was not counted"
    routes = {s.labels["route"] for s in samples}
    assert all("123" not in r for r in routes)
    [route] = [r for r in routes if r.startswith("/api/accounts/")]
    assert re.fullmatch(r"/api/accounts/<(int:)?account_id>", route), route
    [sample] = [s for s in samples if s.labels["route"] == route]
    assert sample.labels["status"] == "404"
    assert sample.labels["method"] == "GET"


def test_metrics_unknown_paths_do_not_create_labels_per_path(client):
    for i in range(3):
        assert client.get(f"/api/no-such-thing-{i}").status_code == 404
    routes = {s.labels["route"] for s in _requests(client)}
    assert not any("no-such-thing" in r for r in routes), routes


def test_metrics_are_per_app(make_app):
    first, second = make_app(), make_app()
    first.test_client().get("/healthz")
    samples = _requests(second.test_client())
    assert not any(s.labels["route"] == "/healthz" for s in samples)


# --- structured logs --------------------------------------------------------------------------------


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def _our_handler() -> logging.StreamHandler:
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "_spendwatch", False)]
    assert isinstance(handler, logging.StreamHandler)
    return handler


def test_json_logs_are_one_object_per_line(restore_logging):
    configure_logging(fmt="json", level="INFO")
    stream = io.StringIO()
    _our_handler().setStream(stream)

    log = logging.getLogger("spendwatch.test")
    log.info("hello %s", "world")
    log.warning("with extra", extra={"account_id": 7})
    log.debug("below the level")
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        log.exception("it failed")

    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record)
        assert record["logger"] == "spendwatch.test"
    assert records[0]["message"] == "hello world"
    assert records[0]["level"] == "INFO"
    assert records[1]["level"] == "WARNING"
    assert records[1]["account_id"] == 7
    assert records[2]["level"] == "ERROR"
    assert records[2]["message"] == "it failed"
    # The traceback is inside the one JSON line, not spread over several.
    assert "ValueError: boom" in json.dumps(records[2])


def test_json_logs_go_to_stderr(restore_logging, capfd):
    configure_logging(fmt="json")
    logging.getLogger("spendwatch.test").warning("to stderr")
    captured = capfd.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    record = json.loads(lines[-1])
    assert record["message"] == "to stderr"
    assert record["level"] == "WARNING"
    assert "to stderr" not in captured.out


def test_configure_logging_is_idempotent(restore_logging):
    configure_logging(fmt="text")
    configure_logging(fmt="json")
    stream = io.StringIO()
    _our_handler().setStream(stream)  # fails if two handlers were installed
    logging.getLogger("spendwatch.test").info("once")
    [line] = stream.getvalue().splitlines()
    assert json.loads(line)["message"] == "once"


def test_text_logs_are_readable_lines(restore_logging):
    configure_logging(fmt="text")
    stream = io.StringIO()
    _our_handler().setStream(stream)
    logging.getLogger("spendwatch.test").warning("plain %d", 42)
    [line] = stream.getvalue().splitlines()
    assert "WARNING" in line and "spendwatch.test" in line and line.endswith("plain 42")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
