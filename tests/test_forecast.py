"""The forecast formula on fixed figures: spent + mean of the last 7 complete days * remaining days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from backend.services.forecast import project, remaining_days, run_rate_window
from backend.services.periods import current_period

NOW = dt.datetime(2026, 11, 22, 15, tzinfo=dt.UTC)


def test_window_is_the_seven_complete_days_before_today() -> None:
    assert run_rate_window(dt.date(2026, 11, 22)) == (dt.date(2026, 11, 15), dt.date(2026, 11, 21))
    # On the 2nd of a month it reaches back into the previous month: a run-rate, not the period's mean.
    assert run_rate_window(dt.date(2026, 12, 2)) == (dt.date(2026, 11, 25), dt.date(2026, 12, 1))


def test_projection_of_a_month() -> None:
    period = current_period("month", timezone="UTC", now=NOW)
    assert remaining_days(period) == 8  # Nov 23 … 30
    # 70.00 over the last 7 days = 10.00 a day; 8 days left.
    assert project(spent=Decimal("250.00"), window_spend=Decimal("70.00"), period=period) == Decimal("330.00")
    assert project(spent=Decimal("1.5"), window_spend=Decimal("0.7"), period=period) == Decimal("2.3")


def test_a_day_budget_forecasts_what_is_spent_and_refunds_never_lower_it() -> None:
    day = current_period("day", timezone="UTC", now=NOW)
    assert project(spent=Decimal("12.34"), window_spend=Decimal("700"), period=day) == Decimal("12.34")
    month = current_period("month", timezone="UTC", now=NOW)
    assert project(spent=Decimal("100"), window_spend=Decimal("-35"), period=month) == Decimal("100")
