"""Reading fields of provider JSON defensively: a wrong type is a malformed response, never a crash."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations import http

Row = Mapping[str, Any]


def error_message(body: Any) -> str | None:
    """`{"error": {"message": …}}` (the shape all three providers use) → the message."""
    message = body["error"]["message"]
    return message if isinstance(message, str) else None


def count(label: str, row: Row, key: str, where: str) -> int:
    """An optional non-negative integer field (null or absent → 0)."""
    value = row.get(key)
    if value is None:
        return 0
    http.expect(isinstance(value, int) and not isinstance(value, bool) and value >= 0, label, f"{where}.{key}")
    return int(value)


def text(label: str, row: Row, key: str, where: str) -> str:
    """An optional string field: null or absent → ""."""
    value = row.get(key)
    if value is None:
        return ""
    http.expect(isinstance(value, str), label, f"{where}.{key} is not a string")
    return str(value)


def decimal(label: str, value: Any, what: str) -> Decimal:
    """A JSON number (or numeric string) as the exact Decimal of its text, never float arithmetic."""
    http.expect(isinstance(value, int | float | str | Decimal) and not isinstance(value, bool), label, what)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = Decimal("NaN")
    http.expect(number.is_finite(), label, f"{what} is not a number")
    return number


def utc_day(moment: dt.datetime) -> dt.datetime:
    """Midnight UTC of MOMENT's day."""
    return moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
