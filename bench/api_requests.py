"""API request cost on the embedded SQLite default: sign-in, list/read/create accounts, through the WSGI stack."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from backend.app import create_app
from backend.config import Settings
from backend.migrate import upgrade

ACCOUNTS = 200


def _time(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "n": repeat,
        "p50_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 3),
        "mean_ms": round(statistics.fmean(samples), 3),
    }


def run() -> dict[str, Any]:
    """Measure the main API paths against a fresh SQLite database."""
    with tempfile.TemporaryDirectory() as tmp:
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
        )
        app = create_app(settings)
        client = app.test_client()
        password = "bench password 123"
        registered = client.post("/api/auth/register", json={"email": "bench@example.com", "password": password})
        headers = {"Authorization": f"Bearer {registered.get_json()['access_token']}"}

        def create() -> None:
            body = {"kind": "demo", "name": "bench", "credentials": {"api_key": "demo-" + "k" * 40}}
            assert client.post("/api/accounts", json=body, headers=headers).status_code == 201

        results = {"create_account": _time(create, ACCOUNTS)}
        results["list_accounts_200"] = _time(lambda: client.get("/api/accounts", headers=headers).get_json(), 50)
        results["get_account"] = _time(lambda: client.get("/api/accounts/17", headers=headers), 300)
        results["auth_me"] = _time(lambda: client.get("/api/auth/me", headers=headers), 300)
        results["login_argon2"] = _time(
            lambda: client.post("/api/auth/login", json={"email": "bench@example.com", "password": password}), 20
        )
        app.extensions["spendwatch"].db.dispose()
        return {"database": "sqlite", "accounts": ACCOUNTS, "results": results}
