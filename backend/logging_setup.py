"""Process logging: JSON lines in production, readable text in development."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from backend.config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(settings: Settings | None = None, *, level: str = "INFO", fmt: str = "text") -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    if settings is not None:
        level, fmt = settings.log_level, settings.log_format
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_spendwatch", False):
            root.removeHandler(existing)
    handler._spendwatch = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Request lines from the WSGI servers are enough; their per-request debug chatter is not.
    logging.getLogger("waitress.queue").setLevel(logging.WARNING)
