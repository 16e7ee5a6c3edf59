"""Money as the database hands it back and as messages show it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    """A database sum as a Decimal (SQLite hands NUMERIC sums back as floats: go through their repr)."""
    if value is None:
        return Decimal(0)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def cents(value: Decimal) -> str:
    """Money for messages and JSON: a string with two decimals."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))
