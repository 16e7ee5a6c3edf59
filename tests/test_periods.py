"""Budget periods in the workspace's timezone: bounds and keys across month, week, quarter, year, day and DST."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.services.periods import current_period

D = dt.date


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("period", "timezone", "now", "week_start", "expected"),
    [
        ("month", "UTC", _utc(2026, 11, 22, 12), 0, ("2026-11", D(2026, 11, 1), D(2026, 11, 30))),
        # 23:30 UTC on Oct 31 is already Nov 1 in Tokyo, still Oct 31 in New York.
        ("month", "Asia/Tokyo", _utc(2026, 10, 31, 23, 30), 0, ("2026-11", D(2026, 11, 1), D(2026, 11, 30))),
        ("month", "America/New_York", _utc(2026, 11, 1, 3), 0, ("2026-10", D(2026, 10, 1), D(2026, 10, 31))),
        ("month", "UTC", _utc(2028, 2, 10), 0, ("2028-02", D(2028, 2, 1), D(2028, 2, 29))),
        ("week", "UTC", _utc(2026, 11, 22, 12), 0, ("2026-W47", D(2026, 11, 16), D(2026, 11, 22))),
        ("week", "UTC", _utc(2026, 11, 22, 12), 6, ("2026-W48", D(2026, 11, 22), D(2026, 11, 28))),
        ("week", "UTC", _utc(2026, 12, 30), 0, ("2026-W53", D(2026, 12, 28), D(2027, 1, 3))),
        ("week", "UTC", _utc(2027, 1, 1), 0, ("2026-W53", D(2026, 12, 28), D(2027, 1, 3))),
        ("quarter", "UTC", _utc(2026, 11, 22), 0, ("2026-Q4", D(2026, 10, 1), D(2026, 12, 31))),
        ("quarter", "Europe/Paris", _utc(2026, 3, 31, 22, 30), 0, ("2026-Q2", D(2026, 4, 1), D(2026, 6, 30))),
        ("year", "Pacific/Auckland", _utc(2026, 12, 31, 11, 30), 0, ("2027", D(2027, 1, 1), D(2027, 12, 31))),
        ("year", "UTC", _utc(2026, 12, 31, 23, 59), 0, ("2026", D(2026, 1, 1), D(2026, 12, 31))),
        ("day", "UTC", _utc(2026, 11, 22, 23, 59), 0, ("2026-11-22", D(2026, 11, 22), D(2026, 11, 22))),
        # DST: Europe/Berlin is UTC+1 after Oct 25 2026, UTC+2 before it.
        ("day", "Europe/Berlin", _utc(2026, 10, 25, 22, 30), 0, ("2026-10-25", D(2026, 10, 25), D(2026, 10, 25))),
        ("day", "Europe/Berlin", _utc(2026, 10, 25, 23, 0), 0, ("2026-10-26", D(2026, 10, 26), D(2026, 10, 26))),
        ("day", "Europe/Berlin", _utc(2026, 3, 28, 22, 59), 0, ("2026-03-28", D(2026, 3, 28), D(2026, 3, 28))),
        ("day", "Europe/Berlin", _utc(2026, 3, 29, 22, 0), 0, ("2026-03-30", D(2026, 3, 30), D(2026, 3, 30))),
        ("day", "No/Such_Zone", _utc(2026, 11, 22, 23, 0), 0, ("2026-11-22", D(2026, 11, 22), D(2026, 11, 22))),
    ],
)
def test_period_bounds_and_keys(
    period: str, timezone: str, now: dt.datetime, week_start: int, expected: tuple[str, dt.date, dt.date]
) -> None:
    p = current_period(period, timezone=timezone, now=now, week_start=week_start)
    assert (p.key, p.start, p.end) == expected
    assert p.start <= p.today <= p.end


def test_unknown_period_is_refused() -> None:
    with pytest.raises(ValueError):
        current_period("fortnight", timezone="UTC", now=_utc(2026, 1, 1))
