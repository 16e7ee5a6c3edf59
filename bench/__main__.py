"""Run every benchmark and print one JSON document (record the figures in docs/performance.md)."""

from __future__ import annotations

import json
import logging
import os
import platform
import sys

from bench import api_requests


def main() -> None:
    logging.disable(logging.WARNING)
    report = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "api_requests": api_requests.run(),
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
