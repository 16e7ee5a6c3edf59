"""Helpers for tests that run the real `spendwatch` command as a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SPENDWATCH = Path(sys.executable).parent / "spendwatch"

# Variables of ours that must not leak from the developer's shell into a subprocess under test.
_OURS = (
    "APP_ENV",
    "SECRET_KEY",
    "ENCRYPTION_KEYS",
    "DATABASE_URL",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "BASE_URL",
    "CORS_ORIGINS",
    "SPENDWATCH_",
    "FLASK_",
    "MAX_REQUEST_BYTES",
    "MAX_JSON_BYTES",
    "RATELIMIT_",
    "AUTH_RATE_LIMIT",
    "REFRESH_RATE_LIMIT",
    "TRUSTED_PROXIES",
    "WEB_CONCURRENCY",
    "SYNC_",
    "DELIVERY_",
)


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without Spendwatch's variables, plus EXTRA."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env.update(extra)
    return env


def worker_env(settings: Any, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `spendwatch worker` on SETTINGS' database, plus EXTRA (e.g. SYNC_… settings)."""
    return clean_env(
        DATABASE_URL=settings.database_url,
        SECRET_KEY=settings.secret_key,
        ENCRYPTION_KEYS=",".join(settings.encryption_keys),
        SPENDWATCH_DATA_DIR=str(data_dir),
        LOG_LEVEL="INFO",
        LOG_FORMAT="text",
        **extra,
    )


class Worker:
    """One `spendwatch worker` subprocess with its log file."""

    def __init__(self, name: str, env: dict[str, str], tmp_path: Path) -> None:
        self.name = name
        self.log_path = tmp_path / f"{name}.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [str(SPENDWATCH), "worker"],
                env=env,
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"worker {self.name} exited with {self.process.returncode}:\n{self.log()}")

    def owns(self, worker_id: str) -> bool:
        """Does a claim / run's `worker` name this process? (host:pid:random)"""
        parts = worker_id.split(":")
        return len(parts) >= 3 and parts[-2] == str(self.pid)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM (docker stop): the worker shuts its scheduler down and exits."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"worker {self.name} did not stop within 15 s of SIGTERM:\n{self.log()}")
