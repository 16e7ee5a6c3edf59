"""Helpers for tests that run the real `spendwatch` command as a subprocess."""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
    "RATELIMIT_",
    "AUTH_RATE_LIMIT",
    "REFRESH_RATE_LIMIT",
    "TRUSTED_PROXIES",
    "WEB_CONCURRENCY",
)


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without Spendwatch's variables, plus EXTRA."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env.update(extra)
    return env
