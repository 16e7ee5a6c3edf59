"""`make run` for real: `spendwatch run` on a fresh data dir (embedded SQLite, generated secrets) over HTTP.

This runs the same way under --db=sqlite and --db=postgres: the embedded default is SQLite by design.
"""

from __future__ import annotations

import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.conftest import PASSWORD
from tests.process import SPENDWATCH, clean_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, process: subprocess.Popen[str], base_url: str, data_dir: Path, log_path: Path) -> None:
        self.process = process
        self.base_url = base_url
        self.data_dir = data_dir
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> httpx.Response:
        deadline = time.monotonic() + timeout
        last: Exception | httpx.Response | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"spendwatch run exited with {self.process.returncode}:\n{self.log()}")
            try:
                response = httpx.get(f"{self.base_url}/readyz", timeout=2)
                if response.status_code == 200:
                    return response
                last = response
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.2)
        pytest.fail(f"/readyz not 200 within {timeout}s (last: {last!r}):\n{self.log()}")

    def stop(self, sig: int, timeout: float = 15.0) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    data_dir = tmp_path / "var"
    port = _free_port()
    env = clean_env()
    env["SPENDWATCH_DATA_DIR"] = str(data_dir)
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(SPENDWATCH), "run", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", data_dir, log_path)
    try:
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_make_run_serves_the_app_on_a_fresh_data_dir(server: Server) -> None:
    ready = server.wait_ready()
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}

    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        index = http.get("/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert "<html" in index.text.lower()

        assert http.get("/api/auth/registration").json()["first_user"] is True

        registered = http.post("/api/auth/register", json={"email": "me@example.com", "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        session = registered.json()
        assert session["user"]["is_admin"] is True
        auth = {"Authorization": f"Bearer {session['access_token']}"}

        created = http.post(
            "/api/accounts",
            headers=auth,
            json={"kind": "demo", "name": "Demo", "credentials": {"api_key": "demo-run-abcd"}},
        )
        assert created.status_code == 201, created.text
        account = created.json()
        assert account["credentials"]["api_key"] != "demo-run-abcd"

        tested = http.post(f"/api/accounts/{account['id']}/test", headers=auth)
        assert tested.status_code == 200, tested.text
        assert tested.json()["ok"] is True
        assert tested.json()["status"] == "ok"

        assert http.get(f"/api/accounts/{account['id']}", headers=auth).json()["status"] == "ok"

        # The scheduler in this process builds alert links on the port it serves, not the default :8000.
        budget = {
            "name": "Tiny",
            "scope": {},
            "period": "month",
            "amount": "0.01",
            "currency": "USD",
            "thresholds": [{"type": "percent", "value": "50"}],
        }
        assert http.post("/api/budgets", headers=auth, json=budget).status_code == 201
        assert http.post(f"/api/accounts/{account['id']}/sync", headers=auth).status_code == 202
        alerts: list[dict[str, object]] = []
        for _ in range(120):  # the sync starts within seconds, and alerts are evaluated right after it
            alerts = http.get("/api/alerts", headers=auth).json()["items"]
            if alerts:
                break
            time.sleep(0.5)
        assert alerts, "no alert fired"
        fired = http.get(f"/api/alerts/{alerts[0]['id']}", headers=auth).json()
        links = fired.get("links") or fired["payload"]["links"]
        assert links["dashboard"] == f"{server.base_url}/"
        assert links["mute"].startswith(f"{server.base_url}/api/alert-rules/")

        metrics = http.get("/metrics")
        assert "spendwatch_http_requests_total" in metrics.text

    # The embedded default: database and generated secrets in the data dir, secrets private.
    data = server.data_dir
    assert (data / "spendwatch.db").is_file()
    for name in ("secret_key", "encryption_keys"):
        path = data / name
        assert path.is_file(), name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    Fernet((data / "encryption_keys").read_text().strip().encode())
    assert (data / "secret_key").read_text().strip() != (data / "encryption_keys").read_text().strip()

    log = server.log()
    assert "generated SECRET_KEY and ENCRYPTION_KEYS" in log
    assert (data / "secret_key").read_text().strip() not in log
    assert "demo-run-abcd" not in log
    assert "Traceback" not in log

    code = server.stop(signal.SIGTERM)
    assert server.process.poll() is not None
    assert code in (0, -signal.SIGTERM), code


def test_run_restarts_on_the_same_data_dir_and_stops_on_sigint(server: Server, tmp_path: Path) -> None:
    server.wait_ready()
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        registered = http.post("/api/auth/register", json={"email": "me@example.com", "password": PASSWORD})
        assert registered.status_code == 201, registered.text
    secret = (server.data_dir / "secret_key").read_text()
    code = server.stop(signal.SIGINT)
    assert code == 0, server.log()
    assert "Scheduler has been shut down" in server.log()  # the scheduler was stopped, not killed

    # A second start on the same data dir keeps the secrets and the data, and says nothing about generating.
    port = _free_port()
    env = clean_env()
    env["SPENDWATCH_DATA_DIR"] = str(server.data_dir)
    log_path = tmp_path / "second.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(SPENDWATCH), "run", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    second = Server(process, f"http://127.0.0.1:{port}", server.data_dir, log_path)
    try:
        second.wait_ready()
        with httpx.Client(base_url=second.base_url, timeout=10) as http:
            login = http.post("/api/auth/login", json={"email": "me@example.com", "password": PASSWORD})
            assert login.status_code == 200, login.text
            me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
            assert me.json()["user"]["email"] == "me@example.com"
        assert (server.data_dir / "secret_key").read_text() == secret
        assert "generated" not in second.log()
        second.stop(signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
