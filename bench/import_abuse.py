"""Hostile statement uploads and a big import's write lock, through the WSGI stack on the embedded SQLite default.

    python -m bench.import_abuse hostile [--parallel N]   # the comma file & co: time to answer, /healthz meanwhile
    python -m bench.import_abuse lock [--rows N]          # a 100,000-row import committed while another tenant writes

`hostile`: each hostile file (one 4.9 MB line of commas, a line of 2,000 fields, an over-long line, too many rows)
uploaded once (status, code, seconds, peak RSS growth), then N copies of the comma file at once while a thread asks
/healthz every 50 ms (the slowest /healthz answer, and how many answered 200).
`lock`: tenant A commits a statement of N rows (the bench lifts the 5 MB upload limit for it) while a probe connection
times `BEGIN IMMEDIATE` every 20 ms (its longest wait is the longest time the write lock was held) and tenant B posts
transactions (their statuses). Prints JSON; record the figures in docs/performance.md.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import platform
import resource
import sqlite3
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from backend.app import create_app
from backend.config import Settings
from backend.migrate import upgrade
from backend.services import imports

PASSWORD = "bench password 123"


@contextmanager
def _app() -> Iterator[tuple[Any, str]]:
    with tempfile.TemporaryDirectory(prefix="bench-import-abuse-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        settings = Settings(
            app_env="test",
            data_dir=Path(tmp),
            database_url=url,
            secret_key="bench-secret-key-bench-secret-key",
            encryption_keys=(Fernet.generate_key().decode(),),
            base_url="http://bench",
            auth_rate_limit="100000 per minute",
            max_request_bytes=64 * 1024 * 1024,
        )
        app = create_app(settings)
        try:
            yield app, str(Path(tmp) / "bench.db")
        finally:
            app.extensions["spendwatch"].db.dispose()


def _tenant(client: Any, email: str) -> tuple[dict[str, str], int]:
    """Register EMAIL; its auth headers and a new bank account's id."""
    registered = client.post("/api/auth/register", json={"email": email, "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {registered['access_token']}"}
    return headers, _bank(client, headers)


def _other_tenant(client: Any, headers: dict[str, str]) -> tuple[dict[str, str], int]:
    """A second workspace (another tenant) of the same user: its headers and a new bank account's id."""
    made = client.post("/api/workspaces", json={"name": "Other tenant"}, headers=headers).get_json()
    other = {**headers, "X-Workspace-Id": str(made["id"])}
    return other, _bank(client, other)


def _bank(client: Any, headers: dict[str, str]) -> int:
    made = client.post("/api/bank-accounts", json={"name": "Checking", "currency": "USD"}, headers=headers)
    return int(made.get_json()["id"])


def _upload(client: Any, headers: dict[str, str], bank: int, data: bytes, name: str = "statement.csv") -> Any:
    form = {"file": (io.BytesIO(data), name), "bank_account_id": str(bank)}
    return client.post("/api/imports", data=form, headers=headers, content_type="multipart/form-data")


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def hostile_files() -> dict[str, bytes]:
    """The hostile statements: each is refused, the question is how fast."""
    header = b"Date,Description,Amount\n"
    return {
        "comma_line_4_9mb": b"," * 4_900_000,
        "wide_fields_2000": header + b"2024-01-02,x," + b"1," * 2000 + b"\n",
        "long_line_1mb": header + b"2024-01-02," + b"x" * 1_000_000 + b",1.00\n",
        "rows_200k": header + b"2024-01-02,x,1.00\n" * 200_000,
    }


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def run_hostile(parallel: int) -> dict[str, Any]:
    with _app() as (app, _path):
        client = app.test_client()
        headers, bank = _tenant(client, "hostile@example.com")
        singles: dict[str, Any] = {}
        for name, data in hostile_files().items():
            before = _rss_mb()
            response, seconds = _timed(lambda data=data: _upload(client, headers, bank, data))  # type: ignore[misc]
            body = response.get_json() or {}
            singles[name] = {
                "bytes": len(data),
                "status": response.status_code,
                "code": body.get("error", {}).get("code"),
                "seconds": round(seconds, 3),
                "peak_rss_growth_mb": round(_rss_mb() - before, 1),
            }
        comma = hostile_files()["comma_line_4_9mb"]
        statuses: Counter[int] = Counter()
        upload_seconds: list[float] = []
        health: list[float] = []
        health_ok = Counter[int]()
        running = threading.Event()
        running.set()

        def attacker() -> None:
            response, seconds = _timed(lambda: _upload(app.test_client(), headers, bank, comma))
            statuses[response.status_code] += 1
            upload_seconds.append(seconds)

        def prober() -> None:
            probe = app.test_client()
            while running.is_set():
                response, seconds = _timed(lambda: probe.get("/healthz"))
                health.append(seconds)
                health_ok[response.status_code] += 1
                time.sleep(0.05)

        probe_thread = threading.Thread(target=prober)
        probe_thread.start()
        attackers = [threading.Thread(target=attacker) for _ in range(parallel)]
        started = time.perf_counter()
        for t in attackers:
            t.start()
        for t in attackers:
            t.join()
        wall = time.perf_counter() - started
        running.clear()
        probe_thread.join()
    return {
        "bench": "import_abuse_hostile",
        "single": singles,
        "parallel": {
            "uploads": parallel,
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "upload_seconds_max": round(max(upload_seconds), 3),
            "wall_seconds": round(wall, 3),
            "healthz_requests": len(health),
            "healthz_statuses": {str(k): v for k, v in sorted(health_ok.items())},
            "healthz_seconds_max": round(max(health), 3) if health else None,
        },
        "machine": _machine(),
    }


def _statement(rows: int) -> bytes:
    lines = ["Date,Description,Amount,Balance"]
    balance = 100_000_00
    for i in range(rows):
        cents = -((i * 7919) % 20_000 + 100) if i % 5 else (i * 104_729) % 300_000 + 100
        balance += cents
        day = f"2023-{(i * 12 // rows) + 1:02d}-{(i % 28) + 1:02d}"
        lines.append(f"{day},PAYEE {i % 997} STORE #{i % 53},{cents / 100:.2f},{balance / 100:.2f}")
    return ("\n".join(lines) + "\n").encode()


def run_lock(rows: int) -> dict[str, Any]:
    data = _statement(rows)
    limit, max_rows = imports.MAX_FILE_BYTES, rows
    with _app() as (app, path):
        client = app.test_client()
        a_headers, a_bank = _tenant(client, "big@example.com")
        b_headers, b_bank = _other_tenant(client, a_headers)
        imports.MAX_FILE_BYTES = max(limit, len(data))  # lifted for the bench, restored below
        try:
            uploaded = _upload(client, a_headers, a_bank, data)
        finally:
            imports.MAX_FILE_BYTES = limit
        assert uploaded.status_code == 201, uploaded.get_json()
        batch = uploaded.get_json()["batch"]["id"]
        waits: list[float] = []
        victims: Counter[str] = Counter()
        running = threading.Event()
        running.set()

        def probe() -> None:
            connection = sqlite3.connect(path, timeout=120, isolation_level=None)
            while running.is_set():
                started = time.perf_counter()
                connection.execute("BEGIN IMMEDIATE")
                waits.append(time.perf_counter() - started)
                connection.execute("ROLLBACK")
                time.sleep(0.02)
            connection.close()

        def victim() -> None:
            other = app.test_client()
            n = 0
            while running.is_set():
                n += 1
                body = {"bank_account_id": b_bank, "posted_on": "2024-01-02", "amount": "-1.00", "description": f"v{n}"}
                response = other.post("/api/transactions", json=body, headers=b_headers)
                code = (response.get_json() or {}).get("error", {}).get("code")
                victims[f"{response.status_code}{' ' + code if code else ''}"] += 1
                time.sleep(0.05)

        threads = [threading.Thread(target=probe), threading.Thread(target=victim)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        committed, seconds = _timed(lambda: client.post(f"/api/imports/{batch}/commit", json={}, headers=a_headers))
        time.sleep(0.3)
        running.clear()
        for t in threads:
            t.join()
        assert committed.status_code == 200, committed.get_json()
    return {
        "bench": "import_abuse_lock",
        "rows": max_rows,
        "file_bytes": len(data),
        "rows_added": committed.get_json()["rows_added"],
        "commit_seconds": round(seconds, 3),
        "write_lock_wait_max_s": round(max(waits), 3),
        "write_lock_probes": len(waits),
        "other_tenant_posts": dict(sorted(victims.items())),
        "machine": _machine(),
    }


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load": [round(x, 2) for x in os.getloadavg()],
        "sqlite": sqlite3.sqlite_version,
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: python -m bench.import_abuse {hostile,lock}."""
    parser = argparse.ArgumentParser(prog="python -m bench.import_abuse", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("hostile").add_argument("--parallel", type=int, default=8)
    sub.add_parser("lock").add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    report = run_hostile(args.parallel) if args.what == "hostile" else run_lock(args.rows)
    json.dump(report, __import__("sys").stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
