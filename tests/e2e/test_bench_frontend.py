"""bench.frontend end to end at a tiny scale: its own PostgreSQL, a real `spendwatch run`, Chromium, the dashboard.

Checks what the bench reports, never its timing targets: the machine is shared and the data tiny.
"""

from __future__ import annotations

import pytest

from bench import frontend


def test_a_tiny_run_shows_the_datasets_total_and_counts_the_dashboards_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two timed loads on 10,000 usage rows: the page shows the month's total; the calls are counted and named."""
    monkeypatch.delenv("BENCH_POSTGRES_URL", raising=False)  # its own throwaway cluster
    report = frontend.run(scale=0.001, loads=2, warmups=1)

    assert report["usage_rows"] == 10_000 and report["dataset"] == "built"
    check = report["check"]
    assert check["totals_equal"] and check["shown_total"] == check["expected_total"] != "$0.00", check
    assert check["error_states"] == 0 and check["page_errors"] == [], check
    assert report["content"]["budgets"] == check["gauges"] == 4
    assert check["alerts_shown"] == min(report["content"]["alerts"], 5)

    assert report["api_calls_min"] == report["api_calls_max"] == len(report["api_paths"])
    kinds = report["api_calls_by_kind"]
    assert 1 <= kinds["dashboard"] <= 4 and "other" not in kinds, report["api_paths"]
    assert sum(kinds.values()) == report["api_calls_max"]
    assert report["dashboard_calls_max"] == kinds["dashboard"] and report["targets"]["api_calls_met"]
    assert any(path.startswith("GET /api/usage/summary?") for path in report["api_paths"])

    assert len(report["times_ms"]) == 2 and len(report["warmup_ms"]) == 1
    assert all(ms > 0 for ms in [*report["times_ms"], *report["warmup_ms"], report["cold_ms"]])
    assert 0 < report["min_ms"] <= report["median_ms"] <= report["max_ms"]
    phases = report["phases_median_ms"]
    assert phases["data_calls_end"] is not None and phases["data_calls_end"] <= phases["data_on_screen"]

    bundle = report["bundle"]
    assert 0 < bundle["entry_gz_kb"] <= bundle["dashboard_load_gz_kb"] < bundle["dashboard_load_raw_kb"]
    # The dashboard is in the entry chunk; Chart.js comes in its own chunk, requested when the dashboard mounts.
    assert any(name.startswith("assets/index-") for name in bundle["dashboard_load_files"])
    assert any(name.startswith("assets/StackedBarChart-") for name in bundle["dashboard_load_files"])
