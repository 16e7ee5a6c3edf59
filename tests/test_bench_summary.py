"""bench.summary: its data plan adds up and fits every account, and a tiny run checks itself end to end."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bench import summary


@pytest.mark.parametrize("scale", [0.001, 0.01, 1.0])
def test_plan_adds_up_and_every_account_fits_its_dimensions(scale):
    plan = summary._plan(scale)
    assert sum(rows for *_, rows in plan) == int(summary.ROWS * scale)
    measured = sum(rows for ws, *_, rows in plan if ws == 0)
    assert measured == int(int(summary.ROWS * scale) * summary.BIG_SHARE)
    assert {ws for ws, *_ in plan} == set(range(summary.WORKSPACES))
    for n, (ws, name, shape, rows) in enumerate(plan, start=1):
        account = SimpleNamespace(id=n, workspace_id=ws + 1, kind=shape.kind, name=name)
        params = summary._parameters(account, shape, rows)  # raises if the rows do not fit
        assert params["rows"] == rows >= 1


@pytest.mark.postgres_only
def test_a_tiny_run_checks_its_totals_and_rollup(monkeypatch):
    monkeypatch.delenv("BENCH_POSTGRES_URL", raising=False)  # its own throwaway cluster
    report = summary.run(scale=0.001, requests=20)
    assert report["usage_rows"] == 10_000
    assert report["measured_workspace"]["groups"] > 1
    check = report["check"]
    assert check["totals_equal"] and check["requests_equal"] and check["groups_equal"], check
    assert check["rebuild_rows_compared"] > 0 and check["rebuild_rows_differing"] == 0
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["max_ms"]
