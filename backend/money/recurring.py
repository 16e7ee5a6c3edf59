"""Recurring charges and income (subscriptions, rent, salary): detection, upcoming dates and period forecasts.

Transactions are grouped by merchant key and direction (money out → an "expense" stream, money in → "income");
pending ones, transfers, zero amounts and anything posted after `today` are ignored. A group is a stream when:

- its median gap between consecutive dates falls in a cadence band: weekly 6-8 days, biweekly 12-16, monthly
  28-33, yearly 360-370;
- it has at least 3 occurrences (yearly: 2);
- at least 75 % of its gaps are within the cadence's tolerance of the median gap (weekly ±1 day, biweekly ±2,
  monthly ±4 — which absorbs 28 to 31-day months and a charge moved to the next business day —, yearly ±7);
- at least 75 % of its amounts are within ±20 % or ±5.00 of the median amount, whichever is larger (so a price
  rise or one prorated charge does not hide a stream, but groceries of 20 to 150 are not a subscription).

The share rules mean one missed or odd occurrence is tolerated from 5 occurrences on; with 3 or 4 every gap
must fit.
"""

from __future__ import annotations

import calendar
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Literal

from backend.money.txn import Txn, merchant_key

Cadence = Literal["weekly", "biweekly", "monthly", "yearly"]
StreamStatus = Literal["early", "established", "ended"]
StreamKind = Literal["expense", "income"]

AMOUNT_RELATIVE = Decimal("0.20")
AMOUNT_ABSOLUTE = Decimal("5.00")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class CadenceSpec:
    """A cadence: the band its median gap falls in, how far each gap may stray, the grace before a stream ends."""

    name: Cadence
    low: int
    high: int
    tolerance: int
    grace_days: int
    min_occurrences: int
    # Fixed step in days; None for calendar steps (monthly, yearly).
    step_days: int | None


CADENCES: tuple[CadenceSpec, ...] = (
    CadenceSpec("weekly", 6, 8, 1, 4, 3, 7),
    CadenceSpec("biweekly", 12, 16, 2, 6, 3, 14),
    CadenceSpec("monthly", 28, 33, 4, 10, 3, None),
    CadenceSpec("yearly", 360, 370, 7, 30, 2, None),
)
_BY_NAME = {spec.name: spec for spec in CADENCES}


@dataclass(frozen=True)
class Stream:
    """A recurring charge or income. Amounts are signed like Txn.amount (expenses negative).

    status: "early" with the minimum occurrences (3, yearly 2), "established" with more, "ended" when today is
    past next_expected + the cadence's grace. anchor_day: the usual day of month of a monthly stream (clamped in
    short months), the day of month of the last date otherwise. category_id: the stream's most common category.
    """

    merchant_key: str
    display_name: str
    cadence: Cadence
    average_amount: Decimal
    amount_min: Decimal
    amount_max: Decimal
    last_date: date
    next_expected: date
    occurrences: int
    status: StreamStatus
    transaction_ids: list[int]
    kind: StreamKind
    anchor_day: int
    category_id: int | None = None


