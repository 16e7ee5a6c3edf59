"""The PostgreSQL a benchmark runs on: BENCH_POSTGRES_URL when set, else a throwaway cluster of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def postgres_url() -> Iterator[str]:
    """Yield BENCH_POSTGRES_URL, or the URL of a throwaway cluster (tests.postgres) that is stopped afterwards."""
    from tests.postgres import url_or_cluster  # the test helpers: imported only when a benchmark runs

    with url_or_cluster("BENCH_POSTGRES_URL") as url:
        yield url
