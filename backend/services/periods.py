"""Budget periods: the current day, week, month, quarter or year in a workspace's timezone, with a stable key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PERIODS = ("day", "week", "month", "quarter", "year")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Period:
    """Local dates [start, end] (both inclusive), today's local date, and the key naming the period."""

    key: str
    start: dt.date
    end: dt.date
    today: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def zone(name: str) -> ZoneInfo:
    """The workspace's timezone; UTC when the name is unknown (a timezone database without it)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_today(now: dt.datetime, timezone: str) -> dt.date:
    """The local date at NOW (UTC-aware) in TIMEZONE."""
    return now.astimezone(zone(timezone)).date()


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return first_next - dt.timedelta(days=1)


def current_period(period: str, *, timezone: str, now: dt.datetime, week_start: int = 0) -> Period:
    """The PERIOD containing NOW in TIMEZONE; weeks start on WEEK_START (0 = Monday … 6 = Sunday)."""
    today = local_today(now, timezone)
    if period == "day":
        return Period(today.isoformat(), today, today, today)
    if period == "week":
        start = today - dt.timedelta(days=(today.weekday() - week_start) % 7)
        # Named after the ISO week of the Monday inside it: unique per week whatever day weeks start on.
        monday = start + dt.timedelta(days=(0 - start.weekday()) % 7)
        iso = monday.isocalendar()
        return Period(f"{iso.year}-W{iso.week:02d}", start, start + dt.timedelta(days=6), today)
    if period == "month":
        start = today.replace(day=1)
        return Period(f"{today.year}-{today.month:02d}", start, _month_end(today.year, today.month), today)
    if period == "quarter":
        quarter = (today.month - 1) // 3 + 1
        first_month = 3 * (quarter - 1) + 1
        start = dt.date(today.year, first_month, 1)
        return Period(f"{today.year}-Q{quarter}", start, _month_end(today.year, first_month + 2), today)
    if period == "year":
        return Period(str(today.year), dt.date(today.year, 1, 1), dt.date(today.year, 12, 31), today)
    raise ValueError(f"unknown period {period!r}")