def _mostly(flags: Sequence[bool]) -> bool:
    """At least 75 % of FLAGS are true (integers: no float rounding)."""
    return 4 * sum(flags) >= 3 * len(flags)


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(day_in_month: date, months: int, anchor_day: int) -> date:
    index = day_in_month.year * 12 + day_in_month.month - 1 + months
    return _clamped(index // 12, index % 12 + 1, anchor_day)


def _anchor_day(items: Sequence[Txn]) -> int:
    """The most common day of month; ties go to the most recent occurrence's day."""
    counts = Counter(t.posted_on.day for t in items)
    recency = {t.posted_on.day: i for i, t in enumerate(items)}
    return max(counts, key=lambda d: (counts[d], recency[d]))


def _next_after(spec: CadenceSpec, last: date, anchor_day: int) -> date:
    if spec.step_days is not None:
        return last + timedelta(days=spec.step_days)
    if spec.name == "yearly":
        return _clamped(last.year + 1, last.month, anchor_day)
    # The first anchored date at least half a month after the last charge: a charge moved early across a month
    # end (Jan 31 for "Feb 1") is not due again the next day, one moved late (Feb 1 for "Jan 31") is due Feb 28.
    months = 0
    while (candidate := _add_months(last, months, anchor_day)) < last + timedelta(days=15):
        months += 1
    return candidate


def _display_name(txn: Txn) -> str:
    return " ".join((txn.merchant or txn.description).split())


def _category(items: Sequence[Txn]) -> int | None:
    counts = Counter(t.category_id for t in items if t.category_id is not None)
    if not counts:
        return None
    recency = {t.category_id: i for i, t in enumerate(items) if t.category_id is not None}
    return max(counts, key=lambda c: (counts[c], recency[c]))


def _detect(key: str, kind: StreamKind, items: Sequence[Txn], today: date) -> Stream | None:
    if len(items) < 2:
        return None
    gaps = [(b.posted_on - a.posted_on).days for a, b in pairwise(items)]
    median_gap = statistics.median(gaps)
    spec = next((c for c in CADENCES if c.low <= median_gap <= c.high), None)
    if spec is None or len(items) < spec.min_occurrences:
        return None
    if not _mostly([abs(gap - median_gap) <= spec.tolerance for gap in gaps]):
        return None
    amounts = [t.amount for t in items]
    median_amount = statistics.median(amounts)
    tolerance = max(abs(median_amount) * AMOUNT_RELATIVE, AMOUNT_ABSOLUTE)
    if not _mostly([abs(amount - median_amount) <= tolerance for amount in amounts]):
        return None

    last = items[-1].posted_on
    anchor_day = _anchor_day(items) if spec.name == "monthly" else last.day
    next_expected = _next_after(spec, last, anchor_day)
    if today > next_expected + timedelta(days=spec.grace_days):
        status: StreamStatus = "ended"
    else:
        status = "early" if len(items) <= spec.min_occurrences else "established"
    return Stream(
        merchant_key=key,
        display_name=_display_name(items[-1]),
        cadence=spec.name,
        average_amount=(sum(amounts, Decimal(0)) / len(amounts)).quantize(_CENT, rounding=ROUND_HALF_UP),
        amount_min=min(amounts),
        amount_max=max(amounts),
        last_date=last,
        next_expected=next_expected,
        occurrences=len(items),
        status=status,
        transaction_ids=[t.id for t in items],
        kind=kind,
        anchor_day=anchor_day,
        category_id=_category(items),
    )


def detect_recurring(txns: Iterable[Txn], today: date) -> list[Stream]:
    """The recurring streams in TXNS as of TODAY (see the module docstring), sorted by next_expected then key."""
    groups: dict[tuple[str, StreamKind], list[Txn]] = defaultdict(list)
    for txn in txns:
        if txn.pending or txn.is_transfer or txn.amount == 0 or txn.posted_on > today:
            continue
        key = merchant_key(txn)
        if key:
            groups[key, "income" if txn.amount > 0 else "expense"].append(txn)
    streams = []
    for (key, kind), items in groups.items():
        items.sort(key=lambda t: (t.posted_on, t.id))
        stream = _detect(key, kind, items, today)
        if stream is not None:
            streams.append(stream)
    return sorted(streams, key=lambda s: (s.next_expected, s.merchant_key, s.kind))


def is_active(stream: Stream, today: date) -> bool:
    """Whether STREAM has not ended as of TODAY: today ≤ next_expected + its cadence's grace."""
    return today <= stream.next_expected + timedelta(days=_BY_NAME[stream.cadence].grace_days)


def expected_dates(stream: Stream) -> Iterator[date]:
    """STREAM's expected dates from next_expected on, without end."""
    spec = _BY_NAME[stream.cadence]
    n = 0
    while True:
        if spec.step_days is not None:
            yield stream.next_expected + timedelta(days=spec.step_days * n)
        elif spec.name == "yearly":
            yield _clamped(stream.next_expected.year + n, stream.next_expected.month, stream.anchor_day)
        else:
            yield _add_months(stream.next_expected, n, stream.anchor_day)
        n += 1


def upcoming(streams: Iterable[Stream], today: date, days: int = 30) -> list[tuple[Stream, date]]:
    """Expected occurrences of the streams active today up to today + DAYS, by date then merchant key.

    A weekly stream yields several. An occurrence due today or overdue (within the grace, not posted yet) is
    listed with its own date, which may be before today: a UI can show it as late.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    horizon = today + timedelta(days=days)
    found: list[tuple[Stream, date]] = []
    for stream in streams:
        if not is_active(stream, today):
            continue
        for expected in expected_dates(stream):
            if expected > horizon:
                break
            found.append((stream, expected))
    return sorted(found, key=lambda pair: (pair[1], pair[0].merchant_key, pair[0].kind))


def due_in_period(streams: Iterable[Stream], start: date, end: date, today: date) -> Decimal:
    """Signed sum of average_amount over the active streams' occurrences still to come in [start, end].

    "Still to come": expected after today, or due today / overdue (not posted yet, or the stream would have moved
    on) — those count as today. Both bounds are inclusive, like a budget Period; expenses are negative, so pass
    only the streams that matter (e.g. expenses of one category) and negate for a spend forecast.
    """
    total = Decimal(0)
    for stream in streams:
        if not is_active(stream, today):
            continue
        for expected in expected_dates(stream):
            if expected > end:
                break
            when = max(expected, today)
            if start <= when <= end:
                total += stream.average_amount
    return total.quantize(_CENT)
