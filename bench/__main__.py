"""Run every benchmark and print one JSON document (record the figures in docs/performance.md).

python -m bench             # the quick ones (make bench)
python -m bench frontend    # and the web app's dashboard bench at full scale (PostgreSQL, Chromium: minutes)
"""

from __future__ import annotations

import json
import logging
import os
import platform
import sys
from collections.abc import Callable
from typing import Any

from bench import api_requests, frontend

# Benchmarks that take minutes and need PostgreSQL (and a browser): run only when named, with their defaults.
# Each is also a command of its own with options: python -m bench.NAME --help.
ON_REQUEST: dict[str, Callable[[], dict[str, Any]]] = {"frontend": frontend.run}


def main(argv: list[str] | None = None) -> None:
    """Command line: python -m bench [NAME ...]."""
    names = sys.argv[1:] if argv is None else argv
    unknown = [name for name in names if name not in ON_REQUEST]
    if unknown:
        raise SystemExit(f"python -m bench: no benchmark named {', '.join(unknown)} (known: {', '.join(ON_REQUEST)})")
    logging.disable(logging.WARNING)
    report = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "api_requests": api_requests.run(),
    }
    for name in names:
        report[name] = ON_REQUEST[name]()
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
