"""The budget forecast: spend so far plus the recent run-rate over the period's remaining days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from backend.services.periods import Period

RUN_RATE_DAYS = 7


def run_rate_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last RUN_RATE_DAYS complete local days before TODAY (they may reach into the previous period)."""
    return today - dt.timedelta(days=RUN_RATE_DAYS), today - dt.timedelta(days=1)


def remaining_days(period: Period) -> int:
    """Whole days of the period after today (today itself is counted in the spend so far)."""
    return max((period.end - period.today).days, 0)


def project(*, spent: Decimal, window_spend: Decimal, period: Period) -> Decimal:
    """forecast = spent + (window_spend / RUN_RATE_DAYS) * remaining_days; never below what is spent."""
    rate = window_spend / RUN_RATE_DAYS
    return spent + max(rate, Decimal(0)) * remaining_days(period)
