"""The PostgreSQL a benchmark runs on: BENCH_POSTGRES_URL when set, else a throwaway cluster of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def postgres_url() -> Iterator[str]:
    """Yield BENCH_POSTGRES_URL, or the URL of a throwaway cluster (tests.postgres) that is stopped afterwards."""
    given = os.environ.get("BENCH_POSTGRES_URL")
    if given:
        yield given
        return
    from tests.postgres import start_cluster  # the test helpers: only when a cluster is needed

    cluster = start_cluster()
    try:
        yield cluster.url
    finally:
        cluster.stop()
